"""The server-held Poe keys (AUTH_MODE=keys), used in turn; a key Poe answered 429 rests for
its Retry-After, so one busy key does not fail requests another could serve."""

from __future__ import annotations

import time

from pydantic import SecretStr

DEFAULT_REST = 60.0  # seconds, when Poe's 429 names no Retry-After


class PoeKeyPool:
    def __init__(self, keys: list[SecretStr]) -> None:
        assert keys, "a pool needs a key"
        self._keys = keys
        self._resting_until = [0.0] * len(keys)
        self._turn = 0

    def __len__(self) -> int:
        return len(self._keys)

    def next(self) -> SecretStr:
        """The next key not resting; when all rest, the one whose rest ends first."""
        now = time.monotonic()
        count = len(self._keys)
        for step in range(count):
            index = (self._turn + step) % count
            if self._resting_until[index] <= now:
                self._turn = index + 1
                return self._keys[index]
        soonest = min(range(count), key=self._resting_until.__getitem__)
        return self._keys[soonest]

    def rest(self, key: SecretStr, seconds: float | None) -> None:
        until = time.monotonic() + (seconds or DEFAULT_REST)
        for index, held in enumerate(self._keys):
            if held.get_secret_value() == key.get_secret_value():
                self._resting_until[index] = max(self._resting_until[index], until)
