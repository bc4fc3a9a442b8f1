"""Command line: `poe2openai` serves; `poe2openai --demo` serves on an embedded demo upstream."""

from __future__ import annotations

import argparse
import contextlib
import logging
import resource
import sys
from functools import partial

from sanic import Sanic
from sanic.worker.loader import AppLoader

from service.app import create_app
from service.http.protocol import GuardedProtocol
from service.settings import Settings, SettingsError, load_settings

log = logging.getLogger("poe2openai")


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="poe2openai", description="An OpenAI-compatible API in front of Poe bots."
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="serve on an embedded demo Poe upstream (no key or network needed)",
    )
    return parser.parse_args(argv)


def _configure_logging(settings: Settings) -> None:
    level = settings.log_level.upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("sanic.root", "sanic.error", "sanic.server"):
        logging.getLogger(name).setLevel(level)
    # httpx logs every upstream request at INFO: too chatty (and costly) for a proxy.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLevelName(level)))


def _raise_open_file_limit() -> None:
    """Each open stream holds two sockets (client and Poe): lift the soft limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    _raise_open_file_limit()
    demo = None
    try:
        if args.demo:
            from service.demo.upstream import DemoUpstream

            demo = DemoUpstream()
            settings = load_settings(poe_base_url=demo.url, workers=1)
        else:
            settings = load_settings()
    except SettingsError as exc:
        sys.exit(f"poe2openai: bad setting {exc}")
    _configure_logging(settings)

    if settings.workers == 1:
        # One process: ready in about half the time of Sanic's manager + worker mode.
        app = create_app(settings)
        if demo is not None:
            app.before_server_start(lambda _app: demo.start(), priority=1000)
            app.after_server_stop(lambda _app: demo.stop())
            _announce_demo(settings)
        app.prepare(
            host=settings.host,
            port=settings.port,
            single_process=True,
            access_log=False,
            motd=False,
            protocol=GuardedProtocol,  # cuts slow clients, refuses malformed headers
        )
        Sanic.serve_single(app)
    else:
        loader = AppLoader(factory=partial(create_app, settings))
        app = loader.load()
        app.prepare(
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            access_log=False,
            motd=False,
            protocol=GuardedProtocol,  # cuts slow clients, refuses malformed headers
        )
        Sanic.serve(primary=app, app_loader=loader)


def _announce_demo(settings: Settings) -> None:
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    base = f"http://{host}:{settings.port}"
    log.info("demo mode: Poe is replaced by a local demo upstream; any bearer token works")
    log.info(
        "try: curl %s/v1/chat/completions -H 'Authorization: Bearer demo' "
        "-H 'Content-Type: application/json' "
        '-d \'{"model": "stream", "messages": [{"role": "user", "content": "hi"}]}\'',
        base,
    )


if __name__ == "__main__":
    main()
