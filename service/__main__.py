"""Command line: `poe2openai` serves; `poe2openai --demo` serves on an embedded demo upstream."""

from __future__ import annotations

import argparse
import contextlib
import errno
import ipaddress
import logging
import resource
import shutil
import socket
import sys
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

from sanic import Sanic
from sanic.server.socket import bind_socket
from sanic.worker.loader import AppLoader

from service import __version__, logs
from service.app import create_app
from service.http.protocol import GuardedProtocol
from service.ops import metrics
from service.settings import Settings, SettingsError, described, load_settings
from service.worker import worker_app

log = logging.getLogger("poe2openai")


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="poe2openai",
        description="OpenAI- and Anthropic-compatible APIs in front of Poe bots.",
        epilog=_settings_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="serve on an embedded demo Poe upstream (no key or network needed)",
    )
    parser.add_argument("--version", action="version", version=f"poe2openai {__version__}")
    return parser.parse_args(argv)


def _settings_help() -> str:
    lines = [
        "settings, read from the environment (README.md, Configuration, says more);",
        "a bad value stops start-up with one line naming it:",
    ]
    for name, default, description in described():
        shown = f"{name}={default}" if default is not None else f"{name} (secret)"
        if len(shown) >= 32:
            lines += [f"  {shown}", f"  {'':32} {description}"]
        else:
            lines.append(f"  {shown:32} {description}")
    return "\n".join(lines)


def _raise_open_file_limit() -> None:
    """Each open stream holds two sockets (client and Poe): lift the soft limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    _raise_open_file_limit()
    # The demo reads and validates the same environment as a real start: a bad value stops it
    # with the same one line, even for settings the demo then replaces.
    try:
        settings = load_settings()
    except SettingsError as exc:
        sys.exit(f"poe2openai: bad setting {exc}")
    logs.configure(settings.log_level, settings.log_format)

    with contextlib.ExitStack() as cleanup:
        demo = None
        if args.demo:
            from service.demo.upstream import DemoUpstream

            demo = DemoUpstream()
            settings = _demo_settings(settings, demo.url, cleanup)
        # Bound here, before Sanic, so that a busy port or a bad HOST is one line naming the
        # setting (Sanic would print a traceback); Sanic then serves on this very socket.
        sock = _listen(settings)
        cleanup.callback(sock.close)
        metrics.prepare_multiprocess(settings.workers, cleanup)  # before workers start
        _announce(settings, sock)
        serving = {
            "sock": sock,
            "access_log": False,
            "motd": False,
            "protocol": GuardedProtocol,  # cuts slow clients, refuses malformed headers
        }
        if settings.workers == 1:
            # One process: ready in about half the time of Sanic's manager + worker mode.
            app = create_app(settings)
            if demo is not None:
                app.before_server_start(lambda _app: demo.start(), priority=1000)
                app.before_server_start(_seed_demo)  # before it serves: the examples need them
                app.after_server_stop(lambda _app: demo.stop())
                _announce_demo(settings, sock)
            app.prepare(single_process=True, **serving)
            Sanic.serve_single(app)
        else:
            loader = AppLoader(factory=partial(worker_app, settings))
            app = loader.load()
            app.prepare(workers=settings.workers, **serving)
            Sanic.serve(primary=app, app_loader=loader)


async def _seed_demo(app: Any) -> None:
    from service.demo.responses import seed

    await seed(await app.ctx.stores.ready())


def _demo_settings(
    settings: Settings, upstream_url: str, cleanup: contextlib.ExitStack
) -> Settings:
    update: dict[str, object] = {"poe_base_url": upstream_url, "workers": 1}
    if "config_dir" not in settings.model_fields_set:
        # A fresh directory per demo run, removed at exit, rather than ./config: a real start
        # there would serve the demo's bots as its cached model list and keep the demo's admin
        # edits, and a dedicated folder would still carry one demo's edits into the next. A
        # CONFIG_DIR set on purpose is used as it is (and kept).
        state = Path(tempfile.mkdtemp(prefix="poe2openai-demo-"))
        cleanup.callback(shutil.rmtree, state, ignore_errors=True)
        update["config_dir"] = state
        log.info("demo state in %s, removed at exit (set CONFIG_DIR to keep it)", state)
    return settings.model_copy(update=update)


def _listen(settings: Settings) -> socket.socket:
    try:
        return bind_socket(settings.host, settings.port)
    except (OSError, ValueError) as exc:  # ValueError: a host name the resolver refuses
        sys.exit(f"poe2openai: bad setting {_listen_problem(settings, exc)}")


def _listen_problem(settings: Settings, exc: Exception) -> str:
    host, port = settings.host, settings.port
    if isinstance(exc, socket.gaierror | ValueError):
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        return f"HOST: {host!r} is not a name or address to listen on ({reason})"
    assert isinstance(exc, OSError)
    if exc.errno == errno.EADDRINUSE:
        return (
            f"PORT: {port} is already in use on {host} (another program listens there: "
            "stop it or choose another PORT)"
        )
    if exc.errno == errno.EACCES:
        return f"PORT: listening on {port} is not permitted here (choose a PORT above 1023)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"HOST: {host!r} is not an address of this machine"
    return f"HOST, PORT: cannot listen on {host}:{port} ({exc.strerror or exc})"


def _base_url(settings: Settings, sock: socket.socket) -> str:
    """A URL a user can open: 0.0.0.0 and :: listen everywhere but cannot be browsed to."""
    port = sock.getsockname()[1]
    host = settings.host
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    return f"http://{host}:{port}"


def _announce(settings: Settings, sock: socket.socket) -> None:
    base = _base_url(settings, sock)
    everywhere = " (every interface)" if settings.host in ("", "0.0.0.0", "::") else ""
    log.info(
        "poe2openai %s listening on %s%s: %s/v1",
        __version__,
        f"{settings.host or '0.0.0.0'}:{sock.getsockname()[1]}",
        everywhere,
        base,
    )
    log.info("API docs: %s/docs (OpenAI) and %s/docs/anthropic (Anthropic)", base, base)
    if settings.admin_enabled:
        log.info("admin page: %s/admin (user %s)", base, settings.admin_username)
    else:
        log.info("admin page: off until ADMIN_PASSWORD is set (then at %s/admin)", base)


def _announce_demo(settings: Settings, sock: socket.socket) -> None:
    log.info("demo mode: Poe is replaced by a local demo upstream; any bearer token works")
    log.info(
        "try: curl %s/v1/chat/completions -H 'Authorization: Bearer demo' "
        "-H 'Content-Type: application/json' "
        '-d \'{"model": "stream", "messages": [{"role": "user", "content": "hi"}]}\'',
        _base_url(settings, sock),
    )


if __name__ == "__main__":
    main()
