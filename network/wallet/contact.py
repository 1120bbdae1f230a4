"""Changing a member's contact details from the wallet.

Phone and email are how a member signs in, so a change (1) keeps at least one of them, (2) never
takes one another member uses, and (3) tells the previous addresses in the same transaction, so
a stolen session cannot quietly move an account to someone else's phone.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from network import members, pii
from network.db.engine import Database
from network.db.schema import members as members_table
from network.notifications import outbox
from network.signin.addresses import parse_email, parse_phone
from network.wallet.errors import WalletError
from network.web.i18n import locale_for

KEEP = object()  # "leave this field as it is", distinct from None ("remove it")


@dataclass(frozen=True)
class ContactChange:
    """Each field: KEEP, None (remove), or the new value as typed."""

    email: object = KEEP
    phone: object = KEEP
    display_name: object = KEEP
    locale: object = KEEP


def _clean(change: ContactChange, country: str | None) -> dict[str, object]:
    """Validate everything before touching the database; field names are the input's own."""
    values: dict[str, object] = {}
    if change.email is not KEEP:
        raw = str(change.email or "").strip()
        values["email"] = parse_email(raw).value if raw else None
    if change.phone is not KEEP:
        raw = str(change.phone or "").strip()
        values["phone"] = parse_phone(raw, country=country).value if raw else None
    if change.display_name is not KEEP:
        name = str(change.display_name or "").strip()
        if len(name) > 200:
            raise WalletError("NAME_TOO_LONG", "A name is at most 200 characters.",
                              field="displayName")
        # PostgreSQL's text refuses NUL (an INTERNAL_ERROR), and no name holds an escape.
        if any(unicodedata.category(ch) == "Cc" for ch in name):
            raise WalletError("INVALID_NAME", "A name cannot contain control characters.",
                              field="displayName")
        values["display_name"] = name or None
    if change.locale is not KEEP:
        if change.locale not in members.LOCALES:
            raise WalletError("INVALID_LOCALE", "The language is 'en' or 'fa'.", field="locale")
        values["locale"] = change.locale
    return values


def update_contact(db: Database, secret: str, member_id: int, change: ContactChange,
                   now: dt.datetime, country: str | None = None) -> members.Member:
    """`country`: the network's POINTSNET_DEFAULT_COUNTRY, for a phone typed without its code."""
    values = _clean(change, country)

    def transaction(conn: Connection) -> None:
        current = members.get(conn, member_id, secret)
        if current is None:
            raise WalletError("MEMBER_NOT_FOUND", "No such member.", field="memberId")
        email = values.get("email", current.email)
        phone = values.get("phone", current.phone)
        if not email and not phone:
            raise WalletError("CONTACT_REQUIRED", "Keep a phone number or an email address to "
                              "sign in with.", field="email" if "email" in values else "phone")
        row: dict[str, object] = {}
        for kind, new, old in (("email", email, current.email), ("phone", phone, current.phone)):
            if new == old:
                continue
            if new is None:
                row |= {f"{kind}_cipher": None, f"{kind}_lookup": None}
                continue
            lookup = pii.lookup_hash(secret, str(new))
            taken = conn.execute(select(members_table.c.id).where(
                members_table.c[f"{kind}_lookup"] == lookup, members_table.c.id != member_id)
            ).first()
            if taken is not None:
                raise WalletError(f"{kind.upper()}_TAKEN",
                                  f"Another member already uses this {kind}.", field=kind)
            row |= {f"{kind}_cipher": pii.encrypt(secret, str(new)), f"{kind}_lookup": lookup}
        for key in ("display_name", "locale"):
            if key in values and values[key] != getattr(current, key):
                row[key] = values[key]
        if not row:
            return
        conn.execute(update(members_table).where(members_table.c.id == member_id).values(**row))
        if email != current.email or phone != current.phone:
            words = locale_for(str(values.get("locale", current.locale)))
            for channel, old in (("email", current.email), ("sms", current.phone)):
                if old:
                    outbox.enqueue(conn, channel=channel, recipient=old,  # type: ignore[arg-type]
                                   subject=words.t("contact_changed_subject"),
                                   body=words.t("contact_changed_body"), now=now,
                                   member_id=member_id)

    try:
        db.write(transaction)
    except IntegrityError as exc:  # another member took the address between check and update
        kind = "email" if "email" in str(exc.orig) else "phone"
        raise WalletError(f"{kind.upper()}_TAKEN", f"Another member already uses this {kind}.",
                          field=kind) from exc
    found = db.read(members.get, member_id, secret)
    assert found is not None
    return found
