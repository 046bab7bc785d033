"""Public support for a published synthesis, as on a petition.

Readers sign the synthesis as a whole or any of its recommendations: their name, their
organisation (optional), the participant group they belong to, a short public comment
(optional) and whether their name may be shown. One person, one signature per item: a second
signature by the same name and organisation, or from the same browser, is the first one
again (nothing counted twice); each signature has a private link that withdraws it.

Against automated signing, each signature carries a solved proof of work (ALTCHA, the
``altcha`` library, self-hosted: no third-party service): the page asks for a challenge,
the browser finds the number whose SHA-256 matches it, the server checks it, its signature
and its expiry, and spends it (a challenge signs once). This module never touches ``request``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from altcha import ChallengeOptionsV1, create_challenge_v1, verify_solution_v1
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ... import inputs
from ...database import write_transaction
from ...extensions import db
from ...models import SUPPORT_COMMENT_MAX, TITLE_MAX, Process, Support, utcnow
from ...models.support import CHALLENGE_MAX, ORGANISATION_MAX
from .. import mail
from ..validation import is_email
from .comments import CommentError, recommendation_of
from .followup import FollowUpError, clean_text

# The browser tries on average half of this many SHA-256 hashes: a fraction of a second on
# an old phone, a real cost for a script signing thousands of times.
CHALLENGE_MAX_NUMBER = 150_000
CHALLENGE_LIFETIME = timedelta(minutes=20)
ALGORITHM = "SHA-256"


class SupportError(ValueError):
    """A signature refused; ``message`` (translated) is shown to the reader."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Signed:
    """What a signature request gave: the signature, whether it is new, and — for a new one
    only — the token of its private withdrawal link."""

    support: Support
    new: bool
    withdraw_token: str = ""
    # Pending a confirmation by e-mail: the token its message carries, and where to send it.
    confirm_token: str = ""
    email: str = ""


def new_challenge(secret: str, process: Process) -> dict[str, Any]:
    """A challenge for one signature, as the altcha widget's JSON expects it."""
    challenge = create_challenge_v1(
        ChallengeOptionsV1(
            algorithm=ALGORITHM,
            max_number=CHALLENGE_MAX_NUMBER,
            hmac_key=_challenge_key(secret, process),
            expires=datetime.now(UTC) + CHALLENGE_LIFETIME,
        )
    )
    return {
        "algorithm": challenge.algorithm,
        "challenge": challenge.challenge,
        "maxnumber": challenge.max_number,
        "salt": challenge.salt,
        "signature": challenge.signature,
    }


def _challenge_key(secret: str, process: Process) -> str:
    # One key per process: a solution for one process's page never signs another's.
    return hmac.new(secret.encode(), f"support:{process.id}".encode(), "sha256").hexdigest()


def check_solution(secret: str, process: Process, solution: Any) -> str:
    """The challenge a reader's solution answers, once checked; refused otherwise."""
    refused = SupportError(
        _("The check against automated signing did not pass: reload the page and sign again.")
    )
    if not isinstance(solution, dict):
        raise refused
    payload = {key: solution.get(key) for key in ("algorithm", "challenge", "salt", "signature")}
    number = solution.get("number")
    if not all(isinstance(value, str) and len(value) <= 300 for value in payload.values()):
        raise refused
    if not inputs.is_id(number) and number != 0:
        raise refused
    if len(payload["challenge"]) > CHALLENGE_MAX:
        raise refused
    ok, _error = verify_solution_v1(
        {**payload, "number": number}, _challenge_key(secret, process), check_expires=True
    )
    if not ok:
        raise refused
    return payload["challenge"]


def _text(value: Any, limit: int, what: str, required: bool = False) -> str:
    try:
        return clean_text(value, limit, what, required)
    except FollowUpError as error:
        raise SupportError(error.message) from None


def signer_key(name: str, organisation: str) -> str:
    """The same person whatever the case, accents typed or not, or spaces: « Marie  Dupont »
    and « marie dupont » sign once."""

    def normal(text: str) -> str:
        decomposed = unicodedata.normalize("NFKD", text.casefold())
        return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())

    return hashlib.sha256(f"{normal(name)}\x1f{normal(organisation)}".encode()).hexdigest()


