"""Notification settings, read from POINTSNET_NOTIFY_* environment variables.

Kept apart from the core Settings because only the sender needs them, and because SMTP passwords
and webhook tokens should not travel with every request context.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

import httpx

from network.config import ConfigError

PREFIX = "POINTSNET_NOTIFY_"
T = TypeVar("T", int, float)
_HOST = re.compile(r"[A-Za-z0-9.-]+|[0-9A-Fa-f:.]+")


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(PREFIX + name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{PREFIX}{name} must be a boolean (1/0, true/false), got {value!r}")


def _number(env: Mapping[str, str], name: str, kind: type[T], default: T) -> T:
    """int()/float() would fail naming the value but not the variable it came from."""
    value = env.get(PREFIX + name, "")
    if value == "":
        return default
    try:
        return kind(value)
    except ValueError:
        raise ConfigError(f"{PREFIX}{name} must be a number, got {value!r}") from None


@dataclass(frozen=True)
class NotificationSettings:
    email_sender: str = "console"  # console | smtp
    sms_sender: str = "console"  # console | webhook
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "no-reply@pointsnet.local"
    smtp_starttls: bool = True
    smtp_timeout: float = 10.0
    sms_webhook_url: str = ""
    sms_webhook_token: str = ""
    sms_webhook_timeout: float = 10.0
    # The bearer token the SMS provider sends with inbound texts (STOP); empty: endpoint off.
    sms_inbound_token: str = ""
    inline_drain: bool = True  # the web app drains right after a code request commits
    max_attempts: int = 8

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> NotificationSettings:
        e = os.environ if env is None else env
        p = PREFIX
        settings = cls(
            email_sender=e.get(p + "EMAIL_SENDER", "console"),
            sms_sender=e.get(p + "SMS_SENDER", "console"),
            smtp_host=e.get(p + "SMTP_HOST", "localhost"),
            smtp_port=_number(e, "SMTP_PORT", int, 587),
            smtp_user=e.get(p + "SMTP_USER", ""),
            smtp_password=e.get(p + "SMTP_PASSWORD", ""),
            smtp_from=e.get(p + "SMTP_FROM", "no-reply@pointsnet.local"),
            smtp_starttls=_flag(e, "SMTP_STARTTLS", True),
            smtp_timeout=_number(e, "SMTP_TIMEOUT", float, 10.0),
            sms_webhook_url=e.get(p + "SMS_WEBHOOK_URL", ""),
            sms_webhook_token=e.get(p + "SMS_WEBHOOK_TOKEN", ""),
            sms_webhook_timeout=_number(e, "SMS_WEBHOOK_TIMEOUT", float, 10.0),
            sms_inbound_token=e.get(p + "SMS_INBOUND_TOKEN", ""),
            inline_drain=_flag(e, "INLINE_DRAIN", True),
            max_attempts=_number(e, "MAX_ATTEMPTS", int, 8),
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Fail at start-up, naming the variable, rather than at the first sign-in."""
        if self.email_sender not in ("console", "smtp"):
            raise ConfigError("POINTSNET_NOTIFY_EMAIL_SENDER must be 'console' or 'smtp'")
        if self.sms_sender not in ("console", "webhook"):
            raise ConfigError("POINTSNET_NOTIFY_SMS_SENDER must be 'console' or 'webhook'")
        if self.email_sender == "smtp":
            if not self.smtp_host.strip():
                raise ConfigError("POINTSNET_NOTIFY_SMTP_HOST is empty; the SMTP sender needs a "
                                 "relay's host name")
            if not 0 < self.smtp_port < 65536:
                raise ConfigError("POINTSNET_NOTIFY_SMTP_PORT must be a port number (1-65535)")
        if self.sms_sender == "webhook" and not _is_http_url(self.sms_webhook_url):
            raise ConfigError("POINTSNET_NOTIFY_SMS_WEBHOOK_URL must be an http(s) URL with a "
                             f"host, got {self.sms_webhook_url!r}")
        # Zero would mean "no wait" to a socket, and an unbounded send would outlive the lease.
        if not self.smtp_timeout > 0:
            raise ConfigError("POINTSNET_NOTIFY_SMTP_TIMEOUT must be more than 0 seconds")
        if not self.sms_webhook_timeout > 0:
            raise ConfigError("POINTSNET_NOTIFY_SMS_WEBHOOK_TIMEOUT must be more than 0 seconds")
        if self.max_attempts < 1:
            raise ConfigError("POINTSNET_NOTIFY_MAX_ATTEMPTS must be at least 1")


def _is_http_url(url: str) -> bool:
    """Parsed the way the sender will use it, so a URL that passes here is one httpx accepts."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return False
    # httpx percent-encodes what a host may not hold ("sms example"); a real host has none.
    host = parsed.raw_host.decode("ascii")  # IDNA-encoded, IPv6 without its brackets
    return parsed.scheme in ("http", "https") and _HOST.fullmatch(host) is not None
