"""The outbox's delivery semantics: never twice while a lease is held, never stuck
behind a message the sender chokes on, never retried forever; and two real drainers on
PostgreSQL (threads and `notifications drain` processes) sending each message exactly once."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from network.db.engine import Database
from network.notifications import outbox
from network.notifications.drain import LEASE, _claim, drain
from network.notifications.schema import notification_outbox as box
from network.notifications.senders import Message
from tests.network import wallet_world as ww

ROOT = Path(__file__).resolve().parents[2]


def queue(db: Database, n: int = 1, channel: str = "email", recipient: str = "sara@example.com",
          now: dt.datetime = ww.T0) -> list[int]:
    return [db.write(lambda c, i=i: outbox.enqueue(c, channel=channel, recipient=recipient,  # type: ignore[misc]
                                                   subject="Code", body=f"Your code is {i:06d}",
                                                   now=now))
            for i in range(n)]


def rows(db: Database) -> list:
    return db.read(lambda c: c.execute(select(box).order_by(box.c.id)).all())


def test_a_lease_that_runs_out_mid_batch_does_not_send_a_message_twice(db):
    """A slow relay: each send takes 61 s, so the batch's 2-minute lease lapses before its third
    message; a second drainer (another process, or the inline one) claims that message then."""
    queue(db, 3)
    clock = ww.Clock()
    second = ww.Inbox()
    first: list[Message] = []

    class Slow:
        def send(self, message: Message) -> None:
            first.append(message)
            clock.advance(dt.timedelta(seconds=61))
            if len(first) == 2:
                drain(db, second, clock)

    drain(db, Slow(), clock)
    counts = Counter(m.id for m in first + second.messages)
    assert sorted(counts) == [1, 2, 3] and set(counts.values()) == {1}, counts
    assert [r.status for r in rows(db)] == ["sent"] * 3


def test_a_message_the_sender_chokes_on_neither_blocks_the_queue_nor_loops_forever(db):
    """An unexpected exception (not SendError) for one message: the others still go out, and the
    bad one backs off and is given up after max_attempts like any failure."""
    queue(db, 1, recipient="poison@example.com")
    queue(db, 2)
    clock = ww.Clock()
    inbox = ww.Inbox()

    class Choking:
        def send(self, message: Message) -> None:
            if message.recipient == "poison@example.com":
                raise UnicodeEncodeError("ascii", "x", 0, 1, "a bug in a sender")
            inbox.send(message)

    report = drain(db, Choking(), clock, max_attempts=3)
    assert (report.sent, report.retried) == (2, 1)
    for _ in range(3):
        clock.advance(dt.timedelta(hours=2))
        drain(db, Choking(), clock, max_attempts=3)
    poison = rows(db)[0]
    assert (poison.status, poison.attempts, poison.body) == ("failed", 3, None)
    assert "UnicodeEncodeError" in poison.last_error
    assert len(inbox.messages) == 2


def test_a_message_whose_drainer_keeps_dying_is_given_up(db):
    """A drainer killed mid-send (OOM, systemd's stop timeout) never records a failure; the
    attempts its claims counted must still end in 'failed', not a retry every lease forever."""
    queue(db)
    clock = ww.Clock()
    for _ in range(3):
        db.write(_claim, clock(), 50)  # claimed, then the process died
        clock.advance(LEASE)
    inbox = ww.Inbox()
    drain(db, inbox, clock, max_attempts=3)
    assert inbox.messages == []
    row = rows(db)[0]
    assert (row.status, row.attempts, row.body) == ("failed", 3, None)


def test_failed_and_sent_rows_keep_no_address(db):
    """The schema promises the address is not kept once a row is done; a give-up is done too,
    and the relay's error text often quotes the address."""
    queue(db, recipient="bounce@example.com")

    class Refusing:
        def send(self, message: Message) -> None:
            from network.notifications.senders import SendError
            raise SendError(f"smtp: {{'{message.recipient}': (550, b'no such user')}}")

    drain(db, Refusing(), ww.Clock(), max_attempts=1)
    row = rows(db)[0]
    assert row.status == "failed" and row.recipient is None
    assert "bounce@example.com" not in row.last_error and "550" in row.last_error


def test_two_drainers_in_threads_on_postgresql_send_each_message_once(pg_db):
    queue(pg_db, 300)
    sent: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    class Recording:
        def send(self, message: Message) -> None:
            with lock:
                sent.append(message.id)

    def run() -> None:
        start.wait()
        drain(pg_db, Recording(), ww.Clock(), batch=7)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counts = Counter(sent)
    assert len(counts) == 300 and set(counts.values()) == {1}
    assert {r.status for r in rows(pg_db)} == {"sent"}


def test_two_drain_commands_on_postgresql_send_each_message_once(pg_db):
    """`pointsnet notifications drain` in two processes at once, console sender."""
    queue(pg_db, 200, now=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    env = {**os.environ, "POINTSNET_DATABASE_URL": pg_db.url,
           "POINTSNET_NOTIFY_EMAIL_SENDER": "console"}
    cmd = [sys.executable, "-c", "from infra.cli import main; main()",
           "notifications", "drain", "--batch", "5"]
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    ids = [line.split(" id=")[1].split()[0]
           for out, _ in outputs for line in out.splitlines() if line.startswith("NOTIFY ")]
    counts = Counter(ids)
    assert len(counts) == 200 and set(counts.values()) == {1}
    assert {r.status for r in rows(pg_db)} == {"sent"}


def test_a_crash_between_sending_and_marking_sent_resends_with_the_same_id(db):
    """At least once, by design: the repeat carries the same id (the SMS Idempotency-Key, the
    email Message-ID) so the provider or the reader can tell it is one message."""
    queue(db)
    clock = ww.Clock()
    first = ww.Inbox()

    class Crash(BaseException):
        pass

    class SendsThenDies:
        def send(self, message: Message) -> None:
            first.send(message)
            raise Crash

    with pytest.raises(Crash):
        drain(db, SendsThenDies(), clock)
    again = ww.Inbox()
    assert drain(db, again, clock).sent == 0  # the lease still holds
    clock.advance(LEASE)
    assert drain(db, again, clock).sent == 1
    assert [m.id for m in first.messages] == [m.id for m in again.messages]
