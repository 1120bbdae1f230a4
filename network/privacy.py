"""A member's privacy rights: a copy of everything held about them, and erasure.

EXPORT (`export`) reads, in one snapshot, every row that names the member: the member record
with its contacts decrypted, the profile, the wallet balance, every ledger entry, lot,
consumption and hold, the programme's facts and campaign awards, segment memberships, sign-in
sessions and codes, the notifications sent and the audit entries about them. Only secrets are
left out: hashes of codes and tokens, and message bodies (a sign-in code is a secret even to
an export; subjects, channels and times are in).

ERASURE (`erase`) is done at once, in one transaction, when the member confirms it:
- deleted: phone and email (cipher and lookup hash), display name, birth date, city,
  interests, every session, every sign-in code (theirs, and the join code their address was
  filed under), the recipient, subject and body of every notification to them (a message
  still pending is marked failed, so it is never sent), their message preferences (time zone,
  quiet hours) and the gift blocks that name them;
- replaced: the card number by `erased-<id>` (no card lookup can ever match it again, so a
  till reading the old card is told the card is unknown) and the referral code by a fresh
  random one (the old one no longer refers anyone);
- kept: the member id and every ledger row (entries, postings, lots, consumptions, holds,
  balances), the programme's facts and awards, lottery entries and gifts, the consent records
  (proof of what the member agreed to, with the network's own wording) and the audit log, all
  of which hold ids and points, not personal data. Keeping them is why `pointsnet ledger
  verify` stays clean and why a settlement of a past month computes to the same figures:
  partners were paid for those points, and the books must still add up. Their points stay on
  the books until they expire like anyone's (no one can spend them now).
The member is blocked (network/member_blocks.py), so no partner can take the points left.
The request and its completion are appended to the audit log (network/audit.py), ids only.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Connection, Table, delete, insert, select, update

from network import audit, member_blocks, members, referrals
from network.db.engine import Database
from network.db.schema import (
    consumptions,
    holds,
    journal_entries,
    lots,
    member_balances,
    parties,
)
from network.db.schema import members as members_table
from network.hashing import Keys
from network.ledger.errors import MemberNotFound
from network.member_ids import ERASED_CARD_PREFIX
from network.notifications.consent_schema import (
    message_consents,
    message_preferences,
)
from network.notifications.schema import notification_outbox
from network.profile import member_profiles
from network.programme.campaigns_schema import campaign_awards
from network.programme.lottery_schema import lottery_entries
from network.programme.schema import member_events
from network.programme.segments_schema import member_rfm, segment_members
from network.programme.tiers_schema import member_tiers, tier_changes
from network.signin import codes
from network.signin.addresses import Address
from network.signin.schema import member_sessions, signin_codes
from network.wallet.gifts_schema import gift_blocks, gifts

FORMAT_VERSION = 1


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _rows(conn: Connection, table: Table, member_column: Column[Any], member_id: int, *,
          leave_out: tuple[str, ...] = (),
          order: Column[Any] | None = None) -> list[dict[str, Any]]:
    columns = [c for c in table.c if c.name not in leave_out]
    query = select(*columns).where(member_column == member_id)
    if order is not None:
        query = query.order_by(order)
    return [{k: _plain(v) for k, v in row._mapping.items()} for row in conn.execute(query)]


def is_erased(conn: Connection, member_id: int) -> bool:
    card = conn.execute(select(members_table.c.card_number)
                        .where(members_table.c.id == member_id)).scalar()
    return card is not None and card.startswith(ERASED_CARD_PREFIX)


def export(conn: Connection, member_id: int, secret: str, now: dt.datetime) -> dict[str, Any]:
    """Everything held about the member, as JSON-ready values (run in one snapshot)."""
    member = members.get(conn, member_id, secret)
    if member is None:
        raise MemberNotFound("no member with this id", field="memberId")
    enrolled_by = conn.execute(select(parties.c.code).where(
        parties.c.id == member.enrolled_by_party_id)).scalar() \
        if member.enrolled_by_party_id else None
    profile = conn.execute(select(member_profiles).where(
        member_profiles.c.member_id == member_id)).first()
    balance = conn.execute(select(member_balances).where(
        member_balances.c.member_id == member_id)).first()
    return {
        "format": f"pointsnet-member-export/{FORMAT_VERSION}",
        "exportedAt": _plain(now),
        "member": {
            "id": member.id, "cardNumber": member.card_number, "phone": member.phone,
            "email": member.email, "displayName": member.display_name,
            "birthDate": _plain(member.birth_date), "language": member.locale,
            "referralCode": member.referral_code, "referredByMemberId": member.referred_by,
            "enrolledAt": _plain(member.created_at),
            "enrolledBy": enrolled_by or "self (web)",
        },
        "profile": {
            "city": profile.city if profile else None,
            "interests": list(profile.interests or []) if profile else [],
            "completedAt": _plain(profile.completed_at) if profile else None,
            "erasedAt": _plain(profile.erased_at) if profile else None,
        },
        "balance": {k: _plain(v) for k, v in balance._mapping.items()} if balance else None,
        "ledgerEntries": _rows(conn, journal_entries, journal_entries.c.member_id, member_id,
                               order=journal_entries.c.id),
        "lots": _rows(conn, lots, lots.c.member_id, member_id, order=lots.c.id),
        "consumptions": _rows(conn, consumptions, consumptions.c.member_id, member_id,
                              order=consumptions.c.id),
        "holds": _rows(conn, holds, holds.c.member_id, member_id, order=holds.c.id),
        "events": _rows(conn, member_events, member_events.c.member_id, member_id,
                        order=member_events.c.id),
        "campaignAwards": _rows(conn, campaign_awards, campaign_awards.c.member_id, member_id,
                                order=campaign_awards.c.id),
        "segments": _rows(conn, segment_members, segment_members.c.member_id, member_id),
        "rfmScores": _rows(conn, member_rfm, member_rfm.c.member_id, member_id),
        "tier": _rows(conn, member_tiers, member_tiers.c.member_id, member_id),
        "tierChanges": _rows(conn, tier_changes, tier_changes.c.member_id, member_id,
                             order=tier_changes.c.id),
        "sessions": _rows(conn, member_sessions, member_sessions.c.member_id, member_id,
                          leave_out=("token_hash",), order=member_sessions.c.id),
        "signInCodes": _rows(conn, signin_codes, signin_codes.c.member_id, member_id,
                             leave_out=("code_hash", "address_hash"), order=signin_codes.c.id),
        "notifications": _rows(conn, notification_outbox, notification_outbox.c.member_id,
                               member_id, leave_out=("body", "html_body", "unsubscribe_url",
                                                     "last_error"),
                               order=notification_outbox.c.id),
        "messagePreferences": _rows(conn, message_preferences, message_preferences.c.member_id,
                                    member_id),
        "messageConsents": _rows(conn, message_consents, message_consents.c.member_id,
                                 member_id, order=message_consents.c.id),
        "lotteryEntries": _rows(conn, lottery_entries, lottery_entries.c.member_id, member_id,
                                order=lottery_entries.c.id),
        "giftsSent": _rows(conn, gifts, gifts.c.sender_member_id, member_id, order=gifts.c.id),
        "giftsReceived": _rows(conn, gifts, gifts.c.receiver_member_id, member_id,
                               order=gifts.c.id),
        "blockedGiftSenders": _rows(conn, gift_blocks, gift_blocks.c.member_id, member_id),
        "auditLog": [{"id": e.id, "at": _plain(e.at), "actorKind": e.actor_kind,
                      "actorId": e.actor_id, "action": e.action, "before": e.before,
                      "after": e.after}
                     for e in audit.entries(conn, subject=audit.member_subject(member_id))],
    }


def erase(db: Database, *, secret: str, member_id: int, now: dt.datetime,
          actor_kind: audit.ActorKind = "member", actor_id: int | str | None = None,
          request_id: str | None = None) -> dict[str, int]:
    """Erase the member's personal data now (see the module docstring); returns what it
    touched, by kind. Erasing an erased member changes nothing and records nothing."""
    keys = Keys(secret)

    def transaction(conn: Connection) -> dict[str, int]:
        member = members.get(conn, member_id, secret)
        if member is None:
            raise MemberNotFound("no member with this id", field="memberId")
        if member.card_number.startswith(ERASED_CARD_PREFIX):
            return {}
        subject = audit.member_subject(member_id)
        who = member_id if actor_id is None and actor_kind == "member" else actor_id
        audit.record(conn, actor_kind=actor_kind, actor_id=who, action="erasure.requested",
                     subject=subject, request_id=request_id, at=now)
        # Codes are filed under a keyed hash of the address: the join code a stranger's address
        # got has no member id, so it is found through the address.
        address_keys = [codes.address_key(keys, Address(channel, value)) for channel, value in
                        (("sms", member.phone), ("email", member.email)) if value]
        done: dict[str, int] = {}
        done["signInCodes"] = conn.execute(delete(signin_codes).where(
            (signin_codes.c.member_id == member_id)
            | signin_codes.c.address_hash.in_(address_keys))).rowcount
        done["sessions"] = conn.execute(delete(member_sessions).where(
            member_sessions.c.member_id == member_id)).rowcount
        # Theirs by id, and the join message, queued before they had an id, by its address.
        theirs = (notification_outbox.c.member_id == member_id) | \
            notification_outbox.c.recipient.in_([v for v in (member.phone, member.email) if v])
        conn.execute(update(notification_outbox).where(
            theirs, notification_outbox.c.status == "pending").values(
            status="failed", last_error="member erased"))
        done["notifications"] = conn.execute(update(notification_outbox).where(theirs).values(
            recipient=None, body=None, html_body=None, unsubscribe_url=None,
            subject="(erased)")).rowcount
        # Message choices are personal (a time zone, quiet hours); the consent records and the
        # sent-once marks hold ids, times and the network's own wording, so they stay as proof
        # of what was agreed and sent, like the ledger.
        done["messagePreferences"] = conn.execute(delete(message_preferences).where(
            message_preferences.c.member_id == member_id)).rowcount
        done["giftBlocks"] = conn.execute(delete(gift_blocks).where(
            (gift_blocks.c.member_id == member_id)
            | (gift_blocks.c.blocked_member_id == member_id))).rowcount
        conn.execute(update(members_table).where(members_table.c.id == member_id).values(
            phone_cipher=None, phone_lookup=None, email_cipher=None, email_lookup=None,
            display_name=None, birth_date=None,
            card_number=f"{ERASED_CARD_PREFIX}{member_id}",
            referral_code=_fresh_referral_code(conn)))
        profile_values = {"city": None, "interests": [], "updated_at": now, "erased_at": now}
        if conn.execute(update(member_profiles).where(member_profiles.c.member_id == member_id)
                        .values(**profile_values)).rowcount == 0:
            conn.execute(insert(member_profiles).values(member_id=member_id, **profile_values))
        # No partner may take the points of a member who is gone (network/member_blocks.py).
        done["blocked"] = int(member_blocks.block(conn, member_id, by="system:erasure",
                                                  reason="personal data erased", now=now))
        audit.record(conn, actor_kind="system", actor_id=None, action="erasure.completed",
                     subject=subject, after=done, request_id=request_id, at=now)
        return done

    return db.write(transaction)


def _fresh_referral_code(conn: Connection) -> str:
    while True:  # 2^50 codes: a clash is astronomically rare, but never a failure
        code = referrals.generate()
        if conn.execute(select(members_table.c.id).where(
                members_table.c.referral_code == code)).first() is None:
            return code
