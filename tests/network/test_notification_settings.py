"""Notification settings: a bad POINTSNET_NOTIFY_* value is refused at start-up with a
message naming the variable, and the drain command says so in one line, not a traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from network.notifications.config import NotificationSettings

WEBHOOK = {"POINTSNET_NOTIFY_SMS_SENDER": "webhook"}
SMTP = {"POINTSNET_NOTIFY_EMAIL_SENDER": "smtp"}


@pytest.mark.parametrize("env, variable", [
    ({**WEBHOOK, "POINTSNET_NOTIFY_SMS_WEBHOOK_URL": "http://"}, "SMS_WEBHOOK_URL"),
    ({**WEBHOOK, "POINTSNET_NOTIFY_SMS_WEBHOOK_URL": "https://[::1/send"}, "SMS_WEBHOOK_URL"),
    ({**WEBHOOK, "POINTSNET_NOTIFY_SMS_WEBHOOK_URL": "https://sms example/send"},
     "SMS_WEBHOOK_URL"),
    ({**SMTP, "POINTSNET_NOTIFY_SMTP_HOST": ""}, "SMTP_HOST"),
    ({**SMTP, "POINTSNET_NOTIFY_SMTP_PORT": "smtp"}, "SMTP_PORT"),
    ({**SMTP, "POINTSNET_NOTIFY_SMTP_PORT": "70000"}, "SMTP_PORT"),
    ({**SMTP, "POINTSNET_NOTIFY_SMTP_TIMEOUT": "soon"}, "SMTP_TIMEOUT"),
    ({**SMTP, "POINTSNET_NOTIFY_SMTP_TIMEOUT": "0"}, "SMTP_TIMEOUT"),
    ({"POINTSNET_NOTIFY_MAX_ATTEMPTS": "0"}, "MAX_ATTEMPTS"),
    ({"POINTSNET_NOTIFY_MAX_ATTEMPTS": "many"}, "MAX_ATTEMPTS"),
    ({"POINTSNET_NOTIFY_SMTP_STARTTLS": "perhaps"}, "SMTP_STARTTLS"),
])
def test_a_bad_value_names_its_variable(env, variable):
    with pytest.raises(ValueError, match="POINTSNET_NOTIFY_" + variable):
        NotificationSettings.from_env(env)


def test_good_values_are_read():
    settings = NotificationSettings.from_env({
        **SMTP, **WEBHOOK,
        "POINTSNET_NOTIFY_SMTP_HOST": "mail.example", "POINTSNET_NOTIFY_SMTP_PORT": "465",
        "POINTSNET_NOTIFY_SMS_WEBHOOK_URL": "https://sms.example:8443/send?account=7",
        "POINTSNET_NOTIFY_SMS_WEBHOOK_TIMEOUT": "2.5", "POINTSNET_NOTIFY_MAX_ATTEMPTS": "3"})
    assert (settings.smtp_host, settings.smtp_port, settings.sms_webhook_timeout,
            settings.max_attempts) == ("mail.example", 465, 2.5, 3)


def test_the_drain_command_reports_a_bad_setting_in_one_line(monkeypatch, tmp_path):
    from infra.cli import main
    from network.config import get_settings

    monkeypatch.setenv("POINTSNET_DATABASE_URL", f"sqlite:///{tmp_path}/unused.db")
    get_settings.cache_clear()
    monkeypatch.setenv("POINTSNET_NOTIFY_EMAIL_SENDER", "smtp")
    monkeypatch.setenv("POINTSNET_NOTIFY_SMTP_HOST", "")
    try:
        result = CliRunner().invoke(main, ["notifications", "drain"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # not a traceback
    assert "POINTSNET_NOTIFY_SMTP_HOST" in result.output
