"""Which messages a member gets, on which channel, and when: the rules and their store.

Every message has a kind, and every kind a category:
- transactional (sign-in codes, security notices): always sent, at once, whatever the member
  chose; a member cannot opt out of being told their contact details changed;
- programme (points earned, pending points spendable, expiring points, tier, reward bought,
  lottery won, donation receipt): on by default, each channel can be switched off;
- marketing: off until the member opts in on that channel, and the opt-in is recorded with the
  time and the exact words they were shown (`WORDINGS`, versioned: new words, new version).

Quiet hours (21:00 to 08:00 in the member's zone unless they chose otherwise) hold programme and
marketing messages until they end; transactional ones are never held.

`may_send` is the one decision. The outbox asks it when a message is queued (to drop or hold
it) and the drainer asks it again right before sending (preferences or the clock may have
changed since), so no path can send what the member said no to.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from network.errors import HubError
from network.notifications.consent_schema import message_consents, message_preferences
from network.web.i18n import zone as known_zone

Category = Literal["transactional", "programme", "marketing"]
CATEGORIES: tuple[str, ...] = ("transactional", "programme", "marketing")

KINDS: dict[str, Category] = {
    "signin_code": "transactional",
    "security": "transactional",
    "earned": "programme",
    "vested": "programme",
    "expiring": "programme",
    "tier_reached": "programme",
    "tier_lost": "programme",
    "reward_bought": "programme",
    "lottery_won": "programme",
    "donation_receipt": "programme",
    "offer": "marketing",
}

# The words a member sees beside the marketing opt-in, by version; the newest is shown. A
# consent quotes the version and the text in the language it was shown in. Never edit a
# version's words: add a new version.
WORDINGS: dict[str, dict[str, str]] = {
    "2026-12-v1": {
        "en": "Yes, send me offers and news from Points Network partners. I can stop at any "
              "time from this page, from the link in every email, or by replying STOP to a "
              "text message.",
        "fa": "بله، پیشنهادها و خبرهای شرکای شبکهٔ امتیاز را برایم بفرستید. هر وقت بخواهم "
              "می‌توانم از همین صفحه، با پیوند پایین هر ایمیل، یا با فرستادن STOP یا لغو در "
              "پاسخ پیامک آن را قطع کنم.",
    },
}
WORDING_VERSION = list(WORDINGS)[-1]

DEFAULT_QUIET = (21 * 60, 8 * 60)


@dataclass(frozen=True)
class Preferences:
    programme_sms: bool = True
    programme_email: bool = True
    marketing_sms: bool = False
    marketing_email: bool = False
    quiet: tuple[int, int] | None = DEFAULT_QUIET  # minutes after local midnight: start, end
    time_zone: str | None = None  # the member's choice; None: the network's
    network_zone: str = "UTC"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone or self.network_zone)

    def allows(self, category: str, channel: str) -> bool:
        if category == "transactional":
            return True
        return bool(getattr(self, f"{category}_{channel}", False))


@dataclass(frozen=True)
class Send:
    pass


@dataclass(frozen=True)
class Hold:
    until: dt.datetime  # UTC: when the quiet hours end


@dataclass(frozen=True)
class Drop:
    reason: str  # opted_out | no_consent | unknown_kind


Decision = Send | Hold | Drop


def category_of(kind: str | None) -> Category | None:
    """Rows queued before kinds existed (NULL) were sign-in codes and security notices."""
    return "transactional" if kind is None else KINDS.get(kind)


def may_send(kind: str | None, channel: str, prefs: Preferences, now: dt.datetime) -> Decision:
    """Send, hold until quiet hours end, or drop: the one answer every path follows."""
    category = category_of(kind)
    if category is None:
        return Drop("unknown_kind")
    if category == "transactional":
        return Send()
    if not prefs.allows(category, channel):
        return Drop("opted_out" if category == "programme" else "no_consent")
    until = quiet_until(prefs, now)
    return Hold(until) if until is not None else Send()


def quiet_until(prefs: Preferences, now: dt.datetime) -> dt.datetime | None:
    """When the quiet hours `now` falls in end (UTC), or None when `now` is not in them."""
    if prefs.quiet is None:
        return None
    start, end = prefs.quiet
    if start == end:
        return None
    local = now.astimezone(prefs.zone)
    minute = local.hour * 60 + local.minute
    if start < end:
        inside = start <= minute < end
        end_day = local.date()
    else:  # wraps midnight: 21:00-08:00
        inside = minute >= start or minute < end
        end_day = local.date() + dt.timedelta(days=1) if minute >= start else local.date()
    if not inside:
        return None
    wall = dt.datetime.combine(end_day, dt.time(end // 60, end % 60))
    # A wall time skipped by a daylight-saving change resolves forward, so the hold still ends.
    return wall.replace(tzinfo=prefs.zone).astimezone(dt.UTC)


# --- input ------------------------------------------------------------------------------------

class PreferencesError(HubError):
    code = "PREFERENCES_ERROR"
    codes = ("INVALID_QUIET_HOURS", "INVALID_TIME_ZONE", "CONSENT_WORDING_OUTDATED")

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message, code=code, field=field)


_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_clock(text: str, field: str) -> int:
    """'21:30' (Persian digits too) as minutes after midnight."""
    from network.web.i18n import ascii_digits
    found = _CLOCK.match(ascii_digits(text.strip()))
    if not found:
        raise PreferencesError("INVALID_QUIET_HOURS", "Give a time of day as HH:MM, e.g. 21:00.",
                               field=field)
    return int(found.group(1)) * 60 + int(found.group(2))


def clock_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def check_zone(name: str | None, field: str = "timeZone") -> str | None:
    if name is None or name == "":
        return None
    if known_zone(name) is None:
        raise PreferencesError("INVALID_TIME_ZONE",
                               "Give an IANA time zone such as Asia/Tehran or Europe/Berlin.",
                               field=field)
    return name


@dataclass(frozen=True)
class Change:
    """What a member asked to change; None leaves a setting as it is."""

    programme_sms: bool | None = None
    programme_email: bool | None = None
    marketing_sms: bool | None = None
    marketing_email: bool | None = None
    quiet: tuple[int, int] | None | Literal["keep"] = "keep"
    time_zone: str | None | Literal["keep"] = "keep"
    wording_version: str | None = None  # required to turn marketing on: the words they saw
    language: str = "en"


def apply(current: Preferences, change: Change) -> Preferences:
    """The preferences after `change`, refusing a marketing opt-in without today's wording."""
    granting = [c for c in ("sms", "email")
                if getattr(change, f"marketing_{c}") and not getattr(current, f"marketing_{c}")]
    if granting and change.wording_version != WORDING_VERSION:
        raise PreferencesError(
            "CONSENT_WORDING_OUTDATED",
            "Marketing needs the consent words shown now; reload and agree to them again.",
            field="wordingVersion")
    values: dict[str, object] = {}
    for name in ("programme_sms", "programme_email", "marketing_sms", "marketing_email"):
        given = getattr(change, name)
        if given is not None:
            values[name] = bool(given)
    if change.quiet != "keep":
        values["quiet"] = change.quiet
    if change.time_zone != "keep":
        values["time_zone"] = check_zone(change.time_zone)  # type: ignore[arg-type]
    return replace(current, **values)  # type: ignore[arg-type]


