"""The organisers' password policy, applied wherever a password is chosen (the
``create-organizer`` command, the "change my password" page).

Length, not the account's own e-mail, and not one of the passwords every guessing list
starts with. No rules on character classes: a long phrase is easier to keep and harder to
guess than ``P@ssw0rd!`` (NIST SP 800-63B, 5.1.1.2).
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l

MIN_LENGTH = 10
MAX_LENGTH = 500

# The top of the public leaked-password lists (English and French), keyboard rows and
# this tool's own words. Compared case-insensitively, also with trailing digits and
# punctuation removed ("Motdepasse2024!" is "motdepasse").
COMMON = frozenset({
    "password", "passw0rd", "password1", "password123", "p@ssw0rd", "p@ssword", "motdepasse",
    "mot2passe", "123456", "1234567", "12345678", "123456789", "1234567890", "12345678910",
    "0123456789", "9876543210", "111111", "1111111111", "000000", "0000000000", "123123",
    "123123123", "112233", "121212", "654321", "987654321", "qwerty", "qwertyuiop", "qwerty123",
    "azerty", "azertyuiop", "azerty123", "qwertz", "qwertzuiop", "asdfghjkl",
    "azertyuiopqsdfghjklm", "qsdfghjklm", "wxcvbn", "1q2w3e4r", "1q2w3e4r5t", "1qaz2wsx",
    "zaq12wsx", "abc123", "abcdef", "abcdefgh", "abcdefghij", "abcdefghijk", "iloveyou",
    "jetaime", "jetaimetoi", "soleil", "bonjour", "bonjour123", "doudou", "chouchou", "loulou",
    "marseille", "nicolas", "camille", "football", "footballeur", "princess", "princesse",
    "sunshine", "welcome", "bienvenue", "letmein", "monkey", "dragon", "master", "shadow",
    "superman", "batman", "trustno1", "baseball", "starwars", "whatever", "freedom", "computer",
    "ordinateur", "administrator", "administrateur", "admin", "admin123", "root", "toor",
    "changeme", "changeit", "default", "secret", "secret123", "passpass", "motdepasse1",
    "testtest", "test1234", "guest", "invite", "utilisateur", "user", "login", "connexion",
    "qwerty12345", "azerty12345", "correcthorsebatterystaple", "assises", "assisesdelinsertion",
    "deliberation", "délibération", "organisateur", "organisatrice", "consensus", "conference",
    "conférence", "insertion", "wallonie", "belgique", "france", "paris", "bruxelles",
})  # fmt: skip
_TRAILING = re.compile(r"[\d\W_]+$")


def _core(text: str) -> str:
    return "".join(text.casefold().split())


def password_problem(password: str, email: str = "") -> Any | None:
    """Why ``password`` may not be chosen for the account ``email`` (a lazily translated
    message), or None when it may."""
    if len(password) < MIN_LENGTH:
        return _l("The password must have at least %(n)d characters.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _l("The password must have at most %(n)d characters.", n=MAX_LENGTH)
    core = _core(password)
    stripped = _TRAILING.sub("", core)  # "Marie.Dupont2024!" is "marie.dupont"
    address = _core(email)
    name = address.split("@", 1)[0]
    if address and (core in (address, name) or stripped in (address, name)):
        return _l("The password must not be your e-mail address or its name part.")
    if core in COMMON or stripped in COMMON or len(set(core)) <= 2:
        return _l(
            "This password is one of the first that anyone guessing would try: choose another."
        )
    return None
