"""A client key the service issued (AUTH_MODE=keys), as every layer sees it: its limits, never
its secret (the repository is service/storage/keys.py)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

SECRET_PREFIX = "sk-p2o-"
SHOWN_PREFIX = 10  # characters of the secret the records show, to recognise a key
LIMITS = ("models", "rpm", "tpm", "max_concurrent", "daily_tokens", "monthly_points")


@dataclass(frozen=True, slots=True)
class ClientKey:
    id: str
    name: str
    prefix: str
    created_at: int
    expires_at: int | None = None
    disabled: bool = False
    limits: dict[str, Any] = field(default_factory=dict)

    def usable(self, now: float) -> bool:
        return not self.disabled and (self.expires_at is None or now < self.expires_at)

    def record(self) -> dict[str, Any]:
        """As the admin API shows it: never the secret."""
        return {
            "id": self.id,
            "object": "key",
            "name": self.name,
            "prefix": self.prefix,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "disabled": self.disabled,
            **{limit: self.limits.get(limit) for limit in LIMITS},
        }


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
