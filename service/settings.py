"""Every environment variable the service reads, typed and validated in one place.

Names follow the Rust original (HOST, PORT, LOG_LEVEL, MAX_REQUEST_SIZE, CONFIG_DIR, ADMIN_*,
POE_*), so its users can keep their environment files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# 32 MiB: a 20 MB image (OpenAI's own per-image cap) is ~27 MB as base64 and still fits,
# while one request cannot make a worker buffer hundreds of megabytes.
DEFAULT_MAX_REQUEST_SIZE = 32 * 1024 * 1024

_SECRET_FIELDS = {"admin_password", "database_url", "metrics_token", "poe_api_key", "poe_api_keys"}

# What DATABASE_URL may start with, and the SQLAlchemy driver each one means.
_DATABASE_SCHEMES = ("postgresql+asyncpg://", "postgresql://", "postgres://")


class SettingsError(Exception):
    """A bad environment value; the message is one line naming the variable."""


class Settings(BaseSettings):
    # The docstring under each field is its description in `poe2openai --help`.
    model_config = SettingsConfigDict(
        case_sensitive=False, extra="ignore", frozen=True, use_attribute_docstrings=True
    )

    host: str = "0.0.0.0"
    """listen address (0.0.0.0 or :: for every interface)"""
    port: int = Field(8080, ge=0, le=65535)
    """listen port"""
    workers: int = Field(1, ge=1, le=64)
    """worker processes (1 = a single process, fastest start)"""
    log_level: Literal["debug", "info", "warning", "error", "critical"] = "info"
    """debug, info (one line per request), warning, error or critical"""
    log_format: Literal["text", "json"] = "text"
    """text, or json: one JSON object per log line"""
    max_request_size: int = Field(DEFAULT_MAX_REQUEST_SIZE, ge=1024)
    """largest request body in bytes; larger bodies get a 413"""
    config_dir: Path = Path("config")
    """where models.yaml and other state live"""
    # Unset: an SQLite file in CONFIG_DIR. Set, several instances share stored responses, issued
    # keys and the secret that ties a stored response to its key (service/storage/database.py).
    database_url: SecretStr | None = None
    """postgresql://user:password@host/db: the database shared by instances (unset: SQLite)"""

    admin_username: str = Field("admin", min_length=1)
    """admin page user"""
    admin_password: SecretStr | None = None
    """admin page password; the admin page is off while it is unset"""
    # Seconds: the longest a failed admin login slows the next answers (service/admin/throttle.py);
    # also the longest the right password waits while its address or user name is under attack.
    admin_login_max_delay: float = Field(8.0, gt=0, le=60)
    """longest delay, in seconds, of an answer to repeated failed admin logins"""
    # GET /metrics: with a token, scrapers present it as a bearer; without, the admin's
    # credentials read the metrics; with neither, /metrics is off (404).
    metrics_token: SecretStr | None = None
    """bearer token for GET /metrics; unset: the admin credentials, or off without them"""

    # Who holds the Poe key. passthrough: each client's bearer is its own Poe key. keys: the
    # service holds the Poe key(s) and clients present keys it issued (admin API, stored hashed).
    auth_mode: Literal["passthrough", "keys"] = "passthrough"
    """passthrough (clients send their Poe key) or keys (clients send keys the service issued)"""
    # With AUTH_MODE=passthrough only used to fetch Poe's model list; never shown in full.
    poe_api_key: SecretStr | None = None
    """the server-held Poe key (AUTH_MODE=keys); otherwise only fetches the model list"""
    poe_api_keys: SecretStr | None = None
    """several server-held Poe keys, comma-separated, used in turn (AUTH_MODE=keys)"""
    poe_base_url: str = "https://api.poe.com"
    """Poe API; bots at {POE_BASE_URL}/bot/{name}"""
    poe_file_upload_url: str = "https://www.quora.com/poe_api/file_upload_3RD_PARTY_POST"
    """Poe's upload endpoint"""

    # Seconds. Poe pings every 15 s while a bot thinks, so the idle gap must exceed that.
    poe_connect_timeout: float = Field(10.0, gt=0)
    """seconds to connect to Poe"""
    poe_first_event_timeout: float = Field(120.0, gt=0)
    """seconds to wait for the first event of an answer (then 504)"""
    poe_idle_timeout: float = Field(60.0, gt=0)
    """longest silence in seconds between bytes of an answer"""
    poe_total_timeout: float = Field(600.0, gt=0)
    """longest whole answer in seconds"""
    # Each open stream holds one connection to Poe: the pool must not cap concurrent streams.
    poe_max_connections: int = Field(4096, ge=1)
    """connection pool size towards Poe, per worker"""
    poe_retries: int = Field(2, ge=0, le=10)
    """retries of transient failures (a 429 from Poe included) before any output"""
    # Pacing toward Poe, per Poe key and per worker process (service/access/poe_pacing.py).
    # 500 a minute is Poe's documented limit per key. The queue's bound stays below
    # KEEPALIVE_INTERVAL: a stream refused after waiting still gets a real 429 status, not an
    # error event after a ping has committed its 200.
    poe_rpm: int = Field(500, ge=0)
    """most queries started per rolling minute on one Poe key (0: no limit)"""
    poe_queue_timeout: float = Field(8.0, ge=0)
    """seconds a request may wait for its Poe key's turn (then 429 with Retry-After)"""
    # The Rust seed's setting, there one interval for the whole service; here per Poe key,
    # which is the same for one key and does not make one user's requests wait for another's.
    rate_limit_ms: int = Field(0, ge=0)
    """least milliseconds between two queries on one Poe key (0: off)"""
    # Files (images, audio, documents) in requests are uploaded to Poe: per-file limits, and the
    # cache of uploads (kept in CONFIG_DIR) that spares uploading the same file twice.
    poe_upload_timeout: float = Field(60.0, gt=0)
    """seconds for one file upload to Poe"""
    poe_upload_max_bytes: int = Field(20 * 1024 * 1024, ge=1024)
    """largest file (decoded) in a request, in bytes"""
    upload_cache_entries: int = Field(2000, ge=0)
    """uploads remembered (by content hash or URL)"""
    upload_cache_ttl: float = Field(86400.0, ge=0)
    """seconds an upload is remembered"""
    # Model list from Poe: how long a fetched list is fresh, and how long to wait before asking
    # again after Poe could not be reached (the last good list is served meanwhile).
    models_cache_ttl: float = Field(600.0, ge=0)
    """seconds a fetched model list stays fresh"""
    models_retry_interval: float = Field(30.0, ge=0)
    """seconds before asking Poe again after a failed model list fetch"""
    models_timeout: float = Field(15.0, gt=0)
    """seconds for fetching the model list"""
    # `: ping` comments keep client connections and proxies alive while Poe is silent.
    keepalive_interval: float = Field(10.0, gt=0)
    """seconds of silence before a keep-alive ping in a stream"""

    # Slow clients (service/http/protocol.py). Sanic's own request timer restarts on every byte,
    # so a client sending a byte every few seconds held its socket, and a file descriptor, for
    # ever. Headers are a few hundred bytes, one packet on any link: a request whose headers are
    # not complete this many seconds after its first byte (after connecting, for a connection's
    # first request) is cut.
    client_header_timeout: float = Field(10.0, gt=0)
    """seconds a request's headers may take, from its first byte"""
    # A body must then arrive at this average rate (bytes/s), counted from the end of the headers
    # once the grace (TCP slow start, a radio waking up, a 100-continue round trip) has passed;
    # 0 turns the check off. 1 KiB/s is 8 kbit/s, below any real uplink: a 20 MB image (27 MB
    # as base64) on a 256 kbit/s link arrives at 32 KiB/s and passes; a slowloris trickle of a
    # few bytes a second is cut at the end of the grace.
    client_body_min_rate: float = Field(1024.0, ge=0)
    """least average rate of a request body in bytes/s after the grace (0: no minimum)"""
    client_body_grace: float = Field(10.0, gt=0)
    """seconds a request body may take before its rate is checked"""

    # Responses API answers kept (`store`, the default) for GET /v1/responses/{id} and
    # previous_response_id, in the database (SQLite in CONFIG_DIR, or DATABASE_URL): OpenAI
    # keeps them 30 days too. A conversation that goes on keeps all its turns for this long from
    # its latest one.
    responses_ttl: float = Field(30 * 86400.0, gt=0)
    """seconds a stored response is kept after its conversation's latest turn"""
    responses_max_bytes: int = Field(1024 * 1024 * 1024, ge=1024)
    """size of the stored responses beyond which the oldest are removed"""

    cors_allow_origins: str = "*"
    """* or a comma-separated list of allowed origins"""
    # How `usage` is counted: the o200k_base vocabulary (~110 MB once loaded), or an estimate
    # from the text's length (no memory) for small deployments.
    usage_tokenizer: Literal["o200k_base", "estimate"] = "o200k_base"
    """how usage is counted: o200k_base (~110 MB once loaded) or estimate (length / 4)"""

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("poe_base_url", "poe_file_upload_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        url = value.get_secret_value()
        scheme = next((s for s in _DATABASE_SCHEMES if url.startswith(s)), None)
        if scheme is None:
            raise ValueError("must start with postgresql://, postgres:// or postgresql+asyncpg://")
        return SecretStr("postgresql+asyncpg://" + url.removeprefix(scheme))

    @model_validator(mode="after")
    def _keys_mode_has_a_poe_key(self) -> Settings:
        if self.auth_mode == "keys" and not self.server_poe_keys:
            raise ValueError("AUTH_MODE=keys needs the service's Poe key: set POE_API_KEY")
        return self

    @property
    def server_poe_keys(self) -> list[SecretStr]:
        """The server-held Poe keys: POE_API_KEYS, else POE_API_KEY."""
        raw = self.poe_api_keys.get_secret_value() if self.poe_api_keys else ""
        keys = [SecretStr(k.strip()) for k in raw.split(",") if k.strip()]
        if not keys and self.poe_api_key and self.poe_api_key.get_secret_value().strip():
            keys = [SecretStr(self.poe_api_key.get_secret_value().strip())]
        return keys

    @property
    def admin_enabled(self) -> bool:
        return self.admin_password is not None and bool(self.admin_password.get_secret_value())


def load_settings(**overrides: object) -> Settings:
    """Read the environment; raise SettingsError with one line naming the first bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        if not err["loc"]:  # a rule across settings: its message names them (the input, all
            # settings with the secrets, is never shown)
            raise SettingsError(str(err["msg"]).removeprefix("Value error, ")) from None
        name = str(err["loc"][0])
        shown = "" if name in _SECRET_FIELDS else f" (got {err.get('input')!r})"
        raise SettingsError(f"{name.upper()}: {err['msg']}{shown}") from None


def described() -> list[tuple[str, str | None, str]]:
    """(variable, default as shown or None for a secret, description) for every setting."""
    rows = []
    for name, field in Settings.model_fields.items():
        if name in _SECRET_FIELDS:
            default = None
        elif field.default is None:
            default = "unset"
        elif isinstance(field.default, float):
            default = f"{field.default:g}"
        else:
            default = str(field.default)
        rows.append((name.upper(), default, field.description or ""))
    return rows
