"""models.yaml: the Rust original's format, validation, revisions, and saves that never lose a
file: crash (SIGKILL) mid-save, full disk, read-only directory."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from service.errors import ServiceError
from service.storage.models_config import (
    ConfigConflict,
    ConfigNotSaved,
    ConfigState,
    ModelsStore,
    revision_of,
)

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


def current(store: ModelsStore) -> ConfigState:
    return asyncio.run(store.current())


def save(store: ModelsStore, config: dict, revision: str) -> ConfigState:
    return asyncio.run(store.save(config, revision))


def test_reads_the_rust_original_format(tmp_path):
    overlay = current(make_store(tmp_path)).overlay
    assert overlay.enabled
    assert overlay.aliases == {"my-claude": "claude-sonnet-4.6"}
    assert overlay.settings_for("SOME-BOT").enable is False
    assert overlay.saved_settings("image-bot") == {"replace_response": True}
    assert overlay.custom[0]["id"] == "My-Private-Bot"


def test_enable_false_turns_the_overlay_off(tmp_path):
    store = make_store(tmp_path, "enable: false\nmodels: {a: {mapping: b}}\n")
    overlay = current(store).overlay
    assert not overlay.enabled and overlay.settings_for("a").model_dump() == {}
    assert overlay.saved_settings("a") == {"mapping": "b"}  # the admin page still shows it


def test_missing_file_is_an_empty_configuration(tmp_path):
    state = current(make_store(tmp_path, None))
    assert state.config == {} and state.revision == revision_of(b"")
    assert state.problem is None


def test_save_keeps_unknown_keys_and_a_backup(tmp_path):
    store = make_store(tmp_path)
    first = current(store)
    config = {**first.config, "future_key": {"x": 1}}
    config["models"]["new-bot"] = {"mapping": "nb", "some_new_setting": True}
    saved = save(store, config, first.revision)
    on_disk = yaml.safe_load((tmp_path / "models.yaml").read_text())
    assert on_disk["future_key"] == {"x": 1}
    assert on_disk["models"]["new-bot"]["some_new_setting"] is True
    assert (tmp_path / "models.yaml.bak").read_text() == RUST_FILE
    assert saved.revision != first.revision
    assert saved.overlay.aliases["nb"] == "new-bot"


def test_stale_revision_is_refused_and_nothing_written(tmp_path):
    store = make_store(tmp_path)
    stale = current(store).revision
    save(store, {"models": {}}, stale)
    with pytest.raises(ConfigConflict):
        save(store, {"models": {"x": {"enable": False}}}, stale)
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
        save(store, config, current(store).revision)
    assert caught.value.param == param
    assert (tmp_path / "models.yaml").read_text() == RUST_FILE


def test_hand_edits_are_seen_without_restart(tmp_path):
    store = make_store(tmp_path)
    assert current(store).overlay.aliases == {"my-claude": "claude-sonnet-4.6"}
    (tmp_path / "models.yaml").write_text("models: {claude-sonnet-4.6: {mapping: edited}}\n")
    assert current(store).overlay.aliases == {"edited": "claude-sonnet-4.6"}


def test_corrupt_file_turns_the_overlay_off_and_can_be_repaired(tmp_path, caplog):
    store = make_store(tmp_path, "models: [unclosed\n")
    state = current(store)
    assert not state.overlay.enabled
    assert "line" in state.problem and "models.yaml" in state.problem
    assert "not a valid configuration" in caplog.text
    repaired = save(store, {"models": {"a": {"mapping": "b"}}}, state.revision)
    assert repaired.problem is None and repaired.overlay.aliases == {"b": "a"}


def test_new_file_mode_is_readable_and_hand_made_mode_is_kept(tmp_path):
    store = make_store(tmp_path, None)
    save(store, {"models": {}}, current(store).revision)
    assert (tmp_path / "models.yaml").stat().st_mode & 0o777 == 0o644
    os.chmod(tmp_path / "models.yaml", 0o600)
    save(store, {"models": {"a": {}}}, current(store).revision)
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
        save(store, big, current(store).revision)
    assert (small_disk / "models.yaml").read_text() == RUST_FILE
    assert sorted(p.name for p in small_disk.iterdir()) == [".models.lock", "models.yaml"]


def test_read_only_directory_answers_an_error_and_keeps_the_old_file(small_disk):
    store = make_store(small_disk)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        with pytest.raises(ConfigNotSaved):
            save(store, {"models": {}}, current(store).revision)
        assert (small_disk / "models.yaml").read_text() == RUST_FILE
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)


SAVER = """
import asyncio, sys, itertools
from pathlib import Path
from service.storage.models_config import ModelsStore
store = ModelsStore(Path(sys.argv[1]))
configs = [{"models": {f"bot-{i}": {"display_name": "a" * 200} for i in range(300)}},
           {"models": {f"bot-{i}": {"display_name": "b" * 200} for i in range(300)}}]
