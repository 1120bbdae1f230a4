"""Notification settings, read from POINTSNET_NOTIFY_* environment variables.

Kept apart from the core Settings because only the sender needs them, and because SMTP passwords
and webhook tokens should not travel with every request context.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected a boolean, got {value!r}")


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
    inline_drain: bool = True  # the web app drains right after a code request commits
    max_attempts: int = 8

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> NotificationSettings:
        e = os.environ if env is None else env
        p = "POINTSNET_NOTIFY_"
        settings = cls(
            email_sender=e.get(p + "EMAIL_SENDER", "console"),
            sms_sender=e.get(p + "SMS_SENDER", "console"),
            smtp_host=e.get(p + "SMTP_HOST", "localhost"),
            smtp_port=int(e.get(p + "SMTP_PORT", "587")),
            smtp_user=e.get(p + "SMTP_USER", ""),
            smtp_password=e.get(p + "SMTP_PASSWORD", ""),
            smtp_from=e.get(p + "SMTP_FROM", "no-reply@pointsnet.local"),
            smtp_starttls=_flag(e.get(p + "SMTP_STARTTLS"), True),
            smtp_timeout=float(e.get(p + "SMTP_TIMEOUT", "10")),
            sms_webhook_url=e.get(p + "SMS_WEBHOOK_URL", ""),
            sms_webhook_token=e.get(p + "SMS_WEBHOOK_TOKEN", ""),
            inline_drain=_flag(e.get(p + "INLINE_DRAIN"), True),
            max_attempts=int(e.get(p + "MAX_ATTEMPTS", "8")),
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Fail at start-up, naming the variable, rather than at the first sign-in."""
        if self.email_sender not in ("console", "smtp"):
            raise ValueError("POINTSNET_NOTIFY_EMAIL_SENDER must be 'console' or 'smtp'")
        if self.sms_sender not in ("console", "webhook"):
            raise ValueError("POINTSNET_NOTIFY_SMS_SENDER must be 'console' or 'webhook'")
        url = self.sms_webhook_url
        if self.sms_sender == "webhook" and not url.startswith(("https://", "http://")):
            raise ValueError("POINTSNET_NOTIFY_SMS_WEBHOOK_URL must be an http(s) URL")
