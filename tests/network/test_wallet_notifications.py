"""The outbox and its senders: console, SMTP (a real SMTP conversation), SMS webhook (a real
HTTP server), retries with back-off, giving up, and the `notifications drain` command."""

from __future__ import annotations

import datetime as dt
import io
import json
import socketserver
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from network.db.engine import Database
from network.notifications import outbox
from network.notifications.config import NotificationSettings
from network.notifications.drain import drain
from network.notifications.schema import notification_outbox as box
from network.notifications.senders import (
    ConsoleSender,
    Message,
    SendError,
    SmtpSender,
    WebhookSmsSender,
    sender_from_settings,
)
from tests.network import wallet_world as ww


def queue(db: Database, channel: str = "email", recipient: str = "sara@example.com",
          body: str = "Your code is 123456", now: dt.datetime = ww.T0) -> int:
    return db.write(lambda c: outbox.enqueue(c, channel=channel, recipient=recipient,
                                             subject="Code", body=body, now=now))


def rows(db: Database) -> list:
    return db.read(lambda c: c.execute(select(box).order_by(box.c.id)).all())


class Flaky:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[Message] = []

    def send(self, message: Message) -> None:
        if self.failures:
            self.failures -= 1
            raise SendError("provider down")
        self.sent.append(message)


def test_enqueue_is_part_of_the_callers_transaction(db):
    class Boom(Exception):
        pass

    def write_then_fail(conn):  # type: ignore[no-untyped-def]
        outbox.enqueue(conn, channel="sms", recipient="+989121234567", subject="s", body="b",
                       now=ww.T0)
        raise Boom

    with pytest.raises(Boom):
        db.write(write_then_fail)
    assert rows(db) == []


def test_enqueue_refuses_unknown_channels(db):
    with pytest.raises(ValueError):
        db.write(lambda c: outbox.enqueue(c, channel="fax",  # type: ignore[arg-type]
                                          recipient="x", subject="s", body="b", now=ww.T0))


def test_drain_sends_once_and_wipes_secrets(db):
    queue(db)
    queue(db, channel="sms", recipient="+989121234567")
    inbox = ww.Inbox()
    report = drain(db, inbox, lambda: ww.T0)
    assert report.sent == 2 and [m.channel for m in inbox.messages] == ["email", "sms"]
    assert [(r.status, r.body, r.recipient, r.attempts) for r in rows(db)] == [
        ("sent", None, None, 1), ("sent", None, None, 1)]
    assert drain(db, inbox, lambda: ww.T0).sent == 0 and len(inbox.messages) == 2


def test_failures_back_off_then_succeed(db):
    queue(db)
    sender = Flaky(failures=2)
    clock = ww.Clock()
    assert drain(db, sender, clock).retried == 1
    assert drain(db, sender, clock).sent == 0  # not due yet: backing off
    clock.advance(dt.timedelta(seconds=30))
    assert drain(db, sender, clock).retried == 1
    row = rows(db)[0]
    assert row.status == "pending" and row.last_error == "provider down"
    clock.advance(dt.timedelta(seconds=60))
    assert drain(db, sender, clock).sent == 1
    assert rows(db)[0].status == "sent" and rows(db)[0].attempts == 3


def test_gives_up_after_max_attempts_and_drops_the_body(db):
    queue(db)
    sender = Flaky(failures=100)
    clock = ww.Clock()
    for _ in range(3):
        drain(db, sender, clock, max_attempts=3)
        clock.advance(dt.timedelta(hours=2))
    row = rows(db)[0]
    assert (row.status, row.attempts, row.body) == ("failed", 3, None)


def test_a_claimed_row_is_not_sent_twice_by_a_second_drainer(db):
    queue(db)
    first, second = ww.Inbox(), ww.Inbox()

    class Reentrant:
        def send(self, message: Message) -> None:
            drain(db, second, lambda: ww.T0)  # another drainer runs while this one sends
            first.send(message)

    drain(db, Reentrant(), lambda: ww.T0)
    assert len(first.messages) == 1 and second.messages == []


