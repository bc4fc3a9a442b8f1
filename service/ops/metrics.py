"""Prometheus metrics: the families, the functions the request path calls to move them, and
the text a scrape of GET /metrics gets (the route and its access rule: metrics_endpoint.py).

Labels stay bounded: `front` is one of FRONTS, `model` a name the model list or models.yaml
knows (else `other`), `status` an HTTP status, `kind` a Poe failure kind. No key id is a label.
Label children are bound once per label set and kept in small dicts, so an update on the
request path is a dict lookup and an increment.

With WORKERS > 1 every worker writes its values to files in PROMETHEUS_MULTIPROC_DIR
(prometheus-client's multiprocess mode) and a scrape, on any worker, sums them. This module
only imports prometheus-client: the Poe client, the SSE writer and the upload cache call it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST
FRONTS = ("chat", "responses", "messages", "images", "models", "admin", "other")
# Route names are `<app>.<blueprint>.<handler>`: the blueprint says which front a route is.
_FRONT_OF_BLUEPRINT = {
    "chat": "chat",
    "responses": "responses",
    "anthropic": "messages",
    "images": "images",
    "models": "models",
    "admin": "admin",
}
# Seconds: answers take from a few hundred milliseconds to minutes.
_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
_MAX_CACHED = 2048  # names looked up; clients choose them, so the cache is bounded

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "poe2openai_requests",
    "Requests served, by front, model and HTTP status",
    ("front", "model", "status"),
    registry=REGISTRY,
)
REQUEST_DURATION = Histogram(
    "poe2openai_request_duration_seconds",
    "Time from a request's arrival to its end (for a stream: its last frame)",
    ("front",),
    buckets=_BUCKETS,
    registry=REGISTRY,
)
TIME_TO_FIRST_TOKEN = Histogram(
    "poe2openai_time_to_first_token_seconds",
    "Time from a streamed request's arrival to its first frame",
    ("front",),
    buckets=_BUCKETS,
    registry=REGISTRY,
)
TOKENS = Counter(
    "poe2openai_tokens",
    "Tokens counted in answered requests, input (prompt) and output (completion)",
    ("direction", "model"),
    registry=REGISTRY,
)
POINTS = Counter(
    "poe2openai_points",
    "Poe points spent, by model",
    ("model",),
    registry=REGISTRY,
)
OPEN_STREAMS = Gauge(
    "poe2openai_open_streams",
    "Event streams being written to clients",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
UPSTREAM_FAILURES = Counter(
    "poe2openai_upstream_failures",
    "Failed attempts at a Poe bot query, by failure kind (retried attempts included)",
    ("kind",),
    registry=REGISTRY,
)
UPSTREAM_RETRIES = Counter(
    "poe2openai_upstream_retries",
    "Poe bot queries tried again after a transient failure",
    registry=REGISTRY,
)
LIMIT_REJECTIONS = Counter(
    "poe2openai_limit_rejections",
    "Requests refused by a limit (models: a model the key may not use)",
    ("limit",),
    registry=REGISTRY,
)
UPLOAD_CACHE = Counter(
    "poe2openai_upload_cache",
    "Files in requests found among earlier uploads (hit) or uploaded to Poe (miss)",
    ("result",),
    registry=REGISTRY,
)
POINTS_BALANCE = Gauge(
    "poe2openai_poe_points_balance",
    "Poe points left on the server-held key, as last read",
    multiprocess_mode="mostrecent",
    registry=REGISTRY,
)


class _Children:
    """A metric's label children, bound on first use."""

    __slots__ = ("_children", "_metric")

    def __init__(self, metric: Any) -> None:
        self._metric = metric
        self._children: dict[Any, Any] = {}

    def __getitem__(self, labels: Any) -> Any:
        child = self._children.get(labels)
        if child is None:
            values = labels if isinstance(labels, tuple) else (labels,)
            child = self._children[labels] = self._metric.labels(*values)
        return child


_requests = _Children(REQUESTS)
_durations = _Children(REQUEST_DURATION)
_first_tokens = _Children(TIME_TO_FIRST_TOKEN)
_tokens = _Children(TOKENS)
_points = _Children(POINTS)
_failures = _Children(UPSTREAM_FAILURES)
_limits = _Children(LIMIT_REJECTIONS)
_upload_hit = UPLOAD_CACHE.labels("hit")
_upload_miss = UPLOAD_CACHE.labels("miss")
_fronts: dict[str | None, str] = {}


