"""Builders for the wallet tests: members with contact details, earned points, a clock, and a
sender that keeps messages so a test can read the code it was sent."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlalchemy import select

from network import ledger, members
from network.config import Settings
from network.db.engine import Database
from network.notifications.drain import drain
from network.notifications.senders import Message
from tests.support import ledger_world as w

SECRET = w.SECRET
T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
CODE = re.compile(r"\b(\d{6})\b")


def settings(env: str = "test") -> Settings:
    return Settings(database_url="sqlite://", env=env, secret_key=SECRET)


@dataclass
class Clock:
    now: dt.datetime = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta


@dataclass
class Inbox:
    """A Sender that keeps every message, for tests to open."""

    messages: list[Message] = field(default_factory=list)

    def send(self, message: Message) -> None:
        self.messages.append(message)

    def code_for(self, recipient: str) -> str:
        for message in reversed(self.messages):
            if message.recipient == recipient:
                found = CODE.search(message.body)
                assert found, message.body
                return found.group(1)
        raise AssertionError(f"no message to {recipient}: {self.messages}")


def deliver(db: Database, inbox: Inbox, clock: Clock | None = None) -> Inbox:
    drain(db, inbox, clock or (lambda: dt.datetime.now(dt.UTC)))
    return inbox


def enrol(db: Database, *, email: str | None = None, phone: str | None = None,
          name: str | None = None, locale: str = "en", by: int | None = None,
          now: dt.datetime | None = None) -> int:
    return members.enrol(db, secret=SECRET, scope="system", idempotency_key=w.key("enrol"),
                         enrolled_by=by, email=email, phone=phone, display_name=name,
                         locale=locale, now=now).id


def earn(db: Database, partner: int, member: int, points: int, *, at: dt.datetime = T0,
         pending: dt.timedelta = dt.timedelta(0), expires_in: dt.timedelta = 365 * DAY,
         reference: str | None = None) -> ledger.Receipt:
    return ledger.earn(db, scope=f"partner:{partner}", idempotency_key=w.key("earn"),
                       issuer_id=partner, member_id=member, points=points, vests_at=at + pending,
                       expires_at=at + expires_in, reference=reference, now=at)


def count(db: Database, table) -> int:  # type: ignore[no-untyped-def]
    return len(db.read(lambda c: c.execute(select(table)).all()))
