"""The server-held Poe keys (AUTH_MODE=keys), used in turn. When a key may be used next (its
rate, or its rest after Poe answered 429) is the pacer's to say (poe_pacing.py): the pool takes
the next key that is free now, so one busy key does not hold up requests another could serve."""

from __future__ import annotations

from pydantic import SecretStr

from service.access.poe_pacing import PoePacer


class PoeKeyPool:
    def __init__(self, keys: list[SecretStr], pacer: PoePacer) -> None:
        assert keys, "a pool needs a key"
        self._keys = keys
        self._pacer = pacer
        self._turn = 0

    def __len__(self) -> int:
        return len(self._keys)

    def next(self) -> SecretStr:
        """The next key in turn that is free now; when none is, the one free soonest."""
        count = len(self._keys)
        order = [(self._turn + step) % count for step in range(count)]
        waits = [self._pacer.free_in(self._keys[index]) for index in order]
        chosen = order[waits.index(min(waits))]  # the first of the least busy, in turn
        self._turn = chosen + 1
        return self._keys[chosen]

    def starting_with(self, key: SecretStr) -> list[SecretStr]:
        """Every key, `key` first and then the others in turn: where a query may go."""
        secret = key.get_secret_value()
        first = next(
            (i for i, held in enumerate(self._keys) if held.get_secret_value() == secret), 0
        )
        return self._keys[first:] + self._keys[:first]