print("ready", flush=True)
async def forever():
    for n in itertools.count():
        await store.save(configs[n % 2], (await store.current()).revision)
asyncio.run(forever())
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
    assert current(ModelsStore(tmp_path)).problem is None


ALIAS_BOMB = """\
a: &a [x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
models: {claude-sonnet-4.6: {extra_body: {x: *f}}}
"""


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("models: " + "[" * 100 + "]" * 100 + "\n", "nested deeper than 64 levels"),
        # Crashed start-up, then one 500 and a silently kept old config at runtime.
        ("models: " + "[" * 5000 + "]" * 5000 + "\n", "nesting depth"),
        # 100,000 brackets crashed older libyaml builds' composer (a C stack overflow).
        ("models: " + "[" * 100_000 + "]" * 100_000 + "\n", "nesting depth"),
        # ~400 bytes that expanded to 5 MB on every request.
        (ALIAS_BOMB, "once its aliases are expanded"),
        ("models: &loop {a: *loop}\n", "contains it"),
        ("# padding\n" * 110_000, "larger than 1,048,576 bytes"),
    ],
    ids=["100-deep", "5000-deep", "100000-deep", "alias-bomb", "recursive-alias", "over-1-MiB"],
)
def test_a_hostile_file_turns_the_overlay_off_and_a_save_repairs_it(tmp_path, text, reason):
    store = make_store(tmp_path, text)
    state = current(store)
    assert reason in state.problem and not state.overlay.enabled
    repaired = save(store, {"models": {"a": {"mapping": "b"}}}, state.revision)
    assert repaired.problem is None and repaired.overlay.aliases == {"b": "a"}
    assert current(ModelsStore(tmp_path)).overlay.aliases == {"b": "a"}


def test_a_folder_named_models_yaml_is_reported_and_moved_aside_by_a_repair_save(tmp_path):
    (tmp_path / "models.yaml").mkdir()
    (tmp_path / "models.yaml" / "notes.txt").write_text("kept")
    store = ModelsStore(tmp_path)
    state = current(store)
    assert "cannot be read" in state.problem
    save(store, {"models": {"a": {"mapping": "b"}}}, state.revision)
    assert current(store).overlay.aliases == {"b": "a"}
    (aside,) = tmp_path.glob("models.yaml.folder-*")
    assert (aside / "notes.txt").read_text() == "kept"  # nothing the user had is deleted


@pytest.mark.parametrize(
    "config",
    [
        {"models": {f"bot-{i}": {"display_name": "x" * 100} for i in range(10_000)}},
        {"models": {"a": {"extra_body": {"values": list(range(150_000))}}}},
    ],
    ids=["over-1-MiB", "over-100000-values"],
)
def test_a_save_too_large_to_read_back_is_refused_and_nothing_written(tmp_path, config):
    store = make_store(tmp_path)
    with pytest.raises(ServiceError) as refused:
        save(store, config, current(store).revision)
    assert refused.value.status == 413 and refused.value.code == "config_too_large"
    assert (tmp_path / "models.yaml").read_text() == RUST_FILE


def test_reading_and_saving_run_off_the_event_loop(tmp_path, monkeypatch):
    from service.storage import models_config, safe_yaml

    threads = []
    real_load, real_dump = safe_yaml.load, safe_yaml.dump

    def load(text):
        threads.append(threading.get_ident())
        return real_load(text)

    def dump(data):
        threads.append(threading.get_ident())
        return real_dump(data)

    monkeypatch.setattr(models_config.safe_yaml, "load", load)
    monkeypatch.setattr(models_config.safe_yaml, "dump", dump)
    store = make_store(tmp_path)
    threads.clear()

    async def edit_and_save() -> int:
        (tmp_path / "models.yaml").write_text("models: {a: {mapping: hand-edited}}\n")
        state = await store.current()
        await store.save({"models": {}}, state.revision)
        return threading.get_ident()

    loop_thread = asyncio.run(edit_and_save())
    assert len(threads) == 2 and loop_thread not in threads
