"""What every route shares: error bodies, request ids, CORS, health, the contract and /docs."""

from __future__ import annotations

import re

import httpx
import pytest

ERROR_KEYS = {"message", "type", "param", "code"}


def assert_openai_error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == ERROR_KEYS
    assert error["message"]
    return error


def test_unknown_path_is_404_in_openai_shape(http):
    error = assert_openai_error(http.get("/v1/nope"), 404)
    assert error["type"] == "invalid_request_error"
    assert "/v1/nope" in error["message"]


@pytest.mark.parametrize("path", ["/v1/models", "/v1/models/echobot", "/healthz"])
def test_wrong_method_is_405_with_allow(http, path):
    response = http.delete(path)
    error = assert_openai_error(response, 405)
    assert error["code"] == "method_not_allowed"
    assert "GET" in response.headers["allow"]


def test_body_over_max_request_size_is_413(start_service, fake_poe):
    running = start_service({"POE_BASE_URL": fake_poe.url, "MAX_REQUEST_SIZE": "2048"})
    response = httpx.post(
        running.url + "/v1/chat/completions",
        content=b"x" * 4096,
        headers={"content-type": "application/json"},
    )
    error = assert_openai_error(response, 413)
    assert error["code"] == "request_too_large"
    assert "2048" in error["message"]
    # The service keeps serving afterwards.
    assert httpx.get(running.url + "/healthz").status_code == 200


@pytest.mark.parametrize("path", ["/v1/models", "/v1/nope", "/healthz", "/docs"])
def test_every_response_has_a_request_id(http, path):
    rid = http.get(path).headers["x-request-id"]
    assert re.fullmatch(r"req_[0-9a-f]{32}", rid)


def test_safe_client_request_id_is_echoed_and_unsafe_one_replaced(http):
    assert (
        http.get("/healthz", headers={"x-request-id": "abc-123"}).headers["x-request-id"]
        == "abc-123"
    )
    replaced = http.get("/healthz", headers={"x-request-id": "bad id\twith junk"})
    assert replaced.headers["x-request-id"].startswith("req_")


def test_health(http):
    response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


STAINLESS = (
    "authorization, content-type, x-stainless-os, x-stainless-lang, "
    "x-stainless-package-version, x-stainless-retry-count, x-stainless-timeout"
)


@pytest.mark.parametrize(
    "path", ["/v1/models", "/models", "/v1/models/echobot", "/v1/models/", "/openapi.json"]
)
def test_cors_preflight_allows_sdk_headers(http, path):
    response = http.options(
        path,
        headers={
            "origin": "https://chatbox.example",
            "access-control-request-method": "GET",
            "access-control-request-headers": STAINLESS,
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    allowed = {h.strip() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {
        "authorization",
        "content-type",
        "x-stainless-os",
        "x-stainless-timeout",
        "api-key",
        "x-api-key",
        "openai-organization",
        "openai-project",
    } <= allowed
    assert "GET" in response.headers["access-control-allow-methods"]


def test_cors_headers_on_success_and_on_errors(http):
    for response in (
        http.get("/v1/models", headers={"origin": "https://a.example"}),
        http.get("/v1/nope", headers={"origin": "https://a.example"}),
        http.get("/v1/models/missing", headers={"origin": "https://a.example"}),
    ):
        assert response.headers["access-control-allow-origin"] == "*"
        exposed = response.headers["access-control-expose-headers"]
        assert "x-request-id" in exposed and "retry-after" in exposed


def test_cors_origin_list_reflects_only_listed_origins(start_service, fake_poe):
    running = start_service(
        {"POE_BASE_URL": fake_poe.url, "CORS_ALLOW_ORIGINS": "https://good.example"}
    )
    good = httpx.get(running.url + "/healthz", headers={"origin": "https://good.example"})
    assert good.headers["access-control-allow-origin"] == "https://good.example"
    assert good.headers["vary"] == "Origin"
    bad = httpx.get(running.url + "/healthz", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in bad.headers


def test_openapi_json_lists_the_paths(http):
    spec = http.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert {"/v1/models", "/v1/models/{model}", "/v1/chat/completions"} <= set(spec["paths"])
    anthropic = http.get("/openapi/anthropic.json").json()
    assert {"/v1/messages", "/v1/messages/count_tokens"} <= set(anthropic["paths"])
    assert 'data-spec="/openapi/anthropic.json"' in http.get("/docs/anthropic").text


def test_docs_load_nothing_from_outside(http):
    page = http.get("/docs")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert refs, "the page references its assets"
    for ref in refs:
        assert ref.startswith("/"), f"/docs loads {ref} from outside the service"
        assert http.get(ref).status_code == 200, ref
    init = http.get("/docs/assets/docs-init.js").text
    assert "/openapi.json" in init and "validatorUrl: null" in init
