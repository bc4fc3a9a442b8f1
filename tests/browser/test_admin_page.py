"""The admin page (/admin) in a real browser against the real service and the fake Poe.

Every page is watched (conftest.py): a console error, an uncaught exception, a dialog or a
request outside the service's origin fails the test.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import yaml
from playwright.sync_api import Page, expect

from tests.browser.conftest import TIMEOUT_MS

PASSWORD = "browser-test-password"
CREDENTIALS = ("admin", PASSWORD)
HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture
def admin_service(start_service, fake_poe, tmp_path):
    """The service with the admin on, and a models.yaml holding keys the page does not know."""
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "models.yaml").write_text(
        "# a hand-written file\n"
        "enable: true\n"
        "notes: kept by the page\n"
        "models:\n"
        "  claude-sonnet-4.6:\n"
        "    future_setting: 7\n"
    )
    return start_service(
        {
            "POE_BASE_URL": fake_poe.url,
            "ADMIN_USERNAME": "admin",
            "ADMIN_PASSWORD": PASSWORD,
            "POE_API_KEY": "pk-browser-test-abcdefgh",
            "CONFIG_DIR": str(config_dir),
        }
    )


def row(page: Page, model_id: str):
    return page.locator(f'[data-testid="model-row"][data-model-id="{model_id}"]')


def visible_rows(page: Page):
    return page.locator('[data-testid="model-row"]:visible')


def public_ids(url: str) -> list[str]:
    response = httpx.get(url + "/v1/models", timeout=5)
    assert response.status_code == 200
    return [m["id"] for m in response.json()["data"]]


def screenshot(page: Page, path: Path) -> None:
    page.evaluate("window.scrollTo(0, 0)")  # the sticky bar belongs at the top
    page.screenshot(path=str(path), full_page=True)


def on_disk(service) -> dict:
    return yaml.safe_load((Path(service.config_dir) / "models.yaml").read_text())


def test_edit_save_reload(admin_service, open_page, artifacts):
    page, watch = open_page(admin_service.url, CREDENTIALS, color_scheme="light")
    page.goto(admin_service.url + "/admin")

    # Both of Poe's models are listed, with what Poe says about them.
    expect(page.get_by_test_id("model-row")).to_have_count(2)
    claude, echobot = row(page, "claude-sonnet-4.6"), row(page, "echobot")
    expect(claude).to_be_visible()
    expect(echobot).to_be_visible()
    expect(claude.get_by_test_id("price")).to_have_text("$2.60 / $13.00")
    expect(claude).to_contain_text("Anthropic")
    expect(claude).to_contain_text("983K")
    expect(claude).to_contain_text("image")
    expect(page.get_by_test_id("status-config-dir")).to_have_text(str(admin_service.config_dir))
    expect(page.get_by_test_id("status-key")).to_have_text("pk-…efgh")
    expect(page.get_by_test_id("overlay-enable")).to_be_checked()
    expect(page.get_by_test_id("save")).to_be_disabled()
    expect(page.get_by_test_id("dirty-indicator")).to_be_hidden()
    screenshot(page, artifacts / "admin-light.png")

    # Search and filters.
    page.get_by_test_id("search").fill("claude")
    expect(visible_rows(page)).to_have_count(1)
    expect(claude).to_be_visible()
    expect(echobot).to_be_hidden()
    page.get_by_test_id("search").fill("")
    page.get_by_test_id("filter-custom").click()
    expect(visible_rows(page)).to_have_count(0)
    expect(page.get_by_test_id("empty")).to_be_visible()
    page.get_by_test_id("filter-all").click()
    expect(visible_rows(page)).to_have_count(2)

    # An alias for Claude, echobot hidden.
    claude.get_by_test_id("alias-input").fill("my-claude")
    echobot.get_by_test_id("shown-toggle").uncheck()
    expect(page.get_by_test_id("dirty-indicator")).to_be_visible()
    expect(claude.get_by_test_id("alias-badge")).to_have_text("as my-claude")
    page.get_by_test_id("filter-hidden").click()
    expect(visible_rows(page)).to_have_count(1)
    expect(echobot).to_be_visible()
    page.get_by_test_id("filter-aliased").click()
    expect(visible_rows(page)).to_have_count(1)
    expect(claude).to_be_visible()
    page.get_by_test_id("filter-all").click()

    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("message")).to_have_attribute("data-kind", "success")
    expect(page.get_by_test_id("message-text")).to_contain_text("Saved")
    expect(page.get_by_test_id("dirty-indicator")).to_be_hidden()

    page.reload()
    expect(row(page, "claude-sonnet-4.6").get_by_test_id("alias-input")).to_have_value("my-claude")
    expect(row(page, "echobot").get_by_test_id("shown-toggle")).not_to_be_checked()
    expect(page.get_by_test_id("dirty-indicator")).to_be_hidden()

    ids = public_ids(admin_service.url)
    assert "my-claude" in ids
    assert "echobot" not in ids
    assert "claude-sonnet-4.6" not in ids
    # The page edited the file's configuration in place: unknown keys are still there.
    assert on_disk(admin_service) == {
        "enable": True,
        "notes": "kept by the page",
        "models": {
            "claude-sonnet-4.6": {"future_setting": 7, "mapping": "my-claude"},
            "echobot": {"enable": False},
        },
    }

    # A custom model.
    page.get_by_test_id("custom-id").fill("my-private-bot")
    page.get_by_test_id("custom-name").fill("My Private Bot")
    page.get_by_test_id("add-custom").click()
    custom = row(page, "my-private-bot")
    expect(custom).to_be_visible()
    expect(custom).to_have_attribute("data-source", "custom")
    page.get_by_test_id("filter-custom").click()
    expect(visible_rows(page)).to_have_count(1)
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("message")).to_have_attribute("data-kind", "success")
    page.reload()
    expect(row(page, "my-private-bot")).to_be_visible()
    expect(row(page, "my-private-bot").get_by_test_id("display-name-input")).to_have_value(
        "My Private Bot"
    )
    ids = public_ids(admin_service.url)
    assert "my-private-bot" in ids
    saved = on_disk(admin_service)
    assert saved["custom_models"][0]["id"] == "my-private-bot"
    assert saved["custom_models"][0]["display_name"] == "My Private Bot"

    # Clearing the alias removes `mapping`; a model left with no settings leaves `models`.
    claude = row(page, "claude-sonnet-4.6")
    claude.get_by_test_id("alias-input").fill("")
    row(page, "echobot").get_by_test_id("shown-toggle").check()
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("message")).to_have_attribute("data-kind", "success")
    saved = on_disk(admin_service)
    assert saved["models"] == {"claude-sonnet-4.6": {"future_setting": 7}}
    assert saved["notes"] == "kept by the page"

    # Dark mode: the toggle is remembered across reloads.
    page.get_by_test_id("theme").select_option("dark")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    expect(page.get_by_test_id("theme")).to_have_value("dark")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(17, 19, 24)", background
    expect(page.get_by_test_id("model-row")).to_have_count(3)
    row(page, "claude-sonnet-4.6").get_by_test_id("options-toggle").click()
    screenshot(page, artifacts / "admin-dark.png")

    # Nothing but the service was asked for anything.
    assert all(url.startswith(admin_service.url) for url in watch.requests if "://" in url)

    # With no choice stored, the page follows the system's dark setting.
    system_dark, _ = open_page(admin_service.url, CREDENTIALS, color_scheme="dark")
    system_dark.goto(admin_service.url + "/admin")
    expect(system_dark.locator("html")).to_have_attribute("data-theme", "dark")
    assert system_dark.evaluate("getComputedStyle(document.body).backgroundColor") == (
        "rgb(17, 19, 24)"
    )


def test_opened_with_credentials_in_the_url(admin_service, open_page):
    """http://user:pw@host/admin: the browser signs in with them, and the page must not build
    API URLs that carry them (fetch() refuses those)."""
    page, _ = open_page(admin_service.url)  # no stored credentials: only those in the URL
    host = admin_service.url.split("://", 1)[1]
    page.goto(f"http://admin:{PASSWORD}@{host}/admin")
    expect(page.get_by_test_id("model-row")).to_have_count(2)
    expect(page.get_by_test_id("status-key")).to_have_text("pk-…efgh")
    expect(page.get_by_test_id("message")).to_be_hidden()
    row(page, "echobot").get_by_test_id("alias-input").fill("echo")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("message")).to_have_attribute("data-kind", "success")
    assert on_disk(admin_service)["models"]["echobot"] == {"mapping": "echo"}


def test_per_model_options_and_validation(admin_service, open_page):
    page, watch = open_page(admin_service.url, CREDENTIALS)
    page.goto(admin_service.url + "/admin/")
    claude = row(page, "claude-sonnet-4.6")
    expect(claude).to_be_visible()
    claude.get_by_test_id("options-toggle").click()
    options = page.locator('[data-testid="options-row"][data-model-id="claude-sonnet-4.6"]')
    expect(options).to_be_visible()

    # A refused alias and refused JSON are flagged at once and block Save.
    claude.get_by_test_id("alias-input").fill("has space")
    expect(claude.get_by_test_id("field-error").first).to_contain_text("letters, digits")
    claude.get_by_test_id("alias-input").fill("claude")
    options.get_by_test_id("parameters-input").fill("[1, 2]")
    expect(options.get_by_test_id("field-error").filter(has_text="JSON object")).to_be_visible()
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("message")).to_have_attribute("data-kind", "error")
    expect(page.get_by_test_id("message-text")).to_contain_text("fix the highlighted field")
    options.get_by_test_id("parameters-input").fill('{"web_search": true}')

    options.get_by_test_id("replace-response").check()
    options.get_by_test_id("reask-invalid-output").check()
    options.get_by_test_id("reasoning-select").select_option("think_tags")
    options.get_by_test_id("tools-select").select_option("prompt")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("message")).to_have_attribute("data-kind", "success")
    assert on_disk(admin_service)["models"]["claude-sonnet-4.6"] == {
        "future_setting": 7,
        "mapping": "claude",
        "parameters": {"web_search": True},
        "replace_response": True,
        "reask_invalid_output": True,
        "reasoning": "think_tags",
        "tools": "prompt",
    }

    page.reload()
    claude = row(page, "claude-sonnet-4.6")
    expect(claude.get_by_test_id("options-count")).to_have_text(" (5)")
    claude.get_by_test_id("options-toggle").click()
    expect(options.get_by_test_id("reasoning-select")).to_have_value("think_tags")
    expect(options.get_by_test_id("tools-select")).to_have_value("prompt")
    expect(options.get_by_test_id("replace-response")).to_be_checked()
    expect(options.get_by_test_id("reask-invalid-output")).to_be_checked()
    assert json.loads(options.get_by_test_id("parameters-input").input_value()) == {
        "web_search": True
    }

    # Someone else saves meanwhile: the page says so and keeps the edit on screen.
    revision = httpx.get(admin_service.url + "/admin/api/config", auth=CREDENTIALS).headers["etag"]
    other = dict(on_disk(admin_service), notes="changed elsewhere")
    saved = httpx.put(
        admin_service.url + "/admin/api/config",
        auth=CREDENTIALS,
        json=other,
        headers={"x-requested-with": "poe2openai-admin", "if-match": revision},
    )
    assert saved.status_code == 200
    watch.allow_console(r"status of 409")
    claude.get_by_test_id("display-name-input").fill("Mine")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("message")).to_have_attribute("data-kind", "error")
    expect(page.get_by_test_id("message-text")).to_contain_text("someone else changed")
    expect(page.get_by_test_id("message-reload")).to_be_visible()
    expect(claude.get_by_test_id("display-name-input")).to_have_value("Mine")
    expect(page.get_by_test_id("dirty-indicator")).to_be_visible()
    assert on_disk(admin_service)["notes"] == "changed elsewhere"
    page.get_by_test_id("message-reload").click()
    expect(claude.get_by_test_id("display-name-input")).to_have_value("")
    expect(page.get_by_test_id("dirty-indicator")).to_be_hidden()


def test_refresh_overlay_switch_and_custom_removal(admin_service, open_page, fake_poe):
    page, _ = open_page(admin_service.url, CREDENTIALS)
    page.goto(admin_service.url + "/admin")
    expect(page.get_by_test_id("model-row")).to_have_count(2)

    # Poe lists a new bot: "Refresh from Poe" shows it, keeping edits not saved yet.
    row(page, "echobot").get_by_test_id("alias-input").fill("echo")
    fake_poe.state.models.append({"id": "newbot", "object": "model", "owned_by": "Someone"})
    page.get_by_test_id("refresh").click()
    expect(page.get_by_test_id("message-text")).to_contain_text("Fetched 3 models")
    expect(row(page, "newbot")).to_be_visible()
    expect(row(page, "echobot").get_by_test_id("alias-input")).to_have_value("echo")

    page.get_by_test_id("custom-id").fill("bot-a")
    page.get_by_test_id("add-custom").click()
    # The page refuses a second model under a name already taken.
    page.get_by_test_id("custom-id").fill("ECHO")
    page.get_by_test_id("add-custom").click()
    expect(page.get_by_test_id("custom-error")).to_contain_text("already the alias of echobot")
    page.get_by_test_id("custom-id").fill("")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("message")).to_have_attribute("data-kind", "success")
    assert {"echo", "bot-a", "newbot"} <= set(public_ids(admin_service.url))

    # The overlay switch: off shows Poe's list as it is.
    page.get_by_test_id("overlay-enable").uncheck()
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("message")).to_have_attribute("data-kind", "success")
    assert on_disk(admin_service)["enable"] is False
    ids = public_ids(admin_service.url)
    assert "echobot" in ids and "echo" not in ids and "bot-a" not in ids
    page.reload()
    expect(page.get_by_test_id("overlay-enable")).not_to_be_checked()
    # The settings are still there to edit while the overlay is off.
    expect(row(page, "echobot").get_by_test_id("alias-input")).to_have_value("echo")
    page.get_by_test_id("overlay-enable").check()

    # Removing the only custom model removes `custom_models`.
    row(page, "bot-a").get_by_test_id("remove-custom").click()
    expect(row(page, "bot-a")).to_have_count(0)
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("message")).to_have_attribute("data-kind", "success")
    saved = on_disk(admin_service)
    assert "custom_models" not in saved
    assert saved.get("enable", True) is True  # on (true is the default)
    assert "bot-a" not in public_ids(admin_service.url)

    # Discard puts back what was saved.
    row(page, "echobot").get_by_test_id("shown-toggle").uncheck()
    expect(page.get_by_test_id("dirty-indicator")).to_be_visible()
    page.get_by_test_id("discard").click()
    expect(row(page, "echobot").get_by_test_id("shown-toggle")).to_be_checked()
    expect(page.get_by_test_id("dirty-indicator")).to_be_hidden()


def test_server_errors_are_shown_on_the_field(admin_service, open_page):
    """A 400 names the bad field by path (`models.<id with dots>.mapping`): it is highlighted.
    The answers here are stand-ins (page.route) for cases the page's own checks prevent."""
    page, watch = open_page(admin_service.url, CREDENTIALS)
    watch.allow_console(r"status of (400|401|507)")
    page.goto(admin_service.url + "/admin")
    claude = row(page, "claude-sonnet-4.6")
    claude.get_by_test_id("alias-input").fill("taken")

    def answer(status: int, message: str, param: str | None = None):
        body = {"error": {"message": message, "type": "x", "param": param, "code": None}}
        return lambda route: route.fulfill(
            status=status, content_type="application/json", body=json.dumps(body)
        )

    page.route(
        "**/admin/api/config",
        lambda route: (
            answer(400, "`taken` is already the alias of `x`", "models.claude-sonnet-4.6.mapping")(
                route
            )
            if route.request.method == "PUT"
            else route.continue_()
        ),
    )
    page.get_by_test_id("search").fill("echo")  # the bad row is filtered out: shown again
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("message")).to_have_attribute("data-kind", "error")
    expect(page.get_by_test_id("message-text")).to_contain_text("already the alias")
    alias = claude.get_by_test_id("alias-input")
    expect(alias).to_be_visible()
    expect(alias).to_have_attribute("aria-invalid", "true")
    expect(alias).to_be_focused()
    expect(claude.get_by_test_id("field-error").first).to_contain_text("already the alias")
    alias.fill("taken2")
    expect(alias).not_to_have_attribute("aria-invalid", "true")

    page.unroute("**/admin/api/config")
    page.route(
        "**/admin/api/config",
        lambda route: (
            answer(507, "The configuration was not saved (the disk is full).")(route)
            if route.request.method == "PUT"
            else route.continue_()
        ),
    )
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("message-text")).to_contain_text("disk is full")
    expect(page.get_by_test_id("dirty-indicator")).to_be_visible()

    page.unroute("**/admin/api/config")
    page.route("**/admin/api/config", answer(401, "Admin credentials are missing or wrong"))
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("message-text")).to_contain_text("credentials were not accepted")


