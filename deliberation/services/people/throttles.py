"""Throttles against guessing: log-in passwords, join codes and projector codes.

Counted by Flask-Limiter's storage (``deliberation.extensions.limiter``: memory for one
process, the message queue's Redis when several processes must count together), with the
limits in the configuration (``LOGIN_LIMIT_PER_ACCOUNT``, ``LOGIN_LIMIT_PER_ADDRESS``,
``CODE_GUESS_LIMIT``, in the ``limits`` notation: ``"5 per minute;20 per hour"``).

The callers say when an attempt counts: a log-in attempt counts before the password is
checked (so parallel guesses cannot all pass a check before any is counted); a code counts
only once it matched no session (so a hall joining through one NAT address counts nothing),
and is checked before the lookup (so an address over its limit learns nothing, not even
that a code exists). These functions take plain keys and never read the request.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from dataclasses import dataclass

from flask import current_app
from limits import RateLimitItem, parse_many

from ...extensions import limiter

log = logging.getLogger(__name__)
KEY_MAX = 254


def address_key(remote_addr: str | None) -> str:
    """The key of a client address: IPv4 as is, IPv6 by its /64 (one household or phone
    usually holds a whole /64, and would otherwise have billions of addresses to rotate)."""
    raw = (remote_addr or "").strip()
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw[:KEY_MAX] or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is 192.0.2.1
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


@dataclass(frozen=True)
class Throttle:
    scope: str
    setting: str  # the configuration key holding the limits

    def _items(self) -> list[RateLimitItem]:
        return list(parse_many(current_app.config[self.setting]))

    def _identifiers(self, key: str) -> tuple[str, ...]:
        prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "deliberation")
        return (prefix, self.scope, key[:KEY_MAX])

    def _wait_for(self, items: list[RateLimitItem], key: str) -> int:
        """Seconds until the longest of the exhausted windows ends (at least 1)."""
        now = time.time()
        ends = [
            limiter.limiter.get_window_stats(item, *self._identifiers(key))[0] for item in items
        ]
        return max(1, math.ceil(max(ends, default=now) - now))

    def hit(self, key: str) -> int:
        """Count one attempt under ``key``. Return 0 when it may go on, else the seconds to
        wait (the attempt is refused)."""
        if not limiter.enabled:
            return 0
        try:
            identifiers = self._identifiers(key)
            items = self._items()
            over = [item for item in items if not limiter.limiter.hit(item, *identifiers)]
            return self._wait_for(over, key) if over else 0
        except Exception as error:  # the storage is down: let people in rather than lock all out
            log.warning("throttle %s unavailable (%s): not counted", self.scope, error)
            return 0

    def wait(self, key: str) -> int:
        """Seconds to wait before an attempt under ``key`` may be made (0: now). Counts
        nothing."""
        if not limiter.enabled:
            return 0
        try:
            identifiers = self._identifiers(key)
            over = [item for item in self._items() if not limiter.limiter.test(item, *identifiers)]
            return self._wait_for(over, key) if over else 0
        except Exception as error:
            log.warning("throttle %s unavailable (%s): not checked", self.scope, error)
            return 0


LOGIN_BY_ADDRESS = Throttle("login-address", "LOGIN_LIMIT_PER_ADDRESS")
LOGIN_BY_ACCOUNT = Throttle("login-account", "LOGIN_LIMIT_PER_ACCOUNT")
# One budget for every way of trying a code: join pages, projector page, projector socket.
CODE_GUESSES = Throttle("code-guess", "CODE_GUESS_LIMIT")


def login_attempt(address: str, email: str) -> int:
    """Count one log-in attempt from ``address`` for ``email``; seconds to wait, or 0."""
    wait = LOGIN_BY_ADDRESS.hit(address)
    if wait:
        return wait  # refused already: the account's budget is left alone
    return LOGIN_BY_ACCOUNT.hit(email.strip().lower())


def minutes(seconds: int) -> int:
    """Whole minutes to tell a person (a wait of 20 s reads "1 minute")."""
    return max(1, math.ceil(seconds / 60))
