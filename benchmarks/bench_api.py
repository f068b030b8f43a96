"""Benchmark: the JSON API under load from a second process on 127.0.0.1 (SQLite).

The server (:mod:`benchmarks.api_server`: alscell's real app plus a bare FastAPI endpoint, one uvicorn
worker) runs in its own process on a temporary, migrated SQLite database seeded through the services
with a site, a physician with an API token, and patients with a diagnosis. This process is the load
generator: 32 keep-alive connections (16 for writers), each an ``httpx.AsyncClient`` limited to one,
sending a fixed number of requests under a time cap, after a warm-up.

- Reads: ``GET /bench/bare`` (the reference) and ``GET /api/v1/patients/{id}`` with the bearer token,
  interleaved in rounds on the same server; the best throughput of each is compared (target: reading
  a patient at least 40 % of the bare throughput). Each answer must be the patient asked for.
- Writes: 16 writers ``POST .../alsfrs-ratings``, each on its own (patient, day). Every answer must
  be 201; afterwards the server is stopped and the rows in the database must be exactly the ratings
  acknowledged, and the audit trail must verify.

Any error response, transport error, wrong patient, lost or unacknowledged row, or audit break raises
:class:`~benchmarks.common.CorrectnessError`; the speed figures are ratios, never asserted.

    .venv/bin/python -m benchmarks.bench_api [--quick]
"""

from __future__ import annotations

import asyncio
import contextlib
import selectors
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Final

import httpx
import sqlalchemy as sa

from alscell.domain.access import Role
from alscell.services import admin, auth, patients
from alscell.services.audit import Break, verify_trail
from alscell.storage import migrate
from alscell.storage.models import AlsfrsRating
from alscell.storage.session import make_engine, make_session_factory
from benchmarks.api_server import BARE_BODY, BARE_PATH
from benchmarks.common import CorrectnessError, Line, Measure, print_lines, section_main

API: Final = "/api/v1"
READERS: Final = 32
WRITERS: Final = 16
NOW: Final = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
"""When the seed data are recorded (the server itself uses the real clock)."""
FIRST_RATED_ON: Final = date(2015, 1, 1)
ITEMS: Final = dict.fromkeys(
    ("q1", "q2", "q3", "q4", "q5a", "q6", "q7", "q8", "q9", "q10", "q11", "q12"), 4
) | {"q4": 3, "q8": 3}
DIAGNOSIS: Final = patients.DiagnosisInput(
    onset_on=date(2024, 3, 10), onset_site="spinal", diagnosis_on=date(2024, 11, 20),
    familial=False, el_escorial="probable",
)  # fmt: skip
PROJECT: Final = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, slots=True)
class Sizes:
    """How much load: requests per read round, writes, warm-up requests, rounds, seconds per run."""

    patients: int
    reads: int
    writes: int
    warmup: int
    rounds: int
    cap_seconds: float


FULL: Final = Sizes(patients=50, reads=3_000, writes=1_500, warmup=300, rounds=3, cap_seconds=20)
QUICK: Final = Sizes(patients=10, reads=300, writes=160, warmup=50, rounds=1, cap_seconds=10)


@dataclass(frozen=True, slots=True)
class Seeded:
    """What the load generator needs: the physician's API token and the patients' study codes by id."""

    token: str
    patients: dict[int, str]


@dataclass(slots=True)
class Load:
    """One load run: wall and client CPU seconds, each completed request's latency, and failures."""

    seconds: float = 0.0
    cpu_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds

    def ms(self, percent: int) -> float:
        """The ``percent``-th percentile of latency, in milliseconds."""
        return statistics.quantiles(self.latencies, n=100)[percent - 1] * 1000


Send = Callable[[httpx.AsyncClient, int], Awaitable[str | None]]
"""Sends request number ``n``; returns what was wrong with the answer, or None."""


def run(quick: bool) -> list[Line]:
    sizes = QUICK if quick else FULL
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        seeded = seed(url, sizes.patients)
        acknowledged: list[int] = []
        with serving(url) as base_url:
            bare, reads = asyncio.run(measure_reads(base_url, seeded, sizes))
            writes = asyncio.run(measure_writes(base_url, seeded, sizes, acknowledged))
        stored, breaks = stored_ratings(url)
    lines = [read_line(bare, reads, sizes), write_line(writes, acknowledged, stored, sizes)]
    problems = writes.failures + _lost(acknowledged, stored) + [str(b) for b in breaks]
    if problems:
        print_lines(lines)
        raise CorrectnessError(f"API writes: {len(problems)} problems; first: {problems[:3]}")
    return lines


