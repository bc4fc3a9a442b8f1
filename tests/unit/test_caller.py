from __future__ import annotations

import pytest

from service.access.caller import Caller, presented_key
from service.errors import ServiceError

KEY = "poe-secret-0123456789"


@pytest.mark.parametrize(
    "headers",
    [{"authorization": f"Bearer {KEY}"}, {"x-api-key": KEY}, {"api-key": f" {KEY} "}],
)
def test_the_key_comes_from_any_header_the_fronts_accept(headers):
    caller = Caller(presented_key(headers))
    assert caller.poe_key.get_secret_value() == KEY
    assert KEY not in repr(caller) and KEY not in str(caller)


@pytest.mark.parametrize("headers", [{}, {"authorization": "Basic abc"}, {"x-api-key": "  "}])
def test_no_key_is_a_401(headers):
    with pytest.raises(ServiceError) as caught:
        presented_key(headers)
    assert (caught.value.status, caught.value.code) == (401, "invalid_api_key")