def test_untrusted_text_is_rendered_as_text(fake_poe, start_service, open_page):
    fake_poe.state.models.append(
        {
            "id": "hostile-bot",
            "object": "model",
            "owned_by": f"<b>owner</b>{HOSTILE}",
            "description": f"Nice bot {HOSTILE}",
            "metadata": {"display_name": f"Hostile {HOSTILE}"},
            "architecture": {"input_modalities": [HOSTILE]},
            "pricing": {"prompt": HOSTILE},
        }
    )
    service = start_service(
        {"POE_BASE_URL": fake_poe.url, "ADMIN_USERNAME": "admin", "ADMIN_PASSWORD": PASSWORD}
    )
    page, watch = open_page(service.url, CREDENTIALS)
    page.goto(service.url + "/admin")
    hostile = row(page, "hostile-bot")
    expect(hostile).to_be_visible()
    expect(hostile.get_by_test_id("model-description")).to_have_text(f"Nice bot {HOSTILE}")
    expect(hostile.get_by_test_id("model-name")).to_have_text(f"Hostile {HOSTILE}")
    expect(hostile).to_contain_text(f"<b>owner</b>{HOSTILE}")
    assert page.locator("#models img, #models b, #models script").count() == 0
    page.get_by_test_id("filter-hidden").click()  # any re-render stays text too
    page.get_by_test_id("filter-all").click()
    expect(hostile).to_be_visible()
    assert page.locator("img").count() == 0
    assert not [u for u in watch.requests if u.rstrip("/").endswith("/x")]
    assert not watch.dialogs