def seed(database_url: str, count: int) -> Seeded:
    """A migrated database with a site, a physician (and API token) and ``count`` diagnosed patients."""
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine)
        with make_session_factory(engine)() as session:
            root = admin.create_first_admin(
                session, username="admin", full_name="Bench Admin", now=NOW
            )
            site = admin.create_site(
                session, code="BENCH", name="Benchmark clinic", by=root, now=NOW
            )
            doctor = admin.create_user(session, username="dr-bench", full_name="Dr Bench", role=Role.PHYSICIAN,
                                       site_id=site.id, by=root, now=NOW)  # fmt: skip
            token = auth.create_api_token(session, user=doctor, name="bench", by=doctor, now=NOW)
            codes: dict[int, str] = {}
            for number in range(1, count + 1):
                patient = patients.register_patient(
                    session, study_code=f"BENCH-{number:03d}", site_id=site.id, given_name="Alex",
                    family_name="Doe", birth_on=date(1960, 1, 1), sex="female", by=doctor, now=NOW,
                )  # fmt: skip
                patients.record_diagnosis(
                    session, patient_id=patient.id, diagnosis=DIAGNOSIS, by=doctor, now=NOW
                )
                codes[patient.id] = patient.study_code
    finally:
        engine.dispose()
    return Seeded(token.secret, codes)


@contextlib.contextmanager
def serving(database_url: str) -> Iterator[str]:
    """The benchmark server in its own process, answering; its base URL. Always stopped afterwards."""
    command = [sys.executable, "-m", "benchmarks.api_server", database_url]
    server = subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.PIPE, text=True)
    try:
        base_url = f"http://127.0.0.1:{_announced_port(server)}"
        _wait_until_answering(server, base_url)
        yield base_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _announced_port(server: subprocess.Popen[str], timeout: float = 60) -> int:
    assert server.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(server.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise RuntimeError(f"the benchmark server did not start within {timeout:g} s")
    line = server.stdout.readline()
    if not line.startswith("port "):
        raise RuntimeError(f"the benchmark server exited ({server.poll()}) instead of listening")
    return int(line.split()[1])


def _wait_until_answering(
    server: subprocess.Popen[str], base_url: str, timeout: float = 30
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(base_url + BARE_PATH, timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the benchmark server did not answer within {timeout:g} s")


# The load generator is async because one thread must keep 32 connections busy at once.
async def drive(
    clients: Sequence[httpx.AsyncClient], send: Send, *, first: int, count: int, cap_seconds: float
) -> Load:
    """Requests ``first`` .. ``first + count - 1``, one connection per client, until the time cap."""
    load = Load()
    numbers = iter(range(first, first + count))  # shared: each number is sent once
    deadline = time.perf_counter() + cap_seconds

    async def connection(client: httpx.AsyncClient) -> None:
        for number in numbers:
            if time.perf_counter() > deadline:
                return
            start = time.perf_counter()
            try:
                failure = await send(client, number)
            except httpx.TransportError as error:
                failure = f"request {number}: {type(error).__name__}: {error!r}"
            load.latencies.append(time.perf_counter() - start)
            if failure is not None:
                load.failures.append(failure)

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(connection(client) for client in clients))
    load.seconds, load.cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu
    return load


@contextlib.asynccontextmanager
async def connections(
    base_url: str, count: int, token: str
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """``count`` clients of one keep-alive connection each: ``count`` concurrent connections in all.

    One client per connection rather than one pool of ``count``: httpcore's pool spends CPU per
    request that grows with its size (measured here: about three times a single connection's at 32),
    which would make the load generator, not the server, the limit of the bare reference.
    """
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=30)
            )
            for _ in range(count)
        ]
        yield clients


async def get_bare(client: httpx.AsyncClient, number: int) -> str | None:
    response = await client.get(BARE_PATH)
    if response.status_code != 200 or response.json() != BARE_BODY:
        return f"bare request {number}: {response.status_code} {response.text[:200]}"
    return None


def get_patient(codes: dict[int, str]) -> Send:
    """Reads patient ``n`` (rotating over the seeded ones) and checks it is the one asked for."""
    ids = sorted(codes)

    async def send(client: httpx.AsyncClient, number: int) -> str | None:
        patient_id = ids[number % len(ids)]
        response = await client.get(f"{API}/patients/{patient_id}")
        if response.status_code != 200:
            return f"GET patient {patient_id}: {response.status_code} {response.text[:200]}"
        body = response.json()
        if (body.get("id"), body.get("study_code")) != (patient_id, codes[patient_id]):
            return f"GET patient {patient_id} ({codes[patient_id]}) answered {body}"
        return None

    return send


