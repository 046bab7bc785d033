"""Run CPU-heavy calls off the gevent event loop.

Under gevent (``python app.py`` and the gunicorn gevent worker monkey-patch the process) every
request and every websocket shares one OS thread. A password hash (scrypt, tens of ms of CPU)
run there stalls every greenlet meanwhile: a whole hall of phones waits for one organiser's
log-in. hashlib's scrypt and pbkdf2 release the GIL, so running them in gevent's native
threadpool lets the other greenlets carry on. Without gevent the call is made directly.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def _gevent_patched() -> bool:
    # A patched process has imported gevent already: skip importing it anywhere else.
    if "gevent" not in sys.modules:
        return False
    from gevent import monkey

    return bool(monkey.is_module_patched("threading"))


def gevent_patched() -> bool:
    """Whether this process runs on gevent's loop (``python app.py``, the gevent worker)."""
    return _gevent_patched()


def run_blocking(function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Return ``function(*args, **kwargs)``, run in a native thread when gevent is patched.

    The calling greenlet waits for the result (exceptions propagate), the others run. The
    function must not need the greenlet's context (Flask app or request context, database
    session): pass it plain values.
    """
    if not _gevent_patched():
        return function(*args, **kwargs)
    import gevent

    return gevent.get_hub().threadpool.apply(function, args, kwargs)
