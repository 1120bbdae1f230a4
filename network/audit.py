"""The audit log: who did what to whom, appended in the same transaction as the act itself.

One table for every kind of actor (a member, a staff user, a partner's user, the system), so
operators read one trail: a member's erasure request and its completion today, staff actions on
members next (issue 19). It is append-only: this module inserts and reads, nothing updates or
deletes a row, and erasing a member keeps their rows (they hold ids, never personal data).

What goes in `before` / `after` is the caller's choice, under one rule: ids, counts, field
NAMES and states, never the personal values themselves (no phone, email, name, birth date,
address, card number, code or token). `record` refuses keys that look like such values, so a
careless caller fails in its tests instead of leaking into a log that is kept forever.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import JSON, Column, Connection, Index, String, Table, insert, select

from network.clock import as_utc, utcnow
from network.db.schema import BigId, Timestamp, metadata

ActorKind = Literal["member", "staff", "partner_user", "system"]
ACTOR_KINDS: tuple[str, ...] = ("member", "staff", "partner_user", "system")

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", Timestamp, nullable=False),
    Column("actor_kind", String(16), nullable=False),
    Column("actor_id", String(64)),  # NULL for the system
    Column("action", String(64), nullable=False),  # dotted: erasure.requested, profile.updated
    Column("subject", String(100), nullable=False),  # what it was done to: member:42
    Column("before", JSON),
    Column("after", JSON),
    Column("request_id", String(64)),  # the HTTP request's X-Request-ID, to join with the logs
)
Index("ix_audit_log_subject", audit_log.c.subject, audit_log.c.id)
Index("ix_audit_log_at", audit_log.c.at)

# Keys whose values would be personal data: refused in before/after (see the module docstring).
PERSONAL_KEYS = frozenset({"phone", "email", "name", "display_name", "displayName",
                           "birth_date", "birthDate", "city", "address", "card_number",
                           "cardNumber", "code", "token", "ip", "user_agent"})


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor_kind: str
    actor_id: str | None
    action: str
    subject: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None


def member_subject(member_id: int) -> str:
    return f"member:{member_id}"


def _check_clean(values: Mapping[str, Any] | None, where: str) -> dict[str, Any] | None:
    if values is None:
        return None
    personal = sorted(PERSONAL_KEYS & set(values))
    if personal:
        raise ValueError(f"audit {where} must not carry personal data: {', '.join(personal)}")
    return dict(values)


def record(conn: Connection, *, actor_kind: ActorKind, actor_id: int | str | None, action: str,
           subject: str, before: Mapping[str, Any] | None = None,
           after: Mapping[str, Any] | None = None, request_id: str | None = None,
           at: datetime | None = None) -> int:
    """Append one entry in the caller's transaction: it exists exactly when the act commits."""
    if actor_kind not in ACTOR_KINDS:
        raise ValueError(f"actor kind must be one of {', '.join(ACTOR_KINDS)}")
    return int(conn.execute(insert(audit_log).values(
        at=at or utcnow(), actor_kind=actor_kind,
        actor_id=None if actor_id is None else str(actor_id), action=action, subject=subject,
        before=_check_clean(before, "before"), after=_check_clean(after, "after"),
        request_id=request_id[:64] if request_id else None,
    ).returning(audit_log.c.id)).scalar_one())


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(row.id, as_utc(row.at), row.actor_kind, row.actor_id, row.action,
                      row.subject, row.before, row.after, row.request_id)


def entries(conn: Connection, *, subject: str | None = None, action: str | None = None,
            since: datetime | None = None, until: datetime | None = None,
            limit: int | None = None) -> list[AuditEntry]:
    """Entries in the order they were written, filtered; `action` may end in '.*' (a family)."""
    query = select(audit_log).order_by(audit_log.c.id)
    if subject is not None:
        query = query.where(audit_log.c.subject == subject)
    if action is not None:
        if action.endswith(".*"):
            query = query.where(audit_log.c.action.startswith(action[:-1], autoescape=True))
        else:
            query = query.where(audit_log.c.action == action)
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    if until is not None:
        query = query.where(audit_log.c.at < until)
    if limit is not None:
        query = query.limit(limit)
    return [_entry(row) for row in conn.execute(query)]


CSV_COLUMNS = ("id", "at", "actor_kind", "actor_id", "action", "subject", "before", "after",
               "request_id")


def as_csv(rows: Iterable[AuditEntry]) -> str:
    """RFC 4180 CSV, before/after as compact JSON, times in ISO 8601 UTC."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for e in rows:
        writer.writerow([e.id, e.at.isoformat(), e.actor_kind, e.actor_id or "", e.action,
                         e.subject, _json(e.before), _json(e.after), e.request_id or ""])
    return out.getvalue()


def _json(value: dict[str, Any] | None) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"))
