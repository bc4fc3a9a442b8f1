"""Schemathesis runs the live service against openapi/admin.yaml: every operation with all
checks, and stateful sequences that follow the contract's links (read the revision, save with
it)."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from pydantic import ValidationError
from schemathesis.specs.openapi.checks import positive_data_acceptance

from generated.admin import ModelsConfig
from service.contracts import OPENAPI_DIR
from tests.support.service import RunningService

schema = schemathesis.openapi.from_path(OPENAPI_DIR / "admin.yaml")
PASSWORD = "contract-test-password"
BASIC = {"Authorization": "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()}
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def admin_service(fake_poe) -> Iterator[RunningService]:
    running = RunningService({"POE_BASE_URL": fake_poe.url, "ADMIN_PASSWORD": PASSWORD}).start()
    yield running
    running.stop()


def _claims(body: object) -> list[str]:
    if not isinstance(body, dict):
        return []
    models = body.get("models") if isinstance(body.get("models"), dict) else {}
    names = [
        s["mapping"].lower()
        for s in models.values()
        if isinstance(s, dict) and isinstance(s.get("mapping"), str)
    ]
    custom = body.get("custom_models") if isinstance(body.get("custom_models"), list) else []
    names += [
        c["id"].lower() for c in custom if isinstance(c, dict) and isinstance(c.get("id"), str)
    ]
    return names


def _duplicates(case) -> bool:
    # Uniqueness of aliases cannot be said in JSON Schema: such bodies must get a 400 naming it.
    claims = _claims(case.body) if case.operation.method == "put" else []
    return len(claims) != len(set(claims))


def _valid_config(body: object) -> bool:
    try:
        ModelsConfig.model_validate(body, strict=True)
    except ValidationError:
        return False
    return True


def _check(case, url: str):
    if _duplicates(case):
        response = case.call_and_validate(
            base_url=url, headers=BASIC, excluded_checks=[positive_data_acceptance]
        )
        if response.status_code == 400 and _valid_config(case.body):
            # Otherwise valid, so the duplicate is what must be named (an empty id or a field
            # of the wrong type is refused first, and rightly so).
            assert response.json()["error"]["code"] == "duplicate_alias"
        return
    case.call_and_validate(base_url=url, headers=BASIC)


@schema.parametrize()
@SETTINGS
def test_admin_api_honours_its_contract(case, admin_service):
    _check(case, admin_service.url)


def test_admin_api_stateful(admin_service):
    class AdminMachine(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"base_url": admin_service.url, "headers": BASIC}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            if not _duplicates(case):
                return super().validate_response(response, case, additional_checks, **kwargs)
            case.validate_response(
                response, excluded_checks=[positive_data_acceptance], transport_kwargs=kwargs
            )
            if response.status_code == 400:
                assert response.json()["error"]["code"] == "duplicate_alias"
            return None

    AdminMachine.run(
        settings=settings(
            max_examples=25,
            stateful_step_count=5,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
