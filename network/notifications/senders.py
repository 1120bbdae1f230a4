"""Senders: the console (development), SMTP for email, an HTTP webhook for an SMS provider."""

from __future__ import annotations

import logging
import smtplib
import sys
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol, TextIO

import httpx

from network.notifications.config import NotificationSettings

log = logging.getLogger("pointsnet.notifications")


@dataclass(frozen=True)
class Message:
    id: int
    channel: str
    recipient: str
    subject: str
    body: str
    html: str | None = None  # an HTML alternative of the email's plain-text body
    unsubscribe_url: str | None = None  # RFC 8058 one-click link; set on non-transactional email
    kind: str | None = None  # preferences.KINDS; None: transactional
    member_id: int | None = None


class SendError(Exception):
    """A delivery failed in a way worth retrying later."""


class Sender(Protocol):
    def send(self, message: Message) -> None: ...


class ConsoleSender:
    """Prints messages instead of sending them, so development needs no mail server.

    The line format is stable (`NOTIFY <channel> to=<recipient> ...`) because the browser test
    reads sign-in codes from it.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def send(self, message: Message) -> None:
        line = (f"NOTIFY {message.channel} to={message.recipient} id={message.id} "
                f"subject={message.subject!r} body={message.body!r}")
        stream = self._stream or sys.stdout
        print(line, file=stream, flush=True)
        log.info("console notification %s to %s", message.id, message.channel)


class SmtpSender:
    """Email through an SMTP relay with the standard library (STARTTLS unless turned off)."""

    def __init__(self, settings: NotificationSettings) -> None:
        self._s = settings

    def send(self, message: Message) -> None:
        mail = EmailMessage()
        mail["From"] = self._s.smtp_from
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        # The same id on an at-least-once repeat, so mail clients show one message.
        domain = self._s.smtp_from.rpartition("@")[2] or "pointsnet.local"
        mail["Message-ID"] = f"<pointsnet-notification-{message.id}@{domain}>"
        mail.set_content(message.body)
        if message.html:
            mail.add_alternative(message.html, subtype="html")
        if message.unsubscribe_url:
            # RFC 2369 + RFC 8058: mail providers show an unsubscribe button that POSTs
            # "List-Unsubscribe=One-Click" to the link, no sign-in and no page visit needed.
            mail["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
            mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        try:
            s = self._s
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout) as smtp:
                if self._s.smtp_starttls:
                    smtp.starttls()
                if self._s.smtp_user:
                    smtp.login(self._s.smtp_user, self._s.smtp_password)
                smtp.send_message(mail)
        except (smtplib.SMTPException, OSError) as exc:
            raise SendError(f"smtp: {exc}") from exc


class WebhookSmsSender:
    """SMS through a provider's HTTP webhook: POST JSON {to, body, id}, any 2xx is accepted.

    The message id goes along so a provider that deduplicates can drop our at-least-once repeats.
    """

    def __init__(self, settings: NotificationSettings, client: httpx.Client | None = None) -> None:
        self._s = settings
        self._client = client

    def send(self, message: Message) -> None:
        headers = {"Idempotency-Key": f"pointsnet-notification-{message.id}"}
        if self._s.sms_webhook_token:
            headers["Authorization"] = f"Bearer {self._s.sms_webhook_token}"
        payload = {"to": message.recipient, "body": message.body, "id": message.id}
        try:
            if self._client is not None:
                response = self._client.post(self._s.sms_webhook_url, json=payload, headers=headers)
            else:
                response = httpx.post(self._s.sms_webhook_url, json=payload, headers=headers,
                                      timeout=self._s.sms_webhook_timeout)
        except httpx.HTTPError as exc:
            raise SendError(f"sms webhook: {exc}") from exc
        if not 200 <= response.status_code < 300:
            raise SendError(f"sms webhook: HTTP {response.status_code}")


class ChannelRouter:
    """Dispatches by channel so email and SMS can use different transports."""

    def __init__(self, email: Sender, sms: Sender) -> None:
        self._by_channel: dict[str, Sender] = {"email": email, "sms": sms}

    def send(self, message: Message) -> None:
        self._by_channel[message.channel].send(message)


def sender_from_settings(settings: NotificationSettings,
                         stream: TextIO | None = None) -> ChannelRouter:
    console = ConsoleSender(stream)
    email: Sender = SmtpSender(settings) if settings.email_sender == "smtp" else console
    sms: Sender = WebhookSmsSender(settings) if settings.sms_sender == "webhook" else console
    return ChannelRouter(email, sms)
