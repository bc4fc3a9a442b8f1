"""Schemathesis runs the live service against openapi/ops.yaml (liveness and metrics): every
operation with all checks, with the metrics token and without it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from service.contracts import OPENAPI_DIR
from tests.support.service import RunningService

schema = schemathesis.openapi.from_path(OPENAPI_DIR / "ops.yaml")
TOKEN = "metrics-token-for-the-contract"
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def ops_service(fake_poe) -> Iterator[RunningService]:
    running = RunningService({"POE_BASE_URL": fake_poe.url, "METRICS_TOKEN": TOKEN}).start()
    yield running
    running.stop()


@schema.parametrize()
@SETTINGS
def test_ops_honour_their_contract_with_the_token(case, ops_service):
    case.call_and_validate(base_url=ops_service.url, headers={"Authorization": f"Bearer {TOKEN}"})


@schema.parametrize()
@SETTINGS
def test_ops_honour_their_contract_without_it(case, ops_service):
    response = case.call_and_validate(base_url=ops_service.url)
    if case.path == "/metrics" and case.method.upper() == "GET":
        assert response.status_code == 401  # never the metrics without credentials