def test_docs_render_the_operations(admin_service, open_page):
    page, _ = open_page(admin_service.url)
    page.goto(admin_service.url + "/docs")
    for path in ("/v1/models", "/v1/chat/completions", "/v1/responses"):
        expect(page.locator(f'.opblock-summary-path[data-path="{path}"]')).to_be_visible()
    page.get_by_role("link", name="Anthropic Messages API").click()
    for path in ("/v1/messages", "/v1/messages/count_tokens"):
        expect(page.locator(f'.opblock-summary-path[data-path="{path}"]')).to_be_visible()


def test_admin_page_is_served_with_its_policy(admin_service):
    for path in ("/admin", "/admin/"):
        response = httpx.get(admin_service.url + path, auth=CREDENTIALS, timeout=5)
        assert response.status_code == 200
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert '<script src="/admin/admin.js">' in response.text
    for name in ("admin.js", "admin.css"):
        response = httpx.get(f"{admin_service.url}/admin/{name}", auth=CREDENTIALS, timeout=5)
        assert response.status_code == 200
    assert httpx.get(admin_service.url + "/admin", timeout=5).status_code == 401


def test_narrow_screen(admin_service, open_page, artifacts):
    page, _ = open_page(
        admin_service.url, CREDENTIALS, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page.goto(admin_service.url + "/admin")
    claude = row(page, "claude-sonnet-4.6")
    expect(claude.get_by_test_id("alias-input")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width}px)"
    screenshot(page, artifacts / "admin-mobile.png")


