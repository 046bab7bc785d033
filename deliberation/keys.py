"""The secret key, where it comes from, and whether it may serve anyone but this computer.

``SECRET_KEY`` signs the organisers' session and remember-me cookies, the CSRF tokens and the
participants' tokens: whoever knows it can forge any of them. It comes from the environment
(a deployment sets it, the same on every process) or, when the environment has none, from
``instance/secret_key``, written once with :mod:`secrets` (mode 0600) so that ``make run``
on a fresh clone needs nothing. The repository holds no key at all.

A server that other machines can reach (``HOST`` not a loopback address, or a reverse proxy
configured with ``TRUSTED_PROXIES``) starts only with a *real* key from the environment
(:func:`serving_refusal`): at least :data:`MIN_KEY_LENGTH` characters, none of the words
placeholders are made of, not a handful of characters repeated. Exposing the server is a
decision of its operator, and every process and machine serving one hall must share the
key; a key file written by accident on one laptop serves neither purpose.

The same module writes the instance's other private files (the demo login): created
0600 from the start, replaced atomically.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import stat
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

KEY_FILE_NAME = "secret_key"
MIN_KEY_LENGTH = 32
MIN_DISTINCT_CHARACTERS = 8
# Words of the placeholders that documentation and examples print ("change-me",
# "your-secret-key-here"…): a key anyone can read or guess is no key, whatever its length.
PLACEHOLDER_WORDS = ("change", "example", "placeholder", "secret", "password", "default")
GENERATE_HINT = "python3 -c 'import secrets; print(secrets.token_hex(32))'"


class KeyFileError(RuntimeError):
    """The key file exists but cannot serve: the message says what to do."""


def key_problem(key: str | None) -> str | None:
    """Why ``key`` is not a real key (None when it is one)."""
    if not key:
        return "no SECRET_KEY is set"
    if len(key) < MIN_KEY_LENGTH:
        return f"SECRET_KEY has {len(key)} characters (at least {MIN_KEY_LENGTH} needed)"
    if any(word in key.lower() for word in PLACEHOLDER_WORDS):
        return "SECRET_KEY looks like a placeholder (it contains a word such as 'secret')"
    if len(set(key)) < MIN_DISTINCT_CHARACTERS:
        return "SECRET_KEY repeats a handful of characters: it is not random"
    return None


def is_loopback(host: str) -> bool:
    """Whether an address to listen on is reachable from this computer only."""
    host = host.strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # '' and '0.0.0.0'-like names listen everywhere; a name may resolve anywhere
        return False


def serving_refusal(hosts: Iterable[str], environ: Mapping[str, str]) -> str | None:
    """The reason not to start serving on ``hosts`` with this environment, or None.

    Loopback only and no proxy: any key will do (the instance file is random anyway).
    Otherwise the environment must carry a real ``SECRET_KEY``.
    """
    hosts = list(hosts)
    exposed = [host for host in hosts if not is_loopback(host)]
    proxied = _int(environ.get("TRUSTED_PROXIES")) > 0
    if not exposed and not proxied:
        return None
    problem = key_problem(environ.get("SECRET_KEY"))
    if problem is None:
        return None
    where = (
        f"on {', '.join(repr(host) for host in exposed)}"
        if exposed
        else "behind a reverse proxy (TRUSTED_PROXIES)"
    )
    return (
        f"Refusing to serve {where}: {problem}.\n"
        "A server other machines can reach needs a real SECRET_KEY in its environment "
        f"(at least {MIN_KEY_LENGTH} random characters), the same on every process and kept "
        "across restarts:\n"
        f"  export SECRET_KEY=$({GENERATE_HINT})\n"
        "On a venue laptop, the key make run created can be used: "
        "export SECRET_KEY=$(cat instance/secret_key)\n"
        "See docs/security.md, 'Keys, first run and accounts'."
    )


def _int(raw: str | None) -> int:
    try:
        return int(raw or 0)
    except ValueError:
        return 0


# -- the instance's private files ---------------------------------------------------------


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, readable by this user only, replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _create_once(path: Path, text: str) -> None:
    """Create ``path`` (0600) holding ``text`` unless it exists. Written aside, then linked
    into place: two commands starting at once (make run's steps, two server processes)
    never write two different keys, and neither reads a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.link(temporary, path)
    except FileExistsError:
        pass  # another process made it first: keep theirs
    finally:
        Path(temporary).unlink(missing_ok=True)


def readable_by_others(path: Path) -> bool:
    return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def instance_secret_key(instance_path: str) -> str:
    """The key kept in ``instance/secret_key``, created (0600) on the first call."""
    path = Path(instance_path) / KEY_FILE_NAME
    if not path.exists():
        _create_once(path, secrets.token_hex(32) + "\n")
    key = path.read_text(encoding="ascii", errors="replace").strip()
    problem = key_problem(key)
    if problem is not None:
        raise KeyFileError(
            f"{path}: {problem.replace('SECRET_KEY', 'the key in this file')}. Delete the file "
            "to have a new one made (everybody is logged out and phones must join again), "
            "or set SECRET_KEY in the environment."
        )
    if readable_by_others(path):
        raise KeyFileError(
            f"{path} can be read by other users of this computer: chmod 600 {path}, "
            "or delete it to have a new one made (everybody is logged out)."
        )
    return key
