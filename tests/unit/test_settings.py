from __future__ import annotations

from pathlib import Path

import pytest

from service.settings import DEFAULT_MAX_REQUEST_SIZE, SettingsError, described, load_settings


def test_defaults(monkeypatch):
    for name in ("HOST", "PORT", "LOG_LEVEL", "MAX_REQUEST_SIZE", "POE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert (settings.host, settings.port, settings.log_level) == ("0.0.0.0", 8080, "info")
    assert settings.max_request_size == DEFAULT_MAX_REQUEST_SIZE == 32 * 1024 * 1024
    assert settings.poe_base_url == "https://api.poe.com"
    assert settings.poe_file_upload_url.endswith("/poe_api/file_upload_3RD_PARTY_POST")


def test_environment_names_match_the_rust_original(monkeypatch):
    monkeypatch.setenv("PORT", "9000")
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("POE_BASE_URL", "http://127.0.0.1:1234/")
    monkeypatch.setenv("CONFIG_DIR", "/tmp/somewhere")
    settings = load_settings()
    assert settings.port == 9000 and settings.log_level == "debug"
    assert settings.poe_base_url == "http://127.0.0.1:1234"
    assert str(settings.config_dir) == "/tmp/somewhere"


def test_bad_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("MODELS_CACHE_TTL", "soon")
    with pytest.raises(SettingsError, match=r"^MODELS_CACHE_TTL: .*'soon'"):
        load_settings()


def test_admin_password_never_in_repr(monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", "hunter2-secret")
    settings = load_settings()
    assert settings.admin_enabled
    assert "hunter2-secret" not in repr(settings) and "hunter2-secret" not in str(settings)


def test_every_setting_is_described_for_help_and_in_the_readme():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for name, default, description in described():
        assert description, f"{name} needs a docstring (its --help description)"
        assert f"| `{name}` |" in readme, f"{name} is missing from the README's settings table"
        if name in ("ADMIN_PASSWORD", "POE_API_KEY"):
            assert default is None  # a secret shows no default