def test_a_broken_file_is_reported_and_repaired(start_service, fake_poe, open_page, tmp_path):
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "models.yaml").write_text("models: [not, a, mapping]\n")
    service = start_service(
        {
            "POE_BASE_URL": fake_poe.url,
            "ADMIN_USERNAME": "admin",
            "ADMIN_PASSWORD": PASSWORD,
            "CONFIG_DIR": str(config_dir),
        }
    )
    page, _ = open_page(service.url, CREDENTIALS)
    page.goto(service.url + "/admin")
    expect(page.get_by_test_id("problem")).to_contain_text("not a valid configuration")
    expect(page.get_by_test_id("model-row")).to_have_count(2)
    expect(page.get_by_test_id("status-key")).to_contain_text("not set")
    row(page, "echobot").get_by_test_id("alias-input").fill("echo")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("message")).to_have_attribute("data-kind", "success")
    expect(page.get_by_test_id("problem")).to_be_hidden()
    assert on_disk(service) == {"models": {"echobot": {"mapping": "echo"}}}


def test_poe_unreachable(start_service, fake_poe, open_page):
    """Without Poe's list the page still loads, says why, and keeps what models.yaml has."""
    fake_poe.state.models_mode = 503
    service = start_service(
        {"POE_BASE_URL": fake_poe.url, "ADMIN_USERNAME": "admin", "ADMIN_PASSWORD": PASSWORD}
    )
    page, watch = open_page(service.url, CREDENTIALS)
    watch.allow_console(r"status of 50\d")
    page.goto(service.url + "/admin")
    expect(page.get_by_test_id("message")).to_have_attribute("data-kind", "error")
    expect(page.get_by_test_id("message-text")).to_contain_text("model list could not be loaded")
    expect(page.get_by_test_id("status-list")).to_have_text("unavailable")
    page.get_by_test_id("custom-id").fill("private-bot")
    page.get_by_test_id("add-custom").click()
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("message")).to_have_attribute("data-kind", "success")
    expect(row(page, "private-bot")).to_be_visible()
    page.get_by_test_id("refresh").click()
    expect(page.get_by_test_id("message-text")).to_contain_text("could not be fetched")


