"""Goodwill adjustments: points an operator gives a member to put a mistake right, booked by
the ledger as a network-funded bonus (award_bonus: the network is the issuer, the reason is
kept on the entry), with four-eyes control above a threshold.

At or under `Settings.goodwill_approval_above` points the request books at once. Above it, it
waits as `pending` until a second operator approves it (the requester cannot: the page refuses
and a CHECK in the table makes it impossible) or rejects it. Approval claims the request
(`approving`) in one transaction, books through the ledger under the request's own idempotency
key, then marks it `booked`: a crash in between leaves `approving`, and approving again replays
the same ledger entry instead of paying twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from network import audit, members
from network.backoffice.errors import BackofficeError
from network.backoffice.roles import Principal
from network.clock import as_utc
from network.console.schema import goodwill_requests as gr
from network.db.engine import Database
from network.ledger.earning import award_bonus
from network.web.i18n import ascii_digits

MAX_POINTS = 1_000_000
REASON_MIN, REASON_MAX = 3, 200
LEDGER_SCOPE = "console:goodwill"


@dataclass(frozen=True)
class GoodwillRequest:
    id: int
    member_id: int
    points: int
    reason: str
    status: str  # pending | approving | booked | rejected
    requested_by: int
    requested_at: dt.datetime
    decided_by: int | None
    decided_at: dt.datetime | None
    entry_id: int | None


def _request(row: Any) -> GoodwillRequest:
    return GoodwillRequest(row.id, row.member_id, row.points, row.reason, row.status,
                           row.requested_by, as_utc(row.requested_at), row.decided_by,
                           as_utc(row.decided_at) if row.decided_at else None, row.entry_id)


def parse(points: str, reason: str) -> tuple[int, str]:
    """The form's points and reason, or a field-keyed refusal. Persian digits are read too."""
    raw = ascii_digits(points.strip())
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= MAX_POINTS:
        raise BackofficeError("BAD_POINTS", f"points must be a whole number from 1 to "
                              f"{MAX_POINTS}", field="points")
    reason = " ".join(reason.split())
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise BackofficeError("BAD_REASON", f"say why, in {REASON_MIN} to {REASON_MAX} "
                              "characters", field="reason")
    return int(raw), reason


def _audit(conn: Connection, who: Principal, action: str, req: GoodwillRequest,
           request_id: str | None, before: dict[str, Any] | None = None) -> None:
    audit.record(conn, actor_kind=who.actor_kind, actor_id=who.account_id, action=action,
                 subject=audit.member_subject(req.member_id), before=before,
                 after={"goodwill_request": req.id, "points": req.points, "status": req.status,
                        "reason": req.reason, "entry_id": req.entry_id},
                 request_id=request_id)


def get(conn: Connection, request_id: int) -> GoodwillRequest | None:
    row = conn.execute(select(gr).where(gr.c.id == request_id)).first()
    return _request(row) if row else None


def of_member(conn: Connection, member_id: int) -> list[GoodwillRequest]:
    rows = conn.execute(select(gr).where(gr.c.member_id == member_id).order_by(gr.c.id.desc()))
    return [_request(r) for r in rows]


def waiting(conn: Connection) -> list[GoodwillRequest]:
    rows = conn.execute(select(gr).where(gr.c.status.in_(("pending", "approving")))
                        .order_by(gr.c.id))
    return [_request(r) for r in rows]


def request(db: Database, who: Principal, *, member_id: int, points: int, reason: str,
            key: str, threshold: int, now: dt.datetime,
            request_id: str | None = None) -> GoodwillRequest:
    """Ask for a goodwill adjustment; it books now if `points` <= `threshold`, else waits.
    `key` is the form's one-time key: the same form posted twice makes one request."""
    if not key or len(key) > 64:
        raise BackofficeError("BAD_FORM", "the form has no one-time key; reload the page")

    def create(conn: Connection) -> tuple[GoodwillRequest, bool]:
        existing = conn.execute(select(gr).where(gr.c.requested_by == who.account_id,
                                                 gr.c.idempotency_key == key)).first()
        if existing is not None:
            return _request(existing), False
        if not members.known_ids(conn, {member_id}):
            raise BackofficeError("MEMBER_NOT_FOUND", "no such member")
        status = "approving" if points <= threshold else "pending"
        row = conn.execute(insert(gr).values(
            member_id=member_id, points=points, reason=reason, status=status,
            requested_by=who.account_id, requested_at=now, idempotency_key=key,
        ).returning(*gr.c)).one()
        made = _request(row)
        _audit(conn, who, "goodwill.requested", made, request_id)
        return made, True

    made, _ = db.write(create)
    if made.status == "approving" and made.decided_by is None and made.points <= threshold:
        return _book(db, who, made, now, request_id, decided_by=None)
    return made


def approve(db: Database, who: Principal, goodwill_id: int, now: dt.datetime,
            request_id: str | None = None) -> GoodwillRequest:
    def claim(conn: Connection) -> GoodwillRequest:
        row = conn.execute(select(gr).where(gr.c.id == goodwill_id).with_for_update()).first()
        if row is None:
            raise BackofficeError("NOT_FOUND", "no such goodwill request")
        req = _request(row)
        if req.requested_by == who.account_id:
            raise BackofficeError("FOUR_EYES", "a second operator must approve this; you "
                                  "asked for it")
        if req.status not in ("pending", "approving"):
            raise BackofficeError("ALREADY_DECIDED", f"this request is {req.status} already")
        conn.execute(update(gr).where(gr.c.id == goodwill_id)
                     .values(status="approving", decided_by=who.account_id, decided_at=now))
        return req

    req = db.write(claim)
    return _book(db, who, req, now, request_id, decided_by=who.account_id)


def _book(db: Database, who: Principal, req: GoodwillRequest, now: dt.datetime,
          request_id: str | None, decided_by: int | None) -> GoodwillRequest:
    receipt = award_bonus(db, scope=LEDGER_SCOPE, idempotency_key=f"goodwill-{req.id}",
                          member_id=req.member_id, points=req.points, reason=req.reason,
                          now=now)

    def finish(conn: Connection) -> GoodwillRequest:
        conn.execute(update(gr).where(gr.c.id == req.id, gr.c.status == "approving")
                     .values(status="booked", entry_id=receipt.entry_id))
        done = get(conn, req.id)
        assert done is not None
        action = "goodwill.booked" if decided_by is None else "goodwill.approved"
        _audit(conn, who, action, done, request_id, before={"status": req.status})
        return done

    return db.write(finish)


def reject(db: Database, who: Principal, goodwill_id: int, now: dt.datetime,
           request_id: str | None = None) -> GoodwillRequest:
    def write(conn: Connection) -> GoodwillRequest:
        row = conn.execute(select(gr).where(gr.c.id == goodwill_id).with_for_update()).first()
        if row is None:
            raise BackofficeError("NOT_FOUND", "no such goodwill request")
        req = _request(row)
        if req.status != "pending":
            raise BackofficeError("ALREADY_DECIDED", f"this request is {req.status} already")
        if req.requested_by == who.account_id:
            raise BackofficeError("FOUR_EYES", "a second operator decides this request")
        conn.execute(update(gr).where(gr.c.id == goodwill_id)
                     .values(status="rejected", decided_by=who.account_id, decided_at=now))
        done = get(conn, goodwill_id)
        assert done is not None
        _audit(conn, who, "goodwill.rejected", done, request_id, before={"status": "pending"})
        return done

    return db.write(write)
