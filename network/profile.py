"""A member's profile: display name, birth date, city, preferred language and interests.

Name, birth date and language live on the member row (partners enrol with them); city,
interests and when the profile became complete live in `member_profiles`, one row per member
who ever saved a profile. A profile is COMPLETE with a name, a birth date, a city and at least
one interest; the first time it is, the network raises the `profile_completed` lifecycle fact
(once per member, ever: key `profile_completed:<member>`) in the same transaction, so a
campaign on that trigger gives its points exactly once, even if the member empties and refills
the profile.

Interests come from the network's own list (`INTERESTS`): free text would be personal data
nobody can segment on. Their words are in the message catalogues (`interest_<slug>`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Connection, ForeignKey, String, Table, insert, select, update

from network import audit, members
from network.clock import as_utc
from network.db.engine import Database
from network.db.schema import BigId, Timestamp, metadata
from network.db.schema import members as members_table
from network.ledger.errors import MemberNotFound
from network.programme import inbox
from network.programme.facts import LifecycleEvent
from network.wallet.errors import WalletError

# The network's list of interests (slugs; words in messages_en/fa as interest_<slug>).
INTERESTS: tuple[str, ...] = ("coffee", "dining", "groceries", "fashion", "travel", "health",
                              "books", "sports", "family", "tech")
MAX_CITY = 100
MAX_NAME = 200

member_profiles = Table(
    "member_profiles",
    metadata,
    Column("member_id", BigId, ForeignKey("members.id"), primary_key=True),
    Column("city", String(MAX_CITY)),
    Column("interests", JSON, nullable=False),  # a list of INTERESTS slugs, in list order
    Column("updated_at", Timestamp, nullable=False),
    # First time the profile was complete; never cleared, so the fact is raised once.
    Column("completed_at", Timestamp),
    Column("erased_at", Timestamp),  # set when the member's personal data was erased
)


@dataclass(frozen=True)
class Profile:
    member_id: int
    display_name: str | None
    birth_date: date | None
    city: str | None
    language: str
    interests: tuple[str, ...]
    completed_at: datetime | None
    erased_at: datetime | None

    @property
    def complete(self) -> bool:
        return is_complete(self.display_name, self.birth_date, self.city, self.interests)


@dataclass(frozen=True)
class ProfileChange:
    """Every field as the member sends it; None keeps the stored value, "" (or []) clears it."""

    display_name: str | None = None
    birth_date: date | str | None = None
    city: str | None = None
    language: str | None = None
    interests: list[str] | tuple[str, ...] | None = None


def is_complete(name: str | None, birth_date: date | None, city: str | None,
                interests: tuple[str, ...] | list[str]) -> bool:
    return bool(name and name.strip()) and birth_date is not None and bool(
        city and city.strip()) and len(interests) >= 1


def _clean_text(value: str, field: str, limit: int) -> str | None:
    cleaned = " ".join(value.split())
    if len(cleaned) > limit:
        raise WalletError("NAME_TOO_LONG" if field == "displayName" else "CITY_TOO_LONG",
                          f"At most {limit} characters.", field=field, params={"max": limit})
    if any(not ch.isprintable() for ch in cleaned):
        raise WalletError("INVALID_NAME" if field == "displayName" else "INVALID_CITY",
                          "Use letters, digits and spaces only.", field=field)
    return cleaned or None


def parse_birth_date(value: date | str, today: date) -> date | None:
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            value = date.fromisoformat(value.strip())
        except ValueError as exc:
            raise WalletError("INVALID_BIRTH_DATE", "Enter the date as YYYY-MM-DD.",
                              field="birthDate") from exc
    if not members.EARLIEST_BIRTH_DATE <= value <= today:
        raise WalletError("INVALID_BIRTH_DATE", "The birth date must be between 1900 and today.",
                          field="birthDate")
    return value


def parse_interests(values: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    unknown = [v for v in values if v not in INTERESTS]
    if unknown:
        raise WalletError("UNKNOWN_INTEREST",
                          f"Choose interests from the list: {', '.join(INTERESTS)}.",
                          field="interests")
    chosen = set(values)
    return tuple(slug for slug in INTERESTS if slug in chosen)


def changes(current: Profile, change: ProfileChange, today: date) -> dict[str, Any]:
    """The validated new values of the fields `change` names (pure: no database)."""
    new: dict[str, Any] = {}
    if change.display_name is not None:
        new["display_name"] = _clean_text(change.display_name, "displayName", MAX_NAME)
    if change.birth_date is not None:
        new["birth_date"] = parse_birth_date(change.birth_date, today)
    if change.city is not None:
        new["city"] = _clean_text(change.city, "city", MAX_CITY)
    if change.language is not None:
        if change.language not in members.LOCALES:
            raise WalletError("INVALID_LOCALE", "The language is 'en' or 'fa'.", field="language")
        new["language"] = change.language
    if change.interests is not None:
        new["interests"] = parse_interests(change.interests)
    return {name: value for name, value in new.items() if value != getattr(current, name)}


def get(conn: Connection, member_id: int) -> Profile | None:
    row = conn.execute(select(members_table.c.id, members_table.c.display_name,
                              members_table.c.birth_date, members_table.c.locale)
                       .where(members_table.c.id == member_id)).first()
    if row is None:
        return None
    extra = conn.execute(select(member_profiles).where(member_profiles.c.member_id == member_id)
                         ).first()
    return Profile(
        member_id=row.id, display_name=row.display_name, birth_date=row.birth_date,
        city=extra.city if extra else None, language=row.locale,
        interests=tuple(extra.interests or ()) if extra else (),
        completed_at=as_utc(extra.completed_at) if extra and extra.completed_at else None,
        erased_at=as_utc(extra.erased_at) if extra and extra.erased_at else None)


def saved_by_member(conn: Connection, member_id: int) -> bool:
    """Whether the member saved a profile themselves (their language is then their choice)."""
    return conn.execute(select(member_profiles.c.member_id).where(
        member_profiles.c.member_id == member_id)).first() is not None


def chosen_language(conn: Connection, member_id: int) -> str | None:
    """The language the member chose on their profile, if they ever saved one: the wallet's
    default language for them (a partner's enrolment only guessed it)."""
    row = conn.execute(select(members_table.c.locale).select_from(members_table.join(
        member_profiles, member_profiles.c.member_id == members_table.c.id))
        .where(members_table.c.id == member_id)).first()
    return row.locale if row else None


@dataclass(frozen=True)
class ProfileSaved:
    profile: Profile
    changed: tuple[str, ...]
    completed_now: bool  # this save made it complete for the first time: the fact was raised


def update_profile(db: Database, member_id: int, change: ProfileChange, *, now: datetime,
                   timezone: str = "UTC", request_id: str | None = None) -> ProfileSaved:
    """Validate, save, and raise `profile_completed` the first time it is complete: one
    transaction. A refused change writes nothing."""

    def transaction(conn: Connection) -> ProfileSaved:
        current = get(conn, member_id)
        if current is None or current.erased_at is not None:
            raise MemberNotFound("no member with this id", field="memberId")
        new = changes(current, change, now.date())
        member_values = {("locale" if k == "language" else k): v for k, v in new.items()
                         if k in ("display_name", "birth_date", "language")}
        if member_values:
            conn.execute(update(members_table).where(members_table.c.id == member_id)
                         .values(**member_values))
        merged = Profile(**{**current.__dict__, **new})
        completed_now = merged.complete and current.completed_at is None
        completed_at = now if completed_now else current.completed_at
        profile_values = {"city": merged.city, "interests": list(merged.interests),
                          "updated_at": now, "completed_at": completed_at}
        if saved_by_member(conn, member_id):
            conn.execute(update(member_profiles)
                         .where(member_profiles.c.member_id == member_id).values(**profile_values))
        else:
            conn.execute(insert(member_profiles).values(member_id=member_id, **profile_values))
        if completed_now:
            inbox.record(conn, LifecycleEvent(kind="profile_completed", member_id=member_id,
                                              at=now, partner_id=None, attributes={}),
                         key=f"profile_completed:{member_id}", now=now, timezone=timezone)
        if new:
            # Field names only: the values are personal data (see network/audit.py).
            audit.record(conn, actor_kind="member", actor_id=member_id, action="profile.updated",
                         subject=audit.member_subject(member_id),
                         after={"fields": sorted(new), "complete": merged.complete},
                         request_id=request_id, at=now)
        saved = Profile(**{**merged.__dict__, "completed_at": completed_at})
        return ProfileSaved(saved, tuple(sorted(new)), completed_now)

    return db.write(transaction)
