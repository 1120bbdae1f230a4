"""`pointsnet messages preview`: a template rendered for a real member, with the member's own
figures where the ledger has them (spendable balance, last partner, next expiry and its points)
and telling samples elsewhere. Renders only: nothing is queued, no occasion is claimed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from network.clock import as_utc
from network.config import Settings
from network.db.schema import journal_entries, lots, parties
from network.ledger import balances
from network.members import Member
from network.notifications import messages, preferences, templates, unsubscribe
from network.web.i18n import locale_for

SAMPLE_PARTNER = {"en": "Corner Café", "fa": "کافه کرنر"}


def _last_partner(conn: Connection, member_id: int) -> dict[str, str]:
    row = conn.execute(
        select(parties.c.name, parties.c.name_fa)
        .join(journal_entries, journal_entries.c.party_id == parties.c.id)
        .where(journal_entries.c.member_id == member_id, journal_entries.c.kind == "earn")
        .order_by(journal_entries.c.id.desc()).limit(1)).first()
    return {"en": row.name, "fa": row.name_fa or row.name} if row else SAMPLE_PARTNER


def sample(conn: Connection, member: Member, kind: str, now: dt.datetime) -> dict[str, Any]:
    spendable = balances.summary(conn, member.id, now).spendable
    partner = _last_partner(conn, member.id)
    expiry = conn.execute(
        select(lots.c.expires_at).where(lots.c.member_id == member.id, lots.c.remaining > 0,
                                        lots.c.expires_at > now)
        .order_by(lots.c.expires_at).limit(1)).scalar()
    expires = as_utc(expiry).date() if expiry else (now + dt.timedelta(days=30)).date()
    expiring = conn.execute(
        select(func.coalesce(func.sum(lots.c.remaining), 0))
        .where(lots.c.member_id == member.id, lots.c.remaining > 0,
               lots.c.expires_at == expiry)).scalar() if expiry else 300
    return {
        "earned": {"points": 120, "count": 1, "balance": spendable, "partner": partner},
        "vested": {"points": 300, "balance": spendable},
        "expiring": {"points": int(expiring), "date": expires, "days": (expires - now.date()).days},
        "tier_reached": {"tier": {"en": "Silver", "fa": "نقره‌ای"},
                         "old": {"en": "Blue", "fa": "آبی"}},
        "tier_lost": {"tier": {"en": "Blue", "fa": "آبی"},
                      "old": {"en": "Silver", "fa": "نقره‌ای"}},
        "reward_bought": {"reward": {"en": "Free coffee", "fa": "قهوهٔ رایگان"},
                          "code": "K7Q2-MX4P", "partner": partner, "points": 500},
        "lottery_won": {"prize": {"en": "A city bicycle", "fa": "دوچرخهٔ شهری"},
                        "draw": {"en": "Yalda", "fa": "یلدا"}, "code": "W-99310"},
        "donation_receipt": {"points": 200, "charity": {"en": "Mahak", "fa": "محک"},
                             "receipt": "48213", "date": now.date()},
        "offer": {"partner": partner,
                  "text": {"en": "Two coffees for one this Friday.",
                           "fa": "جمعه دو قهوه به قیمت یکی."}},
    }[kind]


def preview(conn: Connection, member: Member, kind: str, *, language: str | None,
            channel: str, settings: Settings, now: dt.datetime) -> templates.Rendered:
    prefs = preferences.load(conn, member.id, settings.timezone)
    locale = locale_for(language or member.locale, prefs.zone)
    values = messages.localised(sample(conn, member, kind, now), locale.language)
    category = preferences.KINDS[kind]
    link = (unsubscribe.url(settings.base_url, settings.secret_key, member.id, category)
            if channel == "email" and category != "transactional" else None)
    return templates.render(kind, channel, locale, values, name=member.display_name,
                            unsubscribe_url=link,
                            preferences_url=settings.base_url.rstrip("/")
                            + messages.PREFERENCES_PATH)
