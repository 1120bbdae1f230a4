"""Sign-in answers a member's address and a stranger's alike, over the pages and over GraphQL.

Each trail walks the whole flow (ask, wrong codes counting down to TOO_MANY_ATTEMPTS, ask again,
expiry, the per-address limit) for Sara's address and for an address nobody owns, and the two
must match answer for answer; only Sara gets messages.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import select, update

from infra.app import create_app
from network.clock import utcnow
from network.db.engine import Database
from network.notifications import inline
from network.notifications.schema import notification_outbox
from network.signin.schema import member_sessions, signin_codes
from tests.network import wallet_world as ww
from tests.network.test_wallet_graphql import Api, TestClient
from tests.network.test_wallet_pages import NOW, make_browser

MEMBER, STRANGER = "sara@example.com", "nora@example.com"  # same length, so same-length masks
CODE, WRONG = "123456", "000000"


@pytest.fixture
def sara(db: Database, monkeypatch: pytest.MonkeyPatch) -> int:
    # Every code is CODE, so WRONG is wrong for both addresses (a stranger's never opens anyway).
    monkeypatch.setattr("network.signin.codes.secrets.randbelow", lambda _: int(CODE))
    return ww.enrol(db, email=MEMBER, name="Sara")


def recipients(db: Database) -> list[str]:
    return db.read(lambda c: c.execute(select(notification_outbox.c.recipient)).scalars().all())


def page_trail(db: Database, address: str) -> list[Any]:
    """What a browser sees at each step, with the address and the CSRF token blanked out."""
    clock = ww.Clock(NOW)
    browser = make_browser(db, clock)

    def seen(response: Any) -> tuple[int, str | None, str]:
        html = re.sub(r'name="csrf" value="[^"]+"', "", response.text)
        html = html.replace(address, "ADDRESS").replace(f"{address[0]}•••@", "MASKED@")
        return response.status_code, response.headers.get("location"), html

    def ask(**extra: str) -> tuple[int, str | None, str]:
        return seen(browser.post("/signin", {"address": address, **extra}))

    def guess() -> tuple[int, str | None, str]:
        return seen(browser.post("/signin/code", {"code": WRONG}))

    browser.get("/signin")
    trail: list[Any] = [ask(), seen(browser.get("/signin/code"))]
    trail += [guess() for _ in range(6)]  # 4, 3, 2, 1 left, then too many, and it stays so
    trail += [ask(resend="1"), seen(browser.get("/signin/code?resent=1")), guess()]
    clock.advance(dt.timedelta(minutes=10))
    trail += [guess(), guess()]  # expired, then closed
    trail += [ask() for _ in range(4)]  # the fifth request this hour is refused: 429
    return trail


def test_pages_answer_a_members_and_a_strangers_address_alike(db, sara):
    member, stranger = page_trail(db, MEMBER), page_trail(db, STRANGER)
    assert member == stranger
    codes = [re.findall(r'data-code="([A-Z_]+)"', html) for _, _, html in member]
    assert codes == [[], [], ["CODE_INVALID"], ["CODE_INVALID"], ["CODE_INVALID"],
                     ["CODE_INVALID"], ["TOO_MANY_ATTEMPTS"], ["TOO_MANY_ATTEMPTS"], [], [],
                     ["CODE_INVALID"], ["CODE_EXPIRED"], ["CODE_INVALID"], [], [], [],
                     ["RATE_LIMITED"]]
    lefts = [re.search(r"(\d) attempts? left", html) for _, _, html in member]
    assert [m.group(1) for m in lefts if m] == ["4", "3", "2", "1", "4"]
    assert [status for status, _, _ in member] == [303, 200, 400, 400, 400, 400, 400, 400, 303,
                                                   200, 400, 400, 400, 303, 303, 303, 429]
    assert recipients(db) == [MEMBER] * 5
    assert ww.count(db, member_sessions) == 0


@pytest.fixture
def api(db: Database, monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setenv("POINTSNET_NOTIFY_INLINE_DRAIN", "0")
    inline._drainers.clear()
    return Api(db, TestClient(create_app(ww.settings(), db)))


def api_trail(api: Api, db: Database, address: str) -> list[Any]:
    def ask() -> dict[str, Any]:
        payload = api.request_code(address)
        # This API runs on the real clock: a limit's "try again in N seconds" moves between trails.
        for error in payload.get("userErrors") or []:
            error["message"] = re.sub(r"\d+ seconds", "N seconds", error["message"])
        return {k: v for k, v in payload.items() if k != "maskedAddress"}

    def guess() -> dict[str, Any]:
        return api.verify(address, WRONG)

    trail: list[Any] = [ask()] + [guess() for _ in range(6)]
    trail += [ask(), guess()]
    db.write(lambda c: c.execute(update(signin_codes).where(signin_codes.c.closed_at.is_(None))
                                 .values(expires_at=utcnow() - dt.timedelta(seconds=1))))
    trail += [guess(), guess()]
    trail += [ask() for _ in range(4)]
    return trail


def test_graphql_answers_a_members_and_a_strangers_address_alike(api, db, sara):
    member, stranger = api_trail(api, db, MEMBER), api_trail(api, db, STRANGER)
    assert member == stranger
    verifies = [step for step in member if "token" in step]
    assert all(step["token"] is None for step in verifies)
    assert [step["userErrors"][0]["message"] for step in verifies] == [
        "That code is not right. 4 attempts left.", "That code is not right. 3 attempts left.",
        "That code is not right. 2 attempts left.", "That code is not right. 1 attempt left.",
        "Too many wrong codes. Ask for a new code.", "Too many wrong codes. Ask for a new code.",
        "That code is not right. 4 attempts left.",
        "This code has expired. Ask for a new code.", "That code is not right."]
    asks = [step for step in member if "channel" in step]
    assert [step["userErrors"][0]["code"] if step["userErrors"] else step["channel"]
            for step in asks] == ["email"] * 5 + ["RATE_LIMITED"]
    assert recipients(db) == [MEMBER] * 5


def test_a_national_phone_is_answered_alike_for_a_member_and_a_stranger(api, db, monkeypatch):
    """Issue 15: national spellings now reach members; a stranger's still looks the same."""
    monkeypatch.setattr("network.signin.codes.secrets.randbelow", lambda _: int(CODE))
    ww.enrol(db, phone="+989121234567", name="Sara")
    member = api_trail(api, db, "0912 123 4567")
    stranger = api_trail(api, db, "۰۹۳۵ ۱۲۳ ۴۵۶۷")
    assert member == stranger
    asks = [step for step in member if "channel" in step]
    assert [step["userErrors"][0]["code"] if step["userErrors"] else step["channel"]
            for step in asks] == ["sms"] * 5 + ["RATE_LIMITED"]
    assert recipients(db) == ["+989121234567"] * 5  # only the member's number got messages