class ModelLabels:
    """A requested model name as a label: the model's id as /v1/models shows it (an alias of
    models.yaml as itself) when the model list or models.yaml knows the name, else `other`.
    Read from the catalog's current view, the one the request's own lookup just used."""

    __slots__ = ("_labels", "_view", "catalog")

    def __init__(self) -> None:
        self.catalog: Any = None
        self._view: Any = None
        self._labels: dict[str, str] = {}

    def __call__(self, name: str | None) -> str:
        if name is None:
            return "none"
        cached = getattr(self.catalog, "_cached_view", None)  # (entries, overlay, view)
        if cached is None:
            return "other"
        if cached[2] is not self._view:  # a new model list or models.yaml: names anew
            self._view, self._labels = cached[2], {}
        label = self._labels.get(name)
        if label is None:
            if len(self._labels) >= _MAX_CACHED:
                self._labels.clear()
            label = self._labels[name] = _known_name(name, cached[2], cached[1])
        return label


def _known_name(name: str, view: Any, overlay: Any) -> str:
    from service.core.catalog import ModelCatalog

    key = name.lower()
    if overlay.enabled and key in overlay.aliases:
        return key
    named = view.names.get(key)
    if named is not None:
        return named.model["id"]
    resolved = ModelCatalog._resolve(name, view, overlay)  # loose names, provider prefixes
    return resolved.bot if resolved.entry is not None else "other"


model_label = ModelLabels()


def front_of(route: Any) -> str:
    name = route.name if route is not None else None
    front = _fronts.get(name)
    if front is None:
        parts = name.split(".") if name else ()
        blueprint = parts[1] if len(parts) > 2 else ""
        front = _fronts[name] = _FRONT_OF_BLUEPRINT.get(blueprint, "other")
    return front


def request_done(
    request: Any, report: Any, outcome: str | None, started: float, first_byte: float | None,
    now: float,
) -> None:  # fmt: skip
    """Called once per request when it is over (service/http/request_log.py)."""
    stream = request.stream
    response = getattr(stream, "response", None) if stream is not None else None
    status = str(response.status) if response is not None else "none"
    front = front_of(request.route)
    model = model_label(report.model) if report.model is not None else "none"
    _requests[front, model, status].inc()
    _durations[front].observe(now - started)
    if first_byte is not None:
        _first_tokens[front].observe(first_byte - started)
    if report.input_tokens:
        _tokens["input", model].inc(report.input_tokens)
    if report.output_tokens:
        _tokens["output", model].inc(report.output_tokens)
    if outcome == "model_not_allowed":
        _limits["models"].inc()


def limit_rejected(limit: str) -> None:
    """A request refused by a limit: `models`, `rpm`, `tpm`, `concurrent`, `daily_tokens`,
    `monthly_points`, or `poe_queue` (its Poe key's turn would come too late): a fixed set of
    names, never a key id."""
    _limits[limit].inc()


def points_spent(model: str, points: float) -> None:
    _points[model_label(model)].inc(points)


def points_balance(value: float) -> None:
    POINTS_BALANCE.set(value)


def upstream_failed(kind: str) -> None:
    _failures[kind].inc()


def upstream_retried() -> None:
    UPSTREAM_RETRIES.inc()


def upload_cache(hit: bool) -> None:
    (_upload_hit if hit else _upload_miss).inc()


def stream_opened() -> None:
    OPEN_STREAMS.inc()


def stream_closed() -> None:
    OPEN_STREAMS.dec()


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def exposition() -> bytes:
    """The text a scrape gets: this process's values, or with several workers every worker's
    values summed (livesum, mostrecent) from their files."""
    if multiprocess_dir() is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry)


def prepare_multiprocess(workers: int, cleanup: contextlib.ExitStack) -> None:
    """Before workers start: with several, their values go to files in PROMETHEUS_MULTIPROC_DIR
    (a fresh private folder removed at exit, unless the user chose one). Files left there by
    earlier runs would be summed into this one's: they are removed (not this process's own)."""
    chosen = multiprocess_dir()
    if chosen is None:
        if workers == 1:
            return
        folder = tempfile.mkdtemp(prefix="poe2openai-metrics-")  # mode 0700
        cleanup.callback(shutil.rmtree, folder, ignore_errors=True)
        os.environ[MULTIPROC_ENV] = folder
        return
    mine = f"_{os.getpid()}.db"
    for stale in Path(chosen).glob("*.db"):
        if not stale.name.endswith(mine):
            with contextlib.suppress(OSError):
                stale.unlink()


def worker_stopped() -> None:
    """A worker's live gauges (open streams) leave the sum when it stops."""
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(os.getpid())