def target_of(process: Process, recommendation_id: Any) -> int | None:
    if recommendation_id in (None, ""):
        return None
    if isinstance(recommendation_id, str) and recommendation_id.isascii():
        recommendation_id = int(recommendation_id) if recommendation_id.isdigit() else None
    try:
        return recommendation_of(process, recommendation_id).id
    except CommentError as error:
        raise SupportError(error.message) from None


def _group(process: Process, group: Any) -> str:
    if group in (None, ""):
        return ""
    if not isinstance(group, str) or group not in (process.groups or []):
        raise SupportError(_("This group is not one of the choices; pick one from the list."))
    return group


def confirms_by_email(config: Any) -> bool:
    """Whether a signature counts only once its signer answered an e-mail: with an SMTP
    server configured, unless the deployment switched it off."""
    return mail.configured(config) and bool(config.get("SUPPORT_EMAIL_CONFIRMATION", True))


def _email(value: Any) -> str:
    address = value.strip() if isinstance(value, str) else ""
    if not address:
        raise SupportError(_("Your e-mail address is needed to confirm your signature."))
    if not is_email(address):
        raise SupportError(_("This e-mail address does not look right (name@example.org)."))
    return address


def _email_hash(address: str) -> str:
    return hashlib.sha256(address.casefold().encode()).hexdigest()


def sign(
    process: Process,
    recommendation_id: Any,
    *,
    name: Any,
    organisation: Any = "",
    group: Any = "",
    comment: Any = "",
    show_name: bool = False,
    device: str = "",
    challenge: str,
    email: Any = None,
) -> Signed:
    """Sign (the synthesis when ``recommendation_id`` is None). The same person signing the
    same item again gets their first signature back, counted once.

    With ``email`` (not None: e-mail confirmation is on) the signature waits for its
    confirmation: the result carries the token of the link to send. Signing again while it
    waits gives a new link (the first message may have been lost)."""
    if not process.synthesis_published:
        raise SupportError(_("This synthesis is not published."))
    target = target_of(process, recommendation_id)
    clean_name = _text(name, TITLE_MAX, _("Your name"), required=True)
    clean_organisation = _text(organisation, ORGANISATION_MAX, _("Your organisation"))
    clean_group = _group(process, group)
    clean_comment = _text(comment, SUPPORT_COMMENT_MAX, _("Your comment"))
    address = _email(email) if email is not None else ""
    address_hash = _email_hash(address) if address else ""
    key = signer_key(clean_name, clean_organisation)
    token = secrets.token_urlsafe(24)
    confirm_token = secrets.token_urlsafe(24) if address else ""
    try:
        with write_transaction():
            earlier = _active(process, target, key, device, address_hash)
            if earlier is not None:
                if earlier.pending and address:
                    earlier.confirm_hash = _hash(confirm_token)
                    return Signed(earlier, False, confirm_token=confirm_token, email=address)
                return Signed(earlier, new=False)
            support = Support(
                process_id=process.id,
                recommendation_id=target,
                name=clean_name,
                organisation=clean_organisation,
                group=clean_group,
                comment=clean_comment,
                show_name=bool(show_name),
                signer_key=key,
                device=device[:64],
                withdraw_hash=_hash(token),
                challenge=challenge,
                email_hash=address_hash,
                confirm_hash=_hash(confirm_token) if address else None,
                confirmed_at=None if address else utcnow(),
            )
            db.session.add(support)
    except IntegrityError:
        db.session.rollback()
        raise SupportError(
            _("This check against automated signing was already used: sign again.")
        ) from None
    return Signed(support, True, token, confirm_token=confirm_token, email=address)


