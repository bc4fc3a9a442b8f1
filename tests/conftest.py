from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import settings

from tests.support.fake_poe import FakePoe
from tests.support.postgres import PostgresServer
from tests.support.service import ROOT, RunningService

# No example database: a failure Hypothesis once found in ./.hypothesis would be replayed on
# every later run, red for an unrelated change. Each failure prints its example and a
# @reproduce_failure blob instead.
settings.register_profile("project", database=None, print_blob=True)
settings.load_profile("project")


@pytest.fixture(scope="session")
def fake_poe() -> Iterator[FakePoe]:
    server = FakePoe().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _reset_fake_poe(request: pytest.FixtureRequest) -> None:
    if "fake_poe" in request.fixturenames:
        request.getfixturevalue("fake_poe").reset()


@pytest.fixture(scope="session")
def service(fake_poe: FakePoe) -> Iterator[RunningService]:
    """The real service, pointed at the fake Poe, shared by the whole session."""
    running = RunningService(
        {"POE_BASE_URL": fake_poe.url, "POE_FILE_UPLOAD_URL": fake_poe.url + "/file_upload"}
    ).start()
    yield running
    running.stop()


@pytest.fixture
def start_service() -> Iterator[Callable[..., RunningService]]:
    """A private service instance with its own environment, stopped after the test."""
    started: list[RunningService] = []

    def start(
        env: dict[str, str | None] | None = None,
        args: tuple[str, ...] = (),
        cwd: Path = ROOT,
        timeout: float = 20,
    ) -> RunningService:
        running = RunningService(env or {}, args, cwd).start(timeout)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def http(service: RunningService) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.url, timeout=30) as client:
        yield client


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the session (started on first use); `new_database()`."""
    server = PostgresServer().start()
    yield server
    server.stop()


class Backend:
    """One of the service's two databases, for repository tests: `open()` a new Database on
    the same storage (as another worker would), `on_disk()` every byte it wrote."""

    def __init__(self, name: str, tmp_path: Path, server: PostgresServer | None) -> None:
        self.name = name
        self._path = tmp_path / "p2o.db"
        self.server = server
        self._url = server.new_database() if server else None

    def open(self):
        from service.storage.database import Database

        if self._url is None:
            return Database.sqlite(self._path)
        return Database.postgres(self._url.replace("postgresql://", "postgresql+asyncpg://"))

    def on_disk(self) -> bytes:
        if self.server is not None:
            return self.server.on_disk()
        return b"".join(p.read_bytes() for p in self._path.parent.iterdir() if p.is_file())


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    server = request.getfixturevalue("postgres") if request.param == "postgresql" else None
    return Backend(request.param, tmp_path, server)