def post_rating(codes: dict[int, str], acknowledged: list[int]) -> Send:
    """Records rating ``n``: patient ``n mod P`` on day ``n div P``, so no two share a (patient, day)."""
    ids = sorted(codes)

    async def send(client: httpx.AsyncClient, number: int) -> str | None:
        patient_id = ids[number % len(ids)]
        rated_on = FIRST_RATED_ON + timedelta(days=number // len(ids))
        body = {"rated_on": rated_on.isoformat(), "items": ITEMS}
        response = await client.post(f"{API}/patients/{patient_id}/alsfrs-ratings", json=body)
        if response.status_code != 201:
            return f"POST rating {number}: {response.status_code} {response.text[:200]}"
        acknowledged.append(int(response.json()["id"]))
        return None

    return send


async def measure_reads(base_url: str, seeded: Seeded, sizes: Sizes) -> tuple[Load, Load]:
    """Bare and patient reads, warmed up, then interleaved in rounds; the fastest round of each."""
    best: dict[str, Load] = {}
    jobs: dict[str, Send] = {"bare": get_bare, "patient": get_patient(seeded.patients)}
    async with connections(base_url, READERS, seeded.token) as clients:
        for name, send in jobs.items():
            await _drive_checked(clients, send, name, count=sizes.warmup, sizes=sizes)
        for _ in range(sizes.rounds):
            for name, send in jobs.items():
                load = await _drive_checked(clients, send, name, count=sizes.reads, sizes=sizes)
                if name not in best or load.throughput > best[name].throughput:
                    best[name] = load
    return best["bare"], best["patient"]


async def _drive_checked(
    clients: Sequence[httpx.AsyncClient], send: Send, name: str, *, count: int, sizes: Sizes
) -> Load:
    load = await drive(clients, send, first=0, count=count, cap_seconds=sizes.cap_seconds)
    if load.failures:
        raise CorrectnessError(
            f"{name} reads: {len(load.failures)} failed; first: {load.failures[:3]}"
        )
    return load


async def measure_writes(
    base_url: str, seeded: Seeded, sizes: Sizes, acknowledged: list[int]
) -> Load:
    """16 writers recording ratings after a warm-up; the warm-up's failures count too."""
    send = post_rating(seeded.patients, acknowledged)
    async with connections(base_url, WRITERS, seeded.token) as clients:
        warm = await drive(
            clients, send, first=0, count=sizes.warmup, cap_seconds=sizes.cap_seconds
        )
        load = await drive(clients, send, first=sizes.warmup, count=sizes.writes,
                           cap_seconds=sizes.cap_seconds)  # fmt: skip
    load.failures[:0] = warm.failures
    return load


def stored_ratings(database_url: str) -> tuple[set[int], list[Break]]:
    """The ids of every ALSFRS-R rating in the database, and the audit trail's breaks."""
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            ids = set(session.execute(sa.select(AlsfrsRating.id)).scalars())
            breaks = verify_trail(session)
    finally:
        engine.dispose()
    return ids, breaks


def _lost(acknowledged: list[int], stored: set[int]) -> list[str]:
    lost = sorted(set(acknowledged) - stored)
    unacknowledged = sorted(stored - set(acknowledged))
    problems = [f"rating {i} acknowledged (201) but not in the database" for i in lost]
    problems += [f"rating {i} in the database but never acknowledged" for i in unacknowledged]
    if len(acknowledged) != len(set(acknowledged)):
        problems.append("the same rating id was acknowledged twice")
    return problems


def read_line(bare: Load, reads: Load, sizes: Sizes) -> Line:
    ratio = reads.throughput / bare.throughput
    client_busy = bare.cpu_seconds / bare.seconds
    bound = " (bare is limited by the load generator: the ratio is an upper bound)"
    bound = bound if client_busy > 0.85 else ""
    return Line(
        what="API read: a patient record",
        size=f"{READERS} connections, {sizes.reads:,} requests, best of {sizes.rounds}",
        alscell=Measure(reads.throughput, "req/s"),
        reference_name="bare FastAPI",
        reference=Measure(bare.throughput, "req/s"),
        ratio=ratio,
        ratio_means="patient read / bare FastAPI",
        target="≥ 0.40",
        met=ratio >= 0.40,
        detail=(
            f"{_sent(reads, sizes.reads)}patient read p50 {reads.ms(50):.1f} ms, p99 {reads.ms(99):.1f} ms; bare p50 "
            f"{bare.ms(50):.1f} ms, p99 {bare.ms(99):.1f} ms; load generator CPU {client_busy:.0%} "
            f"of wall time on bare, {reads.cpu_seconds / reads.seconds:.0%} on patient reads{bound}"
        ),
    )


def write_line(writes: Load, acknowledged: list[int], stored: set[int], sizes: Sizes) -> Line:
    lost = len(set(acknowledged) - stored)
    errors = len(writes.failures)
    return Line(
        what="API write: ALSFRS-R on SQLite",
        size=f"{WRITERS} writers, {sizes.writes:,} writes",
        alscell=Measure(writes.throughput, "writes/s"),
        target="0 errors, 0 lost",
        met=errors == 0 and lost == 0,
        detail=(
            f"{_sent(writes, sizes.writes)}p50 {writes.ms(50):.1f} ms, p99 {writes.ms(99):.1f} ms "
            f"after {sizes.warmup} warm-up writes; {len(acknowledged):,} acknowledged in all, "
            f"{len(stored):,} rows stored; errors {errors}, lost {lost}"
        ),
    )


def _sent(load: Load, planned: int) -> str:
    done = len(load.latencies)
    return "" if done == planned else f"time cap reached after {done:,} of {planned:,}; "


if __name__ == "__main__":
    section_main(run)
