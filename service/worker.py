"""The app of each Sanic worker process when WORKERS > 1.

Workers are started afresh (spawned, not forked) and load the app through this factory, which
Sanic pickles by name: it must live in an importable module, not in `__main__`. Logging is set
up again in each worker, or their lines would lose time, level and name.
"""

from __future__ import annotations

from sanic import Sanic

from service import logs
from service.app import create_app
from service.settings import Settings


def worker_app(settings: Settings) -> Sanic:
    logs.configure(settings.log_level, settings.log_format)
    return create_app(settings)
