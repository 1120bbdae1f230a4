"""`pointsnet messages preview`: every lifecycle template rendered for a real member, in both
languages and on both channels, without queueing anything."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from infra.cli import main
from network import members, parties
from network.config import get_settings
from network.notifications.cli import LIFECYCLE_KINDS
from network.notifications.schema import notification_outbox as box
from tests.network import wallet_world as ww


@pytest.fixture
def card(sqlite_db, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("POINTSNET_DATABASE_URL", sqlite_db.url)
    monkeypatch.setenv("POINTSNET_SECRET_KEY", ww.SECRET)
    get_settings.cache_clear()  # the command reads the settings once per process
    cafe = sqlite_db.write(lambda c: parties.create(
        c, kind="partner", code="roshan", name="Cafe Roshan", name_fa="کافه روشن"))
    sara = ww.enrol(sqlite_db, email="sara@example.com", phone="+989121234567", name="Sara")
    ww.earn(sqlite_db, cafe, sara, 1450, at=ww.T0)
    yield sqlite_db.read(members.get, sara, ww.SECRET).card_number
    get_settings.cache_clear()


@pytest.mark.parametrize("channel", ["sms", "email"])
@pytest.mark.parametrize("lang", ["en", "fa"])
@pytest.mark.parametrize("kind", LIFECYCLE_KINDS)
def test_preview_renders_each_kind(sqlite_db, card: str, kind: str, lang: str,
                                   channel: str) -> None:
    result = CliRunner().invoke(main, ["messages", "preview", kind, "--member", card,
                                       "--lang", lang, "--channel", channel])
    assert result.exit_code == 0, result.output
    assert card not in result.output
    if channel == "email":
        assert result.output.startswith("Subject: ") and "/unsubscribe/" in result.output
    if kind == "earned":
        assert ("Cafe Roshan" if lang == "en" else "کافه روشن") in result.output
    assert sqlite_db.read(lambda c: c.execute(select(box)).all()) == []


def test_preview_html_and_unknown_cards(sqlite_db, card: str) -> None:
    html = CliRunner().invoke(main, ["messages", "preview", "expiring", "--member", card,
                                     "--html", "--lang", "fa"])
    assert html.exit_code == 0 and 'dir="rtl"' in html.output
    missing = CliRunner().invoke(main, ["messages", "preview", "earned", "--member",
                                        "4111111111111111"])
    assert missing.exit_code != 0 and "MEMBER_NOT_FOUND" in missing.output
    bad = CliRunner().invoke(main, ["messages", "preview", "earned", "--member", "123"])
    assert bad.exit_code != 0 and "INVALID_CARD_NUMBER" in bad.output