# --- store ------------------------------------------------------------------------------------

def load(conn: Connection, member_id: int, network_zone: str = "UTC") -> Preferences:
    row = conn.execute(select(message_preferences)
                       .where(message_preferences.c.member_id == member_id)).first()
    return from_row(row, network_zone)


def from_row(row: Any, network_zone: str = "UTC") -> Preferences:
    """The preferences a message_preferences row holds (None: the defaults), wherever it was
    read (network/programme/pg_buy.py reads it in its own statement)."""
    if row is None or row.programme_sms is None:
        return Preferences(network_zone=network_zone)
    quiet = (row.quiet_start, row.quiet_end) if row.quiet_start is not None else None
    return Preferences(programme_sms=row.programme_sms, programme_email=row.programme_email,
                       marketing_sms=row.marketing_sms, marketing_email=row.marketing_email,
                       quiet=quiet, time_zone=row.time_zone, network_zone=network_zone)


def save(conn: Connection, member_id: int, before: Preferences, after: Preferences, *,
         source: str, now: dt.datetime, language: str = "en") -> None:
    """Store `after` and record every grant or withdrawal it makes, quoting the marketing
    wording (in the language shown) when marketing is granted."""
    quiet = after.quiet or (None, None)
    values = {"programme_sms": after.programme_sms, "programme_email": after.programme_email,
              "marketing_sms": after.marketing_sms, "marketing_email": after.marketing_email,
              "quiet_start": quiet[0], "quiet_end": quiet[1], "time_zone": after.time_zone,
              "updated_at": now}
    # One statement, so two first saves at once (page and API) cannot both try to insert.
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(dialect_insert(message_preferences).values(member_id=member_id, **values)
                 .on_conflict_do_update(index_elements=[message_preferences.c.member_id],
                                        set_=values))
    for category in ("programme", "marketing"):
        for channel in ("sms", "email"):
            was, now_on = before.allows(category, channel), after.allows(category, channel)
            if was == now_on:
                continue
            words = WORDINGS[WORDING_VERSION]
            wording = (words.get(language, words["en"])
                       if category == "marketing" and now_on else None)
            conn.execute(insert(message_consents).values(
                member_id=member_id, category=category, channel=channel, granted=now_on,
                source=source, wording_version=WORDING_VERSION if wording else None,
                wording=wording, recorded_at=now))


def change(conn: Connection, member_id: int, change: Change, *, source: str, now: dt.datetime,
           network_zone: str = "UTC") -> Preferences:
    before = load(conn, member_id, network_zone)
    after = apply(before, change)
    save(conn, member_id, before, after, source=source, now=now, language=change.language)
    return after


def opt_out(conn: Connection, member_id: int, categories: tuple[str, ...], channel: str, *,
            source: str, now: dt.datetime) -> Preferences:
    """Switch `categories` off on `channel` (unsubscribe link, SMS STOP); idempotent."""
    before = load(conn, member_id)
    after = replace(before, **{f"{c}_{channel}": False for c in categories})  # type: ignore[arg-type]
    save(conn, member_id, before, after, source=source, now=now)
    return after


def consents(conn: Connection, member_id: int) -> list:  # type: ignore[type-arg]
    return conn.execute(select(message_consents)
                        .where(message_consents.c.member_id == member_id)
                        .order_by(message_consents.c.id)).all()
