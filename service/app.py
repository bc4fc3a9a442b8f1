"""create_app(settings): assembles blueprints, listeners and error handling; nothing else."""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
from typing import Any

from sanic import Sanic

from service.access.caller import Callers
from service.admin import api as admin
from service.admin import keys as _admin_keys  # noqa: F401 (its routes join the admin blueprint)
from service.admin import usage as _admin_usage  # noqa: F401 (the same)
from service.core import tokens
from service.core.catalog import ModelCatalog
from service.core.engine import Engine
from service.core.files import AttachmentResolver
from service.fronts import error_body_for, key, models
from service.fronts.anthropic import messages
from service.fronts.openai import chat, images
from service.fronts.responses import routes as responses
from service.http import errors, middleware
from service.http.request_log import RequestLoggingSanic
from service.http.sse import Keepalive
from service.ops import docs, health, metrics_endpoint
from service.poe.client import PoeClient
from service.settings import Settings, load_settings
from service.storage.background import Opening
from service.storage.models_config import ModelsStore
from service.storage.upload_cache import UploadCache

log = logging.getLogger("poe2openai")


def create_app(settings: Settings | None = None) -> Sanic:
    settings = settings or load_settings()
    # Logging is configured once, by the command line (one format, no duplicate lines).
    app = RequestLoggingSanic("poe2openai", strict_slashes=False, configure_logging=False)
    app.config.update(
        REQUEST_MAX_SIZE=settings.max_request_size,
        # A stream may legitimately last as long as Poe's whole-answer timeout.
        RESPONSE_TIMEOUT=settings.poe_total_timeout + 30,
        ACCESS_LOG=False,
        FALLBACK_ERROR_FORMAT="json",
        MOTD=False,
    )
    app.ctx.settings = settings

    errors.install(app, error_body_for)
    middleware.install(app, settings.cors_allow_origins)
    app.blueprint(health.bp)
    app.blueprint(models.bp)
    app.blueprint(chat.bp)
    app.blueprint(images.bp)
    app.blueprint(messages.bp)
    app.blueprint(responses.bp)
    app.blueprint(key.bp)
    app.blueprint(admin.bp)
    app.ctx.admin_page = admin.load_page()
    app.ctx.login_throttle = admin.LoginThrottle(settings.admin_login_max_delay)
    docs.install(app)
    metrics_endpoint.install(app)
    middleware.add_preflight_routes(app)

    @app.before_server_start
    async def _open_poe(app: Sanic) -> None:
        try:
            settings.config_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.warning("CONFIG_DIR %s cannot be created: %s", settings.config_dir, exc)
        app.ctx.models_config = ModelsStore(settings.config_dir)
        app.ctx.poe = PoeClient(settings)
        app.ctx.catalog = ModelCatalog(
            app.ctx.poe,
            settings.models_cache_ttl,
            settings.models_retry_interval,
            saved_list=settings.config_dir / "poe-models.json",
        )
        app.ctx.upload_cache = UploadCache(
            settings.config_dir / "uploads.json",
            max_entries=settings.upload_cache_entries,
            max_age=settings.upload_cache_ttl,
        )
        app.ctx.attachments = AttachmentResolver.from_settings(
            app.ctx.poe.http, settings, app.ctx.upload_cache
        )
        app.ctx.engine = Engine(
            app.ctx.poe,
            app.ctx.catalog,
            app.ctx.models_config,
            app.ctx.attachments,
            exact_usage=settings.usage_tokenizer == "o200k_base",
        )
        app.ctx.keepalive = Keepalive(settings.keepalive_interval)
        app.ctx.keepalive.start()

    @app.after_server_start
    async def _freeze_startup_objects(app: Sanic) -> None:
        # The ~70k objects alive after start-up never die: moving them out of the collector's
        # generations saves every full collection from rescanning them (measured: p99 latency
        # under load 110 -> 75 ms, ~10% less CPU; docs/performance.md).
        gc.collect()
        gc.freeze()

    @app.after_server_start
    async def _warm_catalog(app: Sanic) -> None:
        # Chat requests never wait for the model list, but use it (tool mode, declared
        # parameters): fetch it right away, in the background, so start-up stays fast.
        app.add_task(app.ctx.catalog.warm(), name="warm_catalog")

    @app.after_server_start
    async def _warm_tokenizer(app: Sanic) -> None:
        # The vocabulary takes ~0.5 s (in a thread) and ~110 MB: loaded at once, so the first
        # completion after a start does not wait for it (it did, ~0.9 s); USAGE_TOKENIZER=
        # estimate spares the memory.
        if settings.usage_tokenizer == "o200k_base":
            app.add_task(tokens.warm(), name="warm_tokenizer")

    @app.before_server_start
    async def _open_database(app: Sanic) -> None:
        # SQLAlchemy takes ~0.5 s and ~16 MB to import (Alembic ~10 MB more to migrate): the
        # database opens in the background (the import in a thread), at start with issued keys
        # (every request reads one), else when something first needs it (a stored response,
        # the admin's keys), so a service that never does stays small and starts fast.
        async def opened() -> Any:
            module = await asyncio.to_thread(importlib.import_module, "service.storage.stores")
            stores = await module.open_stores(settings)
            stores.start_sweeping(600.0)
            # What opening it made lives as long as the process: out of the collector's way,
            # as the start-up objects are (see _freeze_startup_objects).
            gc.collect()
            gc.freeze()
            return stores

        app.ctx.stores = Opening("the database", opened, at_once=settings.auth_mode == "keys")
        app.ctx.callers = Callers(settings, app.ctx.stores)

    @app.after_server_stop
    async def _close_poe(app: Sanic) -> None:
        await app.ctx.stores.close(lambda stores: stores.close())
        await app.ctx.keepalive.stop()
        await app.ctx.upload_cache.flush()
        await app.ctx.poe.aclose()

    return app
