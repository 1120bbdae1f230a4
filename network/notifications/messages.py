"""Lifecycle messages to members: the one way a message about points reaches the outbox.

`deliver` renders a kind for the member in their language and zone, asks `preferences.may_send`
for each channel the member has (dropping what they opted out of, holding what falls in their
quiet hours) and queues what remains, all in the caller's transaction. An `occasion` ("earned:
2026-12-07T09", "reward:42") is recorded in that same transaction, so a job rerun or a retried
request announces it once.

Programme code calls the named functions: `tier_changed` (tier changes), `reward_bought`
(rewards), `lottery_won` (the lottery), `donation_receipt` (donations); the periodic ones
(earned, pending now spendable, expiring) are in network/notifications/lifecycle.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from network import members
from network.clock import as_utc, utcnow
from network.config import Settings, get_settings
from network.db.schema import journal_entries, parties
from network.notifications import outbox, preferences, templates, unsubscribe
from network.notifications.consent_schema import message_occasions
from network.programme import ladder_store, tiers
from network.web.i18n import locale_for

PREFERENCES_PATH = "/wallet/preferences"


def claim_occasion(conn: Connection, member_id: int, occasion: str, now: dt.datetime) -> bool:
    """True the first time `occasion` is claimed for the member, False ever after."""
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    done = conn.execute(dialect_insert(message_occasions)
                        .values(member_id=member_id, occasion=occasion[:120], created_at=now)
                        .on_conflict_do_nothing()
                        .returning(message_occasions.c.member_id))
    return done.first() is not None


def localised(params: Mapping[str, Any], language: str) -> dict[str, Any]:
    """A value given as {"en": ..., "fa": ...} (a partner's or reward's name) in `language`."""
    return {k: (v.get(language) or v.get("en") or next(iter(v.values()), ""))
            if isinstance(v, Mapping) else v for k, v in params.items()}


def deliver(conn: Connection, member_id: int, kind: str, params: Mapping[str, Any], *,
            now: dt.datetime | None = None, occasion: str | None = None,
            settings: Settings | None = None, secret: str | None = None) -> list[int]:
    """Queue `kind` for the member on every channel they have and allow; the outbox ids.
    `secret` overrides the settings' key for callers that are handed only the key."""
    if kind not in preferences.KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    now = now or utcnow()
    settings = settings or get_settings()
    secret = secret or settings.secret_key
    if occasion is not None and not claim_occasion(conn, member_id, occasion, now):
        return []
    member = members.get(conn, member_id, secret)
    if member is None:
        return []
    prefs = preferences.load(conn, member_id, settings.timezone)
    return [outbox.enqueue(conn, **row)
            for row in compose(member, prefs, kind, params, now=now, settings=settings,
                               secret=secret)]


def compose(member: members.Member, prefs: preferences.Preferences, kind: str,
            params: Mapping[str, Any], *, now: dt.datetime, settings: Settings,
            secret: str) -> list[dict[str, Any]]:
    """What `deliver` queues for this member, as `outbox.enqueue`'s arguments, one per channel
    the member has and allows: rendering and deciding, no database (a caller that read the
    member and their preferences already writes the rows its own way: pg_buy.py)."""
    locale = locale_for(member.locale, prefs.zone)
    values = localised(params, locale.language)
    category = preferences.KINDS[kind]
    queued = []
    for channel, address in (("sms", member.phone), ("email", member.email)):
        if not address:
            continue
        decision = preferences.may_send(kind, channel, prefs, now)
        if isinstance(decision, preferences.Drop):
            continue
        unsubscribe_url = (unsubscribe.url(settings.base_url, secret, member.id, category)
                           if channel == "email" and category != "transactional" else None)
        rendered = templates.render(
            kind, channel, locale, values, name=member.display_name,
            unsubscribe_url=unsubscribe_url,
            preferences_url=settings.base_url.rstrip("/") + PREFERENCES_PATH)
        queued.append({
            "channel": channel, "recipient": address, "subject": rendered.subject[:200],
            "body": rendered.body, "now": now, "member_id": member.id, "kind": kind,
            "html_body": rendered.html, "unsubscribe_url": unsubscribe_url,
            "not_before": decision.until if isinstance(decision, preferences.Hold) else None})
    return queued


