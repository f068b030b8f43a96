"""The browser can reach the server: sign in and see Today (a quick check before the long journey)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot, sign_in

pytestmark = pytest.mark.e2e


def test_sign_in_and_see_today(page: Page, server: str) -> None:
    page.goto(f"{server}/patients")
    expect(page).to_have_url(f"{server}/login?next=%2Fpatients")
    screenshot(page, "login")

    sign_in(page, server, "nina")

    expect(page.get_by_role("heading", level=1)).to_contain_text("Today")
    expect(page.get_by_text("Nina · nurse")).to_be_visible()
    screenshot(page, "today")