def test_console_sender_prints_a_stable_line():
    out = io.StringIO()
    ConsoleSender(out).send(Message(7, "email", "sara@example.com", "Code", "Your code is 1"))
    assert out.getvalue() == ("NOTIFY email to=sara@example.com id=7 subject='Code' "
                              "body='Your code is 1'\n")


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) to receive one message the way a relay would."""

    def handle(self) -> None:
        self.wfile.write(b"220 test ESMTP\r\n")
        data = False
        lines: list[bytes] = []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            if data:
                if line == b".\r\n":
                    data = False
                    server: Any = self.server
                    server.received.append(b"".join(lines).decode())
                    self.wfile.write(b"250 queued\r\n")
                else:
                    lines.append(line)
                continue
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.wfile.write(b"250-test\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                data = True
                self.wfile.write(b"354 go ahead\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            elif verb == b"RCPT" and b"bounce" in line:
                self.wfile.write(b"550 no such user\r\n")
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_server() -> Iterator[socketserver.TCPServer]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_smtp_sender_delivers_through_a_relay(smtp_server):
    settings = NotificationSettings(email_sender="smtp", smtp_host="127.0.0.1",
                                    smtp_port=smtp_server.server_address[1], smtp_starttls=False,
                                    smtp_from="hub@pointsnet.test")
    SmtpSender(settings).send(Message(1, "email", "sara@example.com", "کد ورود",
                                      "Your code is 123456"))
    (mail,) = smtp_server.received
    assert "To: sara@example.com" in mail and "From: hub@pointsnet.test" in mail
    assert "Your code is 123456" in mail
    assert "Message-ID: <pointsnet-notification-1@pointsnet.test>" in mail


def test_smtp_refusal_and_unreachable_relay_are_retryable(smtp_server):
    settings = NotificationSettings(smtp_host="127.0.0.1", smtp_starttls=False,
                                    smtp_port=smtp_server.server_address[1], smtp_timeout=2)
    with pytest.raises(SendError):
        SmtpSender(settings).send(Message(1, "email", "bounce@example.com", "s", "b"))
    closed = NotificationSettings(smtp_host="127.0.0.1", smtp_port=1, smtp_timeout=2)
    with pytest.raises(SendError):
        SmtpSender(closed).send(Message(1, "email", "sara@example.com", "s", "b"))


@pytest.fixture
def sms_provider() -> Iterator[HTTPServer]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            self.server.calls.append((dict(self.headers), body))  # type: ignore[attr-defined]
            if body["to"].endswith("9999"):
                time.sleep(2)  # a provider slower than the configured timeout
            status = 503 if body["to"].endswith("0000") else 202
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.calls = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_webhook_sender_posts_json_with_token_and_idempotency_key(sms_provider):
    url = f"http://127.0.0.1:{sms_provider.server_address[1]}/sms"
    settings = NotificationSettings(sms_sender="webhook", sms_webhook_url=url,
                                    sms_webhook_token="t0ken")
    WebhookSmsSender(settings).send(Message(42, "sms", "+989121234567", "s", "Code 123456"))
    ((headers, body),) = sms_provider.calls
    assert body == {"to": "+989121234567", "body": "Code 123456", "id": 42}
    assert headers["Authorization"] == "Bearer t0ken"
    assert headers["Idempotency-Key"] == "pointsnet-notification-42"
    with pytest.raises(SendError, match="HTTP 503"):
        WebhookSmsSender(settings).send(Message(43, "sms", "+989120000000", "s", "b"))


def test_webhook_sender_gives_up_after_its_timeout(sms_provider):
    url = f"http://127.0.0.1:{sms_provider.server_address[1]}/sms"
    settings = NotificationSettings.from_env({
        "POINTSNET_NOTIFY_SMS_SENDER": "webhook", "POINTSNET_NOTIFY_SMS_WEBHOOK_URL": url,
        "POINTSNET_NOTIFY_SMS_WEBHOOK_TIMEOUT": "0.2"})
    started = time.monotonic()
    with pytest.raises(SendError, match="sms webhook"):
        WebhookSmsSender(settings).send(Message(44, "sms", "+989129999999", "s", "b"))
    assert time.monotonic() - started < 1.5  # gave up before the provider answered


def test_settings_from_env_route_channels_and_name_bad_values():
    env = {"POINTSNET_NOTIFY_EMAIL_SENDER": "smtp", "POINTSNET_NOTIFY_SMS_SENDER": "webhook",
           "POINTSNET_NOTIFY_SMS_WEBHOOK_URL": "https://sms.example/send",
           "POINTSNET_NOTIFY_INLINE_DRAIN": "0"}
    settings = NotificationSettings.from_env(env)
    assert settings.inline_drain is False
    router = sender_from_settings(settings)
    assert isinstance(router._by_channel["email"], SmtpSender)
    assert isinstance(router._by_channel["sms"], WebhookSmsSender)
    assert isinstance(sender_from_settings(NotificationSettings())._by_channel["sms"],
                      ConsoleSender)
    with pytest.raises(ValueError, match="EMAIL_SENDER"):
        NotificationSettings.from_env({"POINTSNET_NOTIFY_EMAIL_SENDER": "pigeon"})
    with pytest.raises(ValueError, match="WEBHOOK_URL"):
        NotificationSettings.from_env({"POINTSNET_NOTIFY_SMS_SENDER": "webhook"})
    with pytest.raises(ValueError, match="boolean"):
        NotificationSettings.from_env({"POINTSNET_NOTIFY_INLINE_DRAIN": "maybe"})


def test_drain_command_sends_with_the_console_sender(sqlite_db, monkeypatch):
    from infra.cli import main

    queue(sqlite_db, body="Your Points Network code is 654321.")
    monkeypatch.setenv("POINTSNET_DATABASE_URL", sqlite_db.url)
    from network.config import get_settings
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["notifications", "drain"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "NOTIFY email to=sara@example.com" in result.output and "654321" in result.output
    assert rows(sqlite_db)[0].status == "sent"


def test_inline_drainer_sends_in_the_background(db):
    from network.notifications.inline import InlineDrainer

    queue(db)
    inbox = ww.Inbox()
    drainer = InlineDrainer(db, inbox, clock=lambda: ww.T0)
    drainer.kick()
    drainer.kick()
    for _ in range(200):
        if not drainer._running:
            break
        threading.Event().wait(0.01)
    assert len(inbox.messages) == 1 and rows(db)[0].status == "sent"