def _tier(ladder: Sequence[tiers.TierDefinition], code: str | None
          ) -> tuple[int, dict[str, str]]:
    """A tier's rank and names; an unknown code ranks lowest and is shown as it is."""
    for rank, definition in enumerate(ladder):
        if definition.code == code:
            return rank, {"en": definition.name_en, "fa": definition.name_fa}
    return -1, {"en": code or "-", "fa": code or "-"}


def tier_changed(conn: Connection, member_id: int, old: str | None, new: str | None, *,
                 now: dt.datetime | None = None, settings: Settings | None = None,
                 occasion: str | None = None) -> list[int]:
    """Tell the member their tier went up ("tier_reached") or down ("tier_lost"). Tier codes as
    in network/programme/tiers.py; the caller calls this once per change it stores."""
    if old == new:
        return []
    ladder = ladder_store.ladder(conn)
    old_rank, old_names = _tier(ladder, old)
    new_rank, new_names = _tier(ladder, new)
    kind = "tier_reached" if new_rank > old_rank else "tier_lost"
    return deliver(conn, member_id, kind, {"tier": new_names, "old": old_names}, now=now,
                   settings=settings, occasion=occasion)


def reward_bought(conn: Connection, member_id: int, *, reward: str | Mapping[str, str],
                  code: str, partner: str | Mapping[str, str], points: int,
                  occasion: str | None = None, now: dt.datetime | None = None,
                  settings: Settings | None = None, secret: str | None = None) -> list[int]:
    """The reward's code, sent while it is unused. `occasion` (e.g. "reward:<coupon id>") makes
    a retried purchase announce once."""
    return deliver(conn, member_id, "reward_bought",
                   {"reward": reward, "code": code, "partner": partner, "points": points},
                   now=now, occasion=occasion, settings=settings, secret=secret)


def lottery_won(conn: Connection, member_id: int, *, prize: str | Mapping[str, str],
                draw: str | Mapping[str, str], code: str, occasion: str | None = None,
                now: dt.datetime | None = None, settings: Settings | None = None,
                secret: str | None = None) -> list[int]:
    return deliver(conn, member_id, "lottery_won", {"prize": prize, "draw": draw, "code": code},
                   now=now, occasion=occasion, settings=settings, secret=secret)


def donation_receipt(conn: Connection, member_id: int, entry_id: int, *,
                     now: dt.datetime | None = None,
                     settings: Settings | None = None) -> list[int]:
    """A receipt for the donation booked as `entry_id`; once per entry, however often called."""
    row = conn.execute(
        select(journal_entries.c.points, journal_entries.c.booked_at, parties.c.name,
               parties.c.name_fa)
        .join(parties, parties.c.id == journal_entries.c.party_id)
        .where(journal_entries.c.id == entry_id, journal_entries.c.member_id == member_id,
               journal_entries.c.kind == "donate")
    ).first()
    if row is None:
        return []
    charity = {"en": row.name, "fa": row.name_fa or row.name}
    return deliver(conn, member_id, "donation_receipt",
                   {"points": int(row.points), "charity": charity, "receipt": str(entry_id),
                    "date": as_utc(row.booked_at)},
                   now=now, occasion=f"donation:{entry_id}", settings=settings)


def offer(conn: Connection, member_id: int, *, partner: str | Mapping[str, str],
          text: str | Mapping[str, str], occasion: str | None = None,
          now: dt.datetime | None = None, settings: Settings | None = None) -> list[int]:
    """A marketing message: reaches only members who opted in on that channel."""
    return deliver(conn, member_id, "offer", {"partner": partner, "text": text}, now=now,
                   occasion=occasion, settings=settings)
