"""models.yaml: the Rust original's format, validation, revisions, and saves that never lose a
file: crash (SIGKILL) mid-save, full disk, read-only directory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from service.errors import ServiceError
from service.storage.models_config import ConfigConflict, ConfigNotSaved, ModelsStore, revision_of

RUST_FILE = """\
enable: true                     # false: no overlay at all
models:
  claude-sonnet-4.6: {mapping: my-claude}
  some-bot: {enable: false}
  image-bot: {replace_response: true}
custom_models:
  - {id: My-Private-Bot, created: 1723456789, owned_by: custom}
"""


def make_store(tmp_path: Path, text: str | None = RUST_FILE) -> ModelsStore:
    if text is not None:
        (tmp_path / "models.yaml").write_text(text)
    return ModelsStore(tmp_path)


def test_reads_the_rust_original_format(tmp_path):
    overlay = make_store(tmp_path).current().overlay
    assert overlay.enabled
    assert overlay.aliases == {"my-claude": "claude-sonnet-4.6"}
    assert overlay.settings_for("SOME-BOT").enable is False
    assert overlay.saved_settings("image-bot") == {"replace_response": True}
    assert overlay.custom[0]["id"] == "My-Private-Bot"


def test_enable_false_turns_the_overlay_off(tmp_path):
    overlay = make_store(tmp_path, "enable: false\nmodels: {a: {mapping: b}}\n").current().overlay
    assert not overlay.enabled and overlay.settings_for("a").model_dump() == {}
    assert overlay.saved_settings("a") == {"mapping": "b"}  # the admin page still shows it


def test_missing_file_is_an_empty_configuration(tmp_path):
    state = make_store(tmp_path, None).current()
    assert state.config == {} and state.revision == revision_of(b"")
    assert state.problem is None


def test_save_keeps_unknown_keys_and_a_backup(tmp_path):
    store = make_store(tmp_path)
    first = store.current()
    config = {**first.config, "future_key": {"x": 1}}
    config["models"]["new-bot"] = {"mapping": "nb", "some_new_setting": True}
    saved = store.save(config, first.revision)
    on_disk = yaml.safe_load((tmp_path / "models.yaml").read_text())
    assert on_disk["future_key"] == {"x": 1}
    assert on_disk["models"]["new-bot"]["some_new_setting"] is True
    assert (tmp_path / "models.yaml.bak").read_text() == RUST_FILE
    assert saved.revision != first.revision
    assert saved.overlay.aliases["nb"] == "new-bot"


def test_stale_revision_is_refused_and_nothing_written(tmp_path):
    store = make_store(tmp_path)
    stale = store.current().revision
    store.save({"models": {}}, stale)
    with pytest.raises(ConfigConflict):
        store.save({"models": {"x": {"enable": False}}}, stale)
    assert yaml.safe_load((tmp_path / "models.yaml").read_text()) == {"models": {}}


@pytest.mark.parametrize(
    ("config", "param"),
    [
        ({"models": {"a": {"mapping": "same"}, "b": {"mapping": "SAME"}}}, "models.b.mapping"),
        ({"models": {"a": {"enable": "yes"}}}, "models.a.enable"),
        ({"models": {"a": {"mapping": "has space"}}}, "models.a.mapping"),
        ({"models": {"a": {"mapping": "tab\u180ename"}}}, "models.a.mapping"),
        ({"models": {"a": {"tools": "sometimes"}}}, "models.a.tools"),
        ({"custom_models": [{"id": "x"}, {"id": "X"}]}, "custom_models[1].id"),
        ({"custom_models": [{"created": 1}]}, "custom_models[0].id"),
        ({"enable": "true"}, "enable"),
    ],
)
def test_validation_names_the_bad_field_and_keeps_the_file(tmp_path, config, param):
    store = make_store(tmp_path)
    with pytest.raises(ServiceError) as caught:
        store.save(config, store.current().revision)
    assert caught.value.param == param
    assert (tmp_path / "models.yaml").read_text() == RUST_FILE


def test_hand_edits_are_seen_without_restart(tmp_path):
    store = make_store(tmp_path)
    assert store.current().overlay.aliases == {"my-claude": "claude-sonnet-4.6"}
    (tmp_path / "models.yaml").write_text("models: {claude-sonnet-4.6: {mapping: edited}}\n")
    assert store.current().overlay.aliases == {"edited": "claude-sonnet-4.6"}


def test_corrupt_file_turns_the_overlay_off_and_can_be_repaired(tmp_path, caplog):
    store = make_store(tmp_path, "models: [unclosed\n")
    state = store.current()
    assert not state.overlay.enabled
    assert "line" in state.problem and "models.yaml" in state.problem
    assert "not a valid configuration" in caplog.text
    repaired = store.save({"models": {"a": {"mapping": "b"}}}, state.revision)
    assert repaired.problem is None and repaired.overlay.aliases == {"b": "a"}


def test_new_file_mode_is_readable_and_hand_made_mode_is_kept(tmp_path):
    store = make_store(tmp_path, None)
    store.save({"models": {}}, store.current().revision)
    assert (tmp_path / "models.yaml").stat().st_mode & 0o777 == 0o644
    os.chmod(tmp_path / "models.yaml", 0o600)
    store.save({"models": {"a": {}}}, store.current().revision)
    assert (tmp_path / "models.yaml").stat().st_mode & 0o777 == 0o600


def _mount(target: Path, options: str) -> None:
    # Tests run as root in CI (as on the developers' machines): a tmpfs is a real small disk.
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], check=True)


@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    _mount(disk, "size=12k")
    yield disk
    subprocess.run(["umount", str(disk)], check=True)


def test_full_disk_answers_an_error_and_keeps_the_old_file(small_disk):
    store = make_store(small_disk)
    big = {"models": {f"bot-{i}": {"display_name": "x" * 150} for i in range(200)}}
    with pytest.raises(ConfigNotSaved, match="disk is full"):
        store.save(big, store.current().revision)
    assert (small_disk / "models.yaml").read_text() == RUST_FILE
    assert sorted(p.name for p in small_disk.iterdir()) == [".models.lock", "models.yaml"]


def test_read_only_directory_answers_an_error_and_keeps_the_old_file(small_disk):
    store = make_store(small_disk)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        with pytest.raises(ConfigNotSaved):
            store.save({"models": {}}, store.current().revision)
        assert (small_disk / "models.yaml").read_text() == RUST_FILE
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)


SAVER = """
import sys, itertools
from pathlib import Path
from service.storage.models_config import ModelsStore
store = ModelsStore(Path(sys.argv[1]))
configs = [{"models": {f"bot-{i}": {"display_name": "a" * 200} for i in range(300)}},
           {"models": {f"bot-{i}": {"display_name": "b" * 200} for i in range(300)}}]
print("ready", flush=True)
for n in itertools.count():
    store.save(configs[n % 2], store.current().revision)
"""


def test_killed_mid_save_leaves_the_old_or_the_new_file(tmp_path):
    allowed = [
        {"models": {f"bot-{i}": {"display_name": c * 200} for i in range(300)}} for c in "ab"
    ]
    (tmp_path / "models.yaml").write_text(yaml.safe_dump(allowed[0], sort_keys=False))
    for round_ in range(15):
        proc = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(tmp_path)], stdout=subprocess.PIPE
        )
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(0.05 + (round_ % 5) * 0.013)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert yaml.safe_load((tmp_path / "models.yaml").read_text()) in allowed
    assert ModelsStore(tmp_path).current().problem is None
