"""Browser tests: Debian's Chromium driven by Playwright, against a real server on 127.0.0.1.

The server is `uvicorn alscell.web.app:create_app` in a subprocess, with its own SQLite file, started
and stopped by the fixtures. Playwright never downloads a browser: it launches /usr/bin/chromium.
Screenshots of the main pages are saved in test-artifacts/screenshots/. Run with ``--e2e``
(``make test`` does).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy.orm import Session

from alscell.domain.access import Role
from alscell.domain.dosing import TestResult
from alscell.domain.product import ReleaseCriteria
from alscell.services import admin, products, protocols
from alscell.storage import migrate
from alscell.storage.models import ProductUnit, User
from alscell.storage.protocol_files import builtin_protocol_path
from alscell.storage.session import make_engine, make_session_factory
from tests.server import serve

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "a long and private passphrase"
UNIT_IDS = (
    "G123498654321H",
    "A999916123456Q",
    "A999922654321S",
    "A999922123458J",
    "A999914123456N",
)
"""Units with published ISBT 128 check characters (UK Red Book Annexe 2; ICCBBA IN-015)."""
RELEASED, QUARANTINED = UNIT_IDS[:4], UNIT_IDS[4]
UNIT_EXPIRY = date(2030, 12, 31)  # the server runs on the real clock: the units must outlive it
STAFF = {
    "dr-lee": Role.PHYSICIAN,
    "nina": Role.NURSE,
    "coco": Role.COORDINATOR,
    "lab": Role.CELL_LAB,
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--e2e"):
        return
    skip = pytest.mark.skip(reason="browser test: run with --e2e")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


def seed_clinic(url: str) -> None:
    """A site, its staff with passwords, the seed protocol loaded and its analysis plan locked."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    now = datetime(2025, 12, 1, 9, tzinfo=UTC)
    with make_session_factory(engine)() as session:
        boss = admin.create_first_admin(
            session, username="ada", full_name="Ada Admin", now=now, password=PASSWORD
        )
        site = admin.create_site(session, code="AMS", name="Amsterdam clinic", by=boss, now=now)
        users = {
            username: admin.create_user(session, username=username, full_name=username.replace("-", " ").title(),
                                        role=role, site_id=site.id, by=boss, now=now, password=PASSWORD)
            for username, role in STAFF.items()
        }  # fmt: skip
        text = builtin_protocol_path().read_text(encoding="utf-8")
        version = protocols.load_protocol_version(
            session, text=text, source="als-nsc-4lp.yaml", by=boss, now=now
        )
        protocols.lock_analysis_plan(session, protocol_id=version.id, by=boss, now=now)
        _stock_units(session, site.id, lab=users["lab"])
    engine.dispose()


def _stock_units(session: Session, site_id: int, *, lab: User) -> None:
    """A lot of five units of the seed product: the first four released, the last still in quarantine."""
    when = datetime(2026, 2, 25, 9, tzinfo=UTC)
    inputs = [products.UnitInput(unit_id=uid, cells=5e6, volume_ml=2.0, endotoxin_eu=2.0, expires_on=UNIT_EXPIRY)
              for uid in UNIT_IDS]  # fmt: skip
    lot = products.register_lot(session, lot_code="NSC-2602", site_id=site_id, product_name="NSC", source="xenogeneic",
                                cell_type="neural stem cells", manufactured_on=date(2026, 2, 20),
                                received_on=date(2026, 2, 25), units=inputs, by=lab, now=when)  # fmt: skip
    units = {
        unit.din: unit
        for unit in session.scalars(sa.select(ProductUnit).where(ProductUnit.lot_id == lot.id))
    }
    passing = {
        "sterility": None,
        "gram_stain": None,
        "mycoplasma": None,
        "endotoxin": 2.0,
        "viability": 92.0,
    }
    for uid in RELEASED:
        unit = units[uid[:-1]]  # the DIN without its check character
        for test, value in passing.items():
            products.record_release_test(session, unit_id=unit.id, test=test, result=TestResult.PASS, value=value,
                                         tested_on=date(2026, 2, 25), by=lab, now=when)  # fmt: skip
        products.release_unit(
            session, unit_id=unit.id, criteria=ReleaseCriteria(), by=lab, now=when
        )


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port; its base URL."""
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'clinic.sqlite3'}"
    seed_clinic(url)
    with serve(url) as base:
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def sign_in(page: Page, server: str, username: str) -> None:
    """Sign in through the login form."""
    page.goto(f"{server}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server}/today")


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