def _active(
    process: Process, target: int | None, key: str, device: str, email_hash: str = ""
) -> Support | None:
    """The signature of the same person for the same item, not withdrawn (waiting for its
    confirmation or not)."""
    same_person = Support.signer_key == key
    if device:
        same_person = same_person | (Support.device == device)
    if email_hash:
        same_person = same_person | (Support.email_hash == email_hash)
    return db.session.scalar(
        select(Support)
        .where(
            Support.process_id == process.id,
            Support.recommendation_id.is_(None)
            if target is None
            else Support.recommendation_id == target,
            Support.withdrawn_at.is_(None),
            same_person,
        )
        .limit(1)
    )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def by_withdraw_token(process: Process, token: Any) -> Support | None:
    if not isinstance(token, str) or not 20 <= len(token) <= 64 or not token.isascii():
        return None
    return db.session.scalar(
        select(Support).where(
            Support.process_id == process.id, Support.withdraw_hash == _hash(token)
        )
    )


def by_confirm_token(process: Process, token: Any) -> Support | None:
    if not isinstance(token, str) or not 20 <= len(token) <= 64 or not token.isascii():
        return None
    return db.session.scalar(
        select(Support).where(
            Support.process_id == process.id, Support.confirm_hash == _hash(token)
        )
    )


def confirm(process: Process, token: Any) -> Support:
    """Confirm the signature of an e-mail's link: from now on it counts. Confirming twice is
    harmless; a withdrawn signature stays withdrawn."""
    with write_transaction():
        support = by_confirm_token(process, token)
        if support is None:
            raise SupportError(
                _("This link confirms no signature: it may have been replaced by a newer one.")
            )
        if support.withdrawn_at is not None:
            raise SupportError(_("This signature was withdrawn: sign again if you wish."))
        if support.confirmed_at is None:
            support.confirmed_at = utcnow()
    return support


def withdraw(process: Process, token: Any) -> Support:
    """Withdraw the signature of a private link; withdrawing twice is harmless."""
    with write_transaction():
        support = by_withdraw_token(process, token)
        if support is None:
            raise SupportError(_("This link does not withdraw any signature."))
        if support.withdrawn_at is None:
            support.withdrawn_at = utcnow()
    return support


def withdraw_from_device(process: Process, support_id: Any, device: str) -> Support:
    """Withdraw from the browser that signed (its cookie), without the private link."""
    if not device or not inputs.is_id(support_id):
        raise SupportError(_("This signature cannot be withdrawn from this browser."))
    with write_transaction():
        support = db.session.get(Support, support_id)
        if support is None or support.process_id != process.id or support.device != device:
            raise SupportError(_("This signature cannot be withdrawn from this browser."))
        if support.withdrawn_at is None:
            support.withdrawn_at = utcnow()
    return support


def active(process: Process) -> list[Support]:
    """The signatures that count: confirmed and not withdrawn."""
    return list(
        db.session.scalars(
            select(Support)
            .where(
                Support.process_id == process.id,
                Support.withdrawn_at.is_(None),
                Support.confirmed_at.is_not(None),
            )
            .order_by(Support.created_at, Support.id)
        )
    )


def every_signature(process: Process) -> list[Support]:
    """Every signature, withdrawn ones included, for the organisers."""
    return list(
        db.session.scalars(
            select(Support)
            .where(Support.process_id == process.id)
            .order_by(Support.created_at, Support.id)
        )
    )


@dataclass(frozen=True)
class Tally:
    """The signatures an item has: in all, and per participant group (key '' = not given)."""

    total: int
    by_group: dict[str, int]


def counts(process: Process) -> dict[int | None, Tally]:
    """Per item (None: the synthesis as a whole), the signatures that count."""
    per_item: dict[int | None, Counter[str]] = {}
    for support in active(process):
        per_item.setdefault(support.recommendation_id, Counter())[support.group] += 1
    return {
        item: Tally(sum(groups.values()), dict(sorted(groups.items())))
        for item, groups in per_item.items()
    }


def signed_from(process: Process, device: str) -> dict[int | None, Support]:
    """What this browser signed and has not withdrawn, per item (waiting for its
    confirmation or not)."""
    if not device:
        return {}
    found = db.session.scalars(
        select(Support).where(
            Support.process_id == process.id,
            Support.device == device,
            Support.withdrawn_at.is_(None),
        )
    )
    return {support.recommendation_id: support for support in found}
