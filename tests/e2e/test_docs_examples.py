"""Swagger UI's "Try it out" (/docs, /docs/anthropic) starts from the contracts' examples: every
operation has them, and each one, sent as Swagger UI would send it to the demo service, works."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.service import RunningService

SPECS = ("/openapi.json", "/openapi/anthropic.json")
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def demo():
    running = RunningService({"POE_BASE_URL": "http://127.0.0.1:9"}, ("--demo",)).start()
    yield running
    running.stop()


def resolve(spec: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    ref = item.get("$ref")
    if not ref:
        return item
    node: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def parameter_example(parameter: dict[str, Any]) -> Any:
    if "example" in parameter:
        return parameter["example"]
    if "examples" in parameter:
        return next(iter(parameter["examples"].values()))["value"]
    return parameter.get("schema", {}).get("example")


def try_it_out_requests(spec: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(id, method, url path, httpx options) for each example, as Swagger UI fills them in."""
    requests = []
    for path, item in spec["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if not operation:
                continue
            url, headers, query = path, {"authorization": "Bearer demo-key"}, {}
            for parameter in (resolve(spec, p) for p in operation.get("parameters", [])):
                value = parameter_example(parameter)
                if value is None:
                    assert not parameter.get("required"), (
                        f"{method} {path}: required parameter {parameter['name']} has no example"
                    )
                    continue
                if parameter["in"] == "path":
                    url = url.replace("{" + parameter["name"] + "}", str(value))
                elif parameter["in"] == "header":
                    headers[parameter["name"]] = str(value)
                elif parameter["in"] == "query":
                    query[parameter["name"]] = str(value)
            body = operation.get("requestBody")
            if body is None:
                requests.append((f"{method} {path}", method, url, {"headers": headers}))
                continue
            examples = body["content"]["application/json"].get("examples", {})
            assert examples, f"{method} {path}: the request body has no example"
            for name, example in examples.items():
                options = {"headers": headers, "params": query, "json": example["value"]}
                requests.append((f"{method} {path} [{name}]", method, url, options))
    return requests


@pytest.mark.parametrize("spec_path", SPECS)
def test_every_example_works_against_the_demo(demo, spec_path):
    spec = httpx.get(demo.url + spec_path, timeout=10).json()
    requests = try_it_out_requests(spec)
    assert any("[" in name for name, *_ in requests)  # there are request-body examples
    failures = {}
    for name, method, url, options in requests:
        response = httpx.request(method, demo.url + url, timeout=30, **options)
        if not 200 <= response.status_code < 300:
            failures[name] = (response.status_code, response.text[:300])
    assert not failures, failures


def test_the_examples_use_demo_bots_and_anthropic_gets_max_tokens(demo):
    anthropic = httpx.get(demo.url + "/openapi/anthropic.json", timeout=10).json()
    messages = anthropic["paths"]["/v1/messages"]["post"]["requestBody"]["content"]
    for example in messages["application/json"]["examples"].values():
        assert example["value"]["max_tokens"] > 0
    demo_bots = {m["id"] for m in httpx.get(demo.url + "/v1/models", timeout=10).json()["data"]}
    for spec_path in SPECS:
        spec = httpx.get(demo.url + spec_path, timeout=10).json()
        for path, item in spec["paths"].items():
            body = item.get("post", {}).get("requestBody")
            for example in (
                (body or {})
                .get("content", {})
                .get("application/json", {})
                .get("examples", {})
                .values()
            ):
                assert example["value"]["model"] in demo_bots, (path, example)
