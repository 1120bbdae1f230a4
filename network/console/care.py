"""Member care for the console: find a member by what they tell support, read everything about
them in one snapshot, block or unblock, and replace a lost card.

Finding goes through the keyed hashes of phone and email (network/members.find): no plaintext
column is scanned, and the console never needs more than the one record it was asked for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from network import audit, cards, idempotency, member_blocks, member_ids, members
from network.backoffice.errors import BackofficeError
from network.backoffice.roles import Principal
from network.clock import as_utc
from network.console import goodwill
from network.console.goodwill import GoodwillRequest
from network.db.engine import Database
from network.db.schema import holds
from network.db.schema import members as members_table
from network.ledger.errors import InvalidInput
from network.notifications.schema import notification_outbox as outbox
from network.programme import tiers_store
from network.programme.segments_schema import segment_members, segments
from network.programme.tiers_store import TierChange
from network.signin import sessions
from network.signin.sessions import Session
from network.wallet import view
from network.wallet.view import WalletView
from network.web.i18n import ascii_digits

RECENT = 20


def find(conn: Connection, secret: str, query: str, country: str) -> members.Member | None:
    """A member by card number, email or phone, as support types it; a malformed card number is
    a field error (not "no such member"), as at the till."""
    text = ascii_digits(query.strip())
    if not text:
        raise BackofficeError("EMPTY_QUERY", "type a card number, phone number or email",
                              field="q")
    compact = text.replace(" ", "").replace("-", "")
    try:
        if "@" in text:
            return members.find(conn, secret, email=text)
        if compact.isdigit() and len(compact) == 16:
            return members.find(conn, secret, card_number=compact)
        return members.find(conn, secret, phone=text, country=country)
    except InvalidInput as error:
        raise BackofficeError("BAD_QUERY", error.message, field="q") from None
    except ValueError as error:  # a phone number that is no phone number
        raise BackofficeError("BAD_QUERY", str(error), field="q") from None


@dataclass(frozen=True)
class Sent:
    channel: str
    subject: str
    status: str
    created_at: dt.datetime
    sent_at: dt.datetime | None


@dataclass(frozen=True)
class OpenHold:
    id: int
    party_id: int
    points: int
    expires_at: dt.datetime
    reference: str | None


@dataclass(frozen=True)
class Member360:
    wallet: WalletView
    blocked: dict[str, Any] | None
    holds: list[OpenHold]
    segments: list[tuple[str, str, str]]  # code, English name, Persian name
    sent: list[Sent]
    sessions: list[Session]
    goodwill: list[GoodwillRequest]
    tier_changes: list[TierChange]  # newest first (tiers_store.history)


def load(conn: Connection, member_id: int, secret: str, now: dt.datetime) -> Member360 | None:
    """Everything the member page shows, in one snapshot (network/wallet/reads.snapshot)."""
    wallet = view.load(conn, member_id, secret, now, first=RECENT)
    if wallet is None:
        return None
    block = conn.execute(select(member_blocks.member_blocks)
                         .where(member_blocks.member_blocks.c.member_id == member_id)).first()
    open_holds = [OpenHold(r.id, r.party_id, r.points, as_utc(r.expires_at), r.reference)
                  for r in conn.execute(select(holds).where(holds.c.member_id == member_id,
                                                            holds.c.status == "authorized")
                                        .order_by(holds.c.id))]
    groups = [(r.code, r.name_en, r.name_fa) for r in conn.execute(
        select(segments.c.code, segments.c.name_en, segments.c.name_fa)
        .join(segment_members, segment_members.c.segment_id == segments.c.id)
        .where(segment_members.c.member_id == member_id).order_by(segments.c.code))]
    sent = [Sent(r.channel, r.subject, r.status, as_utc(r.created_at),
                 as_utc(r.sent_at) if r.sent_at else None)
            for r in conn.execute(select(outbox.c.channel, outbox.c.subject, outbox.c.status,
                                         outbox.c.created_at, outbox.c.sent_at)
                                  .where(outbox.c.member_id == member_id)
                                  .order_by(outbox.c.id.desc()).limit(RECENT))]
    return Member360(
        wallet=wallet,
        blocked=None if block is None else {"at": as_utc(block.blocked_at), "by": block.blocked_by,
                                            "reason": block.reason},
        holds=open_holds, segments=groups, sent=sent,
        sessions=sessions.list_live(conn, member_id, now),
        goodwill=goodwill.of_member(conn, member_id),
        tier_changes=tiers_store.history(conn, member_id))


def _check_reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not 3 <= len(reason) <= 200:
        raise BackofficeError("BAD_REASON", "say why, in 3 to 200 characters", field="reason")
    return reason


def set_blocked(db: Database, who: Principal, member_id: int, *, blocked: bool, reason: str,
                now: dt.datetime, request_id: str | None = None) -> bool:
    """Block (with a reason) or unblock; the member's live sessions end with a block. False
    when nothing changed (blocked already, or not blocked)."""
    reason = _check_reason(reason)

    def write(conn: Connection) -> bool:
        if not member_ids.known_ids(conn, {member_id}):
            raise BackofficeError("MEMBER_NOT_FOUND", "no such member")
        if blocked:
            changed = member_blocks.block(conn, member_id, by=f"{who.actor_kind}:"
                                          f"{who.account_id}", reason=reason, now=now)
            if changed:
                for live in sessions.list_live(conn, member_id, now):
                    sessions.revoke(conn, member_id=member_id, session_id=live.id, now=now)
        else:
            changed = member_blocks.unblock(conn, member_id)
        if changed:
            state = ("active", "blocked") if blocked else ("blocked", "active")
            audit.record(conn, actor_kind=who.actor_kind, actor_id=who.account_id,
                         action="member.blocked" if blocked else "member.unblocked",
                         subject=audit.member_subject(member_id), before={"state": state[0]},
                         after={"state": state[1], "reason": reason}, request_id=request_id)
        return changed

    return db.write(write)


def _form_key(key: str) -> str:
    if not key or len(key) > 64:
        raise BackofficeError("BAD_FORM", "the form has no one-time key; reload the page")
    return key


def replace_card(db: Database, who: Principal, member_id: int, *, reason: str, key: str,
                 now: dt.datetime, request_id: str | None = None) -> None:
    """A new card number for a lost card: the old number finds no one from now on; the wallet,
    its balance and history stay, since they hang on the member, not the card. `key` is the
    form's one-time key: the same form posted twice replaces the card once."""
    reason = _check_reason(reason)
    key = _form_key(key)
    digest = idempotency.request_hash("replaceCard", {"member": member_id, "reason": reason})

    def write(conn: Connection) -> None:
        if idempotency.claim(conn, who.scope, key, digest) is not None:
            return
        if not member_ids.known_ids(conn, {member_id}):
            raise BackofficeError("MEMBER_NOT_FOUND", "no such member")
        for _ in range(5):
            number = cards.generate()
            try:
                with conn.begin_nested():
                    conn.execute(update(members_table).where(members_table.c.id == member_id)
                                 .values(card_number=number))
            except IntegrityError:
                continue  # the one-in-10^14 collision with a live card: draw again
            audit.record(conn, actor_kind=who.actor_kind, actor_id=who.account_id,
                         action="member.card_replaced", subject=audit.member_subject(member_id),
                         before={"card": "old"}, after={"card": "new", "reason": reason},
                         request_id=request_id)
            idempotency.remember(conn, who.scope, key, digest, {"replaced": True}, now)
            return
        raise BackofficeError("CARD_NOT_REPLACED", "no free card number was found; try again")

    db.write(write)