def test_try_it_out_starts_from_a_working_example(start_service, open_page):
    """Swagger UI's "Try it out" body is the contract's example (a demo bot, a short message),
    and executing one gets an answer."""
    # The estimate spares the first count the tokenizer's load (seconds on a busy machine).
    demo = start_service(
        {"POE_BASE_URL": "http://127.0.0.1:9", "USAGE_TOKENIZER": "estimate"}, args=("--demo",)
    )
    page, _ = open_page(demo.url)

    def try_it_out(docs: str, tag: str, operation: str):
        page.goto("about:blank")  # Swagger UI reads the deep link on load, not on a hash change
        page.goto(f"{demo.url}{docs}#/{tag}/{operation}")  # a deep link opens the operation
        block = page.locator(f"#operations-{tag}-{operation}.is-open")
        # Swagger UI parses a 2 MB bundle before it renders: seconds on a busy 2-core machine.
        block.wait_for(timeout=3 * TIMEOUT_MS)
        block.get_by_role("button", name="Try it out").click()
        return block

    chat = try_it_out("/docs", "Chat", "createChatCompletion")
    body = json.loads(chat.locator("textarea.body-param__text").input_value())
    assert body["model"] == "echo" and body["messages"][0]["role"] == "user"

    messages = try_it_out("/docs/anthropic", "Messages", "createMessage")
    body = json.loads(messages.locator("textarea.body-param__text").input_value())
    assert body["model"] == "echo" and body["max_tokens"] > 0

    count = try_it_out("/docs/anthropic", "Messages", "countMessageTokens")
    count.get_by_role("button", name="Execute").click()
    status = count.locator(".live-responses-table tr.response .response-col_status")
    expect(status).to_have_text("200")
