"""Who is calling, what they may do, and how often.

- On loopback without `--require-tokens`, a request without a token is the local
  user's (the operator who started `biv serve`, with every right, as at the command
  line); a request with a token is its holder's.
- On any other host every request needs `Authorization: Bearer TOKEN`.
- The actor recorded with an import is `token:NAME`, or the local user's name.
- A caller may make `rate` requests a minute (a bucket of that many, refilled
  evenly); past it the answer is 429 with `Retry-After`.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable

from attrs import frozen

from biv_adapters.http.tokens import Role, Tokens

EVERY_ROLE = frozenset(Role)


@frozen
class Caller:
    """An authenticated caller: the actor name its writes record, and its roles."""

    actor: str
    roles: frozenset[Role]
    key: str  # what the rate limit counts by

    @property
    def auditor(self) -> bool:
        return Role.AUDITOR in self.roles


class Unauthenticated(Exception):
    """No token, or one the store does not know (401)."""


class Forbidden(Exception):
    """The caller's role does not allow this endpoint (403)."""


class Limited(Exception):
    """The caller made too many requests (429); retry after `seconds`."""

    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Access:
    """Authentication against the store's tokens; the local user when tokens are not required."""

    def __init__(self, tokens: Tokens, *, require_tokens: bool, local_user: str) -> None:
        self.tokens = tokens
        self.require_tokens = require_tokens
        self.local_user = local_user

    def caller(self, authorization: str | None) -> Caller:
        if not authorization:
            if self.require_tokens:
                raise Unauthenticated("give Authorization: Bearer TOKEN (see `biv token add`)")
            return Caller(self.local_user, EVERY_ROLE, "local")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("the Authorization header must be 'Bearer TOKEN'")
        holder = self.tokens.holder(token.strip())
        if holder is None:
            raise Unauthenticated("the token is not known to this store (or was removed)")
        return Caller(f"token:{holder.name}", frozenset({holder.role}), f"token:{holder.name}")


class RateLimit:
    """A bucket of `per_minute` requests for each caller, refilled evenly over the minute."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        """One request of `key`'s, or Limited when its bucket is empty."""
        if self.per_minute <= 0:
            return
        rate = self.per_minute / 60.0
        with self._lock:
            now = self.clock()
            level, then = self._buckets.get(key, (float(self.per_minute), now))
            level = min(float(self.per_minute), level + (now - then) * rate)
            if level < 1.0:
                self._buckets[key] = (level, now)
                raise Limited(max(1, int((1.0 - level) / rate + 0.999)))
            self._buckets[key] = (level - 1.0, now)