def already_done(db: Database, who: Principal, key: str) -> bool:
    """Whether this form (its one-time key) was already acted on: a retry of a merge must not
    look the duplicate up again, since its email or phone may now be the survivor's."""
    return bool(key) and db.read(lambda c: key in idempotency.stored(c, who.scope, [key]))


@dataclass(frozen=True)
class Merged:
    points_moved: int
    moved_contact: tuple[str, ...]  # field names: phone, email


def merge(db: Database, who: Principal, *, survivor_id: int, merged_id: int, reason: str,
          key: str, now: dt.datetime, request_id: str | None = None) -> Merged:
    """Merge a duplicate member record into the one that stays.

    The duplicate's spendable points move through the ledger's transfer (each lot keeps its
    issuer, vesting and expiry, so settlement bills exactly as before), under an idempotency
    key of the pair, so a retry moves nothing twice. Then, in one transaction: the survivor
    takes the duplicate's phone or email where it has none (a member keeps signing in with
    either), the duplicate gets a fresh card number (a till scanning the old card finds no one,
    instead of crediting a record nobody uses), it is blocked with the reason "merged into
    member:N", its sessions end, and both records' audit trails say so.

    Refused while the duplicate has pending points, open holds or a debt (MERGE_NOT_SETTLED):
    those belong to partners' open business, which must finish first.
    """
    from network import ledger
    from network.ledger import balances

    reason = _check_reason(reason)
    key = _form_key(key)
    digest = idempotency.request_hash("mergeMembers", {"into": survivor_id, "merged": merged_id})
    done = db.read(lambda c: idempotency.stored(c, who.scope, [key]).get(key))
    if done is not None:  # the same form again: the first answer, nothing moved twice
        first = idempotency.check_replay(done.request_hash, digest, done.response)
        return Merged(first["points_moved"], tuple(first["contact_moved"]))
    if survivor_id == merged_id:
        raise BackofficeError("MERGE_SAME", "choose two different member records",
                              field="merged")

    def check(conn: Connection) -> int:
        if len(member_ids.known_ids(conn, {survivor_id, merged_id})) != 2:
            raise BackofficeError("MEMBER_NOT_FOUND", "no such member", field="merged")
        if member_blocks.is_blocked(conn, merged_id) or member_blocks.is_blocked(
                conn, survivor_id):
            raise BackofficeError("MERGE_BLOCKED", "unblock both records first (a merged "
                                  "record stays blocked)", field="merged")
        state = balances.summary(conn, merged_id, now)
        if state.pending or state.held or state.debt:
            raise BackofficeError("MERGE_NOT_SETTLED", "the duplicate has pending points, "
                                  "open holds or a debt; merge once they are settled",
                                  field="merged")
        return state.spendable

    points = db.read(check)
    if points:
        ledger.transfer(db, scope="console:merge", idempotency_key=f"merge-{merged_id}-into-"
                        f"{survivor_id}", from_member_id=merged_id, to_member_id=survivor_id,
                        points=points, allowed=True, now=now)

    def finish(conn: Connection) -> Merged:
        if idempotency.claim(conn, who.scope, key, digest) is not None:
            raise BackofficeError("MERGE_BLOCKED", "this merge is being done already")
        m = members_table.c
        rows = {r.id: r for r in conn.execute(select(members_table).where(
            m.id.in_((survivor_id, merged_id))).with_for_update())}
        keep, gone = rows[survivor_id], rows[merged_id]
        moved: list[str] = []
        for kind in ("phone", "email"):
            cipher, lookup = f"{kind}_cipher", f"{kind}_lookup"
            if getattr(keep, lookup) is None and getattr(gone, lookup) is not None:
                conn.execute(update(members_table).where(m.id == merged_id)
                             .values({cipher: None, lookup: None}))
                conn.execute(update(members_table).where(m.id == survivor_id)
                             .values({cipher: getattr(gone, cipher),
                                      lookup: getattr(gone, lookup)}))
                moved.append(kind)
        for _ in range(5):
            try:
                with conn.begin_nested():
                    conn.execute(update(members_table).where(m.id == merged_id)
                                 .values(card_number=cards.generate()))
                break
            except IntegrityError:
                continue
        member_blocks.block(conn, merged_id, by=f"{who.actor_kind}:{who.account_id}",
                            reason=f"merged into member:{survivor_id}", now=now)
        for live in sessions.list_live(conn, merged_id, now):
            sessions.revoke(conn, member_id=merged_id, session_id=live.id, now=now)
        after = {"merged": merged_id, "into": survivor_id, "points_moved": points,
                 "contact_moved": moved, "reason": reason}
        for subject in (survivor_id, merged_id):
            audit.record(conn, actor_kind=who.actor_kind, actor_id=who.account_id,
                         action="member.merged", subject=audit.member_subject(subject),
                         after=after, request_id=request_id)
        idempotency.remember(conn, who.scope, key, digest,
                             {"points_moved": points, "contact_moved": moved}, now)
        return Merged(points, tuple(moved))

    return db.write(finish)
