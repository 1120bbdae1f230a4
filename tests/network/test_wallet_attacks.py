"""The member pages attacked: what an audit of sign-in and sessions found, kept fixed.

A sign-in on a browser that already holds a session must not leave that session alive on the
server once its cookie is overwritten (nobody could sign it out from that browser any more)."""

from __future__ import annotations

from sqlalchemy import select

from network.signin.schema import member_sessions
from tests.network import test_wallet_pages as pages

# The pages, the clock and Sara's and Ali's wallets, exactly as test_wallet_pages builds them.
clock = pages.clock
world = pages.world


def _sessions(db) -> dict[int, bool]:  # type: ignore[no-untyped-def]
    """member id -> whether that member has a live (unrevoked) session."""
    rows = db.read(lambda c: c.execute(
        select(member_sessions.c.member_id, member_sessions.c.revoked_at)).all())
    live: dict[int, bool] = {}
    for member_id, revoked_at in rows:
        live[member_id] = live.get(member_id, False) or revoked_at is None
    return live


def test_signing_in_over_a_session_ends_the_one_the_browser_held(db, clock, world):
    shared = pages.make_browser(db, clock)
    shared.sign_in("sara@example.com")
    sara_token = shared.client.cookies.get("__Host-pn_session", domain="wallet.test")
    shared.get("/wallet")
    shared.sign_in("ali@example.com")  # the next person at the same computer
    assert _sessions(db) == {world["sara"]: False, world["ali"]: True}
    stolen = pages.make_browser(db, clock)  # Sara's old cookie, copied before it was replaced
    stolen.client.cookies.set("__Host-pn_session", sara_token, domain="wallet.test")
    assert stolen.get("/wallet", follow_redirects=False).headers["location"] == "/signin"
    shared.get("/wallet")
    assert shared.post("/signout").headers["location"] == "/signin?done=signed_out"
    assert _sessions(db) == {world["sara"]: False, world["ali"]: False}


def test_a_planted_session_cookie_is_replaced_and_never_adopted(db, clock, world):
    browser = pages.make_browser(db, clock)
    browser.client.cookies.set("__Host-pn_session", "pns_planted", domain="wallet.test")
    browser.sign_in("sara@example.com")
    token = browser.client.cookies.get("__Host-pn_session", domain="wallet.test")
    assert token.startswith("pns_") and token != "pns_planted"
    assert _sessions(db) == {world["sara"]: True}
