"""Passwordless sign-in on both databases: codes, attempts, expiry, rate limits, sessions."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select, update

from network.db.engine import Database
from network.notifications.schema import notification_outbox
from network.signin import sessions
from network.signin.codes import Policy
from network.signin.ratelimit import Limit
from network.signin.schema import member_sessions, rate_limit_counters, signin_codes
from network.signin.service import SignIn
from network.wallet.contact import ContactChange, update_contact
from network.wallet.errors import WalletError
from tests.network import wallet_world as ww
from tests.support import ledger_world as w

IP = "203.0.113.7"


@pytest.fixture
def clock() -> ww.Clock:
    return ww.Clock()


@pytest.fixture
def signin(db: Database, clock: ww.Clock) -> SignIn:
    return SignIn(db, ww.settings(), clock=clock)


@pytest.fixture
def sara(db: Database) -> int:
    return ww.enrol(db, email="sara@example.com", phone="+989121234567", name="Sara")


def code_for(db: Database, clock: ww.Clock, recipient: str) -> str:
    return ww.deliver(db, ww.Inbox(), clock).code_for(recipient)


def sign_in(signin: SignIn, address: str, code: str, kind: str = "bearer") -> tuple[str, object]:
    return signin.verify(address, code, client_ip=IP, kind=kind, user_agent="pytest")


def test_code_by_email_gives_a_session_and_is_stored_only_hashed(db, signin, clock, sara):
    signin.request_code("  Sara@Example.com ", client_ip=IP)
    outbox = db.read(lambda c: c.execute(select(notification_outbox)).one())
    assert (outbox.channel, outbox.recipient, outbox.member_id) == ("email", "sara@example.com",
                                                                    sara)
    code = code_for(db, clock, "sara@example.com")
    stored = db.read(lambda c: c.execute(select(signin_codes)).one())
    assert code not in stored.code_hash and len(stored.code_hash) == 64
    assert stored.expires_at.replace(tzinfo=dt.UTC) == clock.now + dt.timedelta(minutes=10)
    token, session = sign_in(signin, "sara@example.com", code)
    assert session.member_id == sara and session.kind == "bearer"
    row = db.read(lambda c: c.execute(select(member_sessions)).one())
    assert token not in row.token_hash and token.startswith("pns_")
    assert signin.authenticate(token).member_id == sara
    # the message left the outbox: its secret body and the address are wiped once sent
    sent = db.read(lambda c: c.execute(select(notification_outbox)).one())
    assert (sent.status, sent.body, sent.recipient) == ("sent", None, None)


def test_code_by_phone_accepts_persian_digits_and_spaces(db, signin, clock, sara):
    signin.request_code("+98 912 123 4567", client_ip=IP, language="fa")
    inbox = ww.deliver(db, ww.Inbox(), clock)
    message = inbox.messages[0]
    assert message.channel == "sms" and message.recipient == "+989121234567"
    assert "کد ورود" in message.body  # the language of the page that asked
    code = inbox.code_for("+989121234567")
    persian = code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    _, session = sign_in(signin, "+۹۸۹۱۲۱۲۳۴۵۶۷", persian)
    assert session.member_id == sara


@pytest.mark.parametrize("typed", ["09121234567", "۰۹۱۲ ۱۲۳ ۴۵۶۷", "0098 912 123 4567"])
def test_a_phone_typed_the_iranian_way_signs_the_member_in(db, signin, clock, sara, typed):
    """The issue: a national number was "an unknown address" and no code ever came."""
    signin.request_code(typed, client_ip=IP)
    inbox = ww.deliver(db, ww.Inbox(), clock)
    assert [(m.channel, m.recipient) for m in inbox.messages] == [("sms", "+989121234567")]
    _, session = sign_in(signin, "+98 912 123 4567", inbox.code_for("+989121234567"))
    assert session.member_id == sara


def test_a_national_number_belongs_to_the_networks_default_country(db, clock):
    john = ww.enrol(db, phone="+447700900123", name="John")
    british = SignIn(db, dataclasses.replace(ww.settings(), default_country="GB"), clock=clock)
    british.request_code("07700 900123", client_ip=IP)
    inbox = ww.deliver(db, ww.Inbox(), clock)
    assert [m.recipient for m in inbox.messages] == ["+447700900123"]
    _, session = sign_in(british, "07700900123", inbox.code_for("+447700900123"))
    assert session.member_id == john
    # In Iran's network the same digits are an Iranian number: nobody's, so nothing is sent,
    # and the answer is the same as for a member (no error, a code "on its way").
    iranian = SignIn(db, ww.settings(), clock=clock)
    assert iranian.request_code("07700 900123", client_ip=IP).value == "+987700900123"
    assert ww.deliver(db, ww.Inbox(), clock).messages == []


def test_a_code_works_once(db, signin, clock, sara):
    signin.request_code("sara@example.com", client_ip=IP)
    code = code_for(db, clock, "sara@example.com")
    sign_in(signin, "sara@example.com", code)
    with pytest.raises(WalletError) as refused:
        sign_in(signin, "sara@example.com", code)
    assert refused.value.code == "CODE_INVALID"


def test_wrong_code_counts_and_the_fifth_kills_the_code(db, signin, clock, sara):
    signin.request_code("sara@example.com", client_ip=IP)
    code = code_for(db, clock, "sara@example.com")
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        with pytest.raises(WalletError) as refused:
            sign_in(signin, "sara@example.com", wrong)
        assert (refused.value.code, refused.value.field) == ("CODE_INVALID", "code")
        assert refused.value.params == {"left": left}
    with pytest.raises(WalletError) as refused:
        sign_in(signin, "sara@example.com", wrong)
    assert refused.value.code == "TOO_MANY_ATTEMPTS"
    with pytest.raises(WalletError) as refused:  # the right code is dead now too
        sign_in(signin, "sara@example.com", code)
    assert refused.value.code == "TOO_MANY_ATTEMPTS"
    assert ww.count(db, member_sessions) == 0
    assert db.read(lambda c: c.execute(select(signin_codes.c.attempts)).scalar_one()) == 5


def test_expired_code_is_refused(db, signin, clock, sara):
    signin.request_code("sara@example.com", client_ip=IP)
    code = code_for(db, clock, "sara@example.com")
    clock.advance(dt.timedelta(minutes=10))
    with pytest.raises(WalletError) as refused:
        sign_in(signin, "sara@example.com", code)
    assert refused.value.code == "CODE_EXPIRED"
    assert ww.count(db, member_sessions) == 0


def test_code_just_before_expiry_still_works(db, signin, clock, sara):
    signin.request_code("sara@example.com", client_ip=IP)
    code = code_for(db, clock, "sara@example.com")
    clock.advance(dt.timedelta(minutes=9, seconds=59))
    assert sign_in(signin, "sara@example.com", code)[1].member_id == sara


def test_a_new_code_replaces_the_previous_one(db, signin, clock, sara):
    signin.request_code("sara@example.com", client_ip=IP)
    first = code_for(db, clock, "sara@example.com")
    signin.request_code("sara@example.com", client_ip=IP)
    second = code_for(db, clock, "sara@example.com")
    if first != second:
        with pytest.raises(WalletError) as refused:
            sign_in(signin, "sara@example.com", first)
        assert refused.value.code == "CODE_INVALID"
    assert sign_in(signin, "sara@example.com", second)[1].member_id == sara


def test_unknown_address_is_answered_alike_but_sends_nothing(db, signin, clock, sara):
    address = signin.request_code("nobody@example.com", client_ip=IP)
    assert address.value == "nobody@example.com"
    assert ww.count(db, notification_outbox) == 0
    # a code row like a member's, so that wrong guesses count down alike; but nobody's
    stored = db.read(lambda c: c.execute(select(signin_codes)).one())
    assert stored.member_id is None and "nobody" not in stored.address_hash
    with pytest.raises(WalletError) as refused:
        sign_in(signin, "nobody@example.com", "123456")
    assert (refused.value.code, refused.value.params) == ("CODE_INVALID", {"left": 4})


def test_a_new_code_replaces_the_address_old_one_so_the_table_stays_small(db, signin, clock,
                                                                          sara):
    for _ in range(3):
        signin.request_code("nobody@example.com", client_ip=IP)
        signin.request_code("sara@example.com", client_ip=IP)
    assert ww.count(db, signin_codes) == 2  # one per address that asked


def strangers_and_members_code(monkeypatch, code: str = "424242") -> str:
    monkeypatch.setattr("network.signin.codes.secrets.randbelow", lambda _: int(code))
    return code


def test_a_strangers_code_never_signs_in_even_when_guessed(db, signin, clock, sara, monkeypatch):
    code = strangers_and_members_code(monkeypatch)
    signin.request_code("nobody@example.com", client_ip=IP)
    for left in (4, 3):  # the right digits count as a wrong guess: nobody was sent them
        with pytest.raises(WalletError) as refused:
            sign_in(signin, "nobody@example.com", code)
        assert (refused.value.code, refused.value.params) == ("CODE_INVALID", {"left": left})
    assert ww.count(db, member_sessions) == 0 and ww.count(db, notification_outbox) == 0


def test_a_code_asked_before_enrolment_does_not_open_the_new_member(db, signin, clock, sara,
                                                                     monkeypatch):
    code = strangers_and_members_code(monkeypatch)
    signin.request_code("nima@example.com", client_ip=IP)
    nima = ww.enrol(db, email="nima@example.com")
    with pytest.raises(WalletError) as refused:
        sign_in(signin, "nima@example.com", code)
    assert (refused.value.code, refused.value.params) == ("CODE_INVALID", {"left": 4})
    signin.request_code("nima@example.com", client_ip=IP)  # now a member: sent, and it works
    assert code_for(db, clock, "nima@example.com") == code
    assert sign_in(signin, "nima@example.com", code)[1].member_id == nima


def test_a_code_works_only_at_the_address_it_was_sent_to(db, signin, clock, sara):
    signin.request_code("sara@example.com", client_ip=IP)
    code = code_for(db, clock, "sara@example.com")
    with pytest.raises(WalletError) as refused:  # Sara's phone: no code was asked for there
        sign_in(signin, "+989121234567", code)
    assert (refused.value.code, refused.value.params) == ("CODE_INVALID", {})
    assert sign_in(signin, "sara@example.com", code)[1].member_id == sara


def test_a_code_sent_before_an_address_change_opens_nothing(db, signin, clock, sara):
    signin.request_code("sara@example.com", client_ip=IP)
    code = code_for(db, clock, "sara@example.com")
    update_contact(db, ww.SECRET, sara, ContactChange(email="sara@new.example"), clock.now)
    with pytest.raises(WalletError) as refused:  # not via the new address
        sign_in(signin, "sara@new.example", code)
    assert refused.value.code == "CODE_INVALID"
    # nor via the old one, now nobody's and then another member's
    with pytest.raises(WalletError) as refused:
        sign_in(signin, "sara@example.com", code)
    assert (refused.value.code, refused.value.params) == ("CODE_INVALID", {"left": 4})
    ww.enrol(db, email="sara@example.com", name="Another Sara")
    with pytest.raises(WalletError) as refused:
        sign_in(signin, "sara@example.com", code)
    assert (refused.value.code, refused.value.params) == ("CODE_INVALID", {"left": 3})
    assert ww.count(db, member_sessions) == 0


def test_another_members_code_does_not_open_this_account(db, signin, clock, sara,
                                                         monkeypatch):
    ww.enrol(db, email="ali@example.com")
    codes = iter([111111, 222222])
    monkeypatch.setattr("network.signin.codes.secrets.randbelow", lambda _: next(codes))
    signin.request_code("ali@example.com", client_ip=IP)
    signin.request_code("sara@example.com", client_ip=IP)
    with pytest.raises(WalletError) as refused:
        sign_in(signin, "sara@example.com", "111111")
    assert refused.value.code == "CODE_INVALID"
    assert sign_in(signin, "sara@example.com", "222222")[1].member_id == sara


def test_equal_codes_of_two_members_hash_differently(db, signin, sara, monkeypatch):
    ww.enrol(db, email="ali@example.com")
    monkeypatch.setattr("network.signin.codes.secrets.randbelow", lambda _: 333333)
    signin.request_code("ali@example.com", client_ip=IP)
    signin.request_code("sara@example.com", client_ip=IP)
    hashes = db.read(lambda c: c.execute(select(signin_codes.c.code_hash)).scalars().all())
    assert len(set(hashes)) == 2


@pytest.mark.parametrize(("address", "code"), [
    ("", "ADDRESS_REQUIRED"), ("   ", "ADDRESS_REQUIRED"), ("sara@", "INVALID_EMAIL"),
    ("not an address", "INVALID_PHONE"), ("12", "INVALID_PHONE"), ("x" * 400, "INVALID_PHONE"),
])
def test_bad_addresses_are_named_and_write_nothing(db, signin, sara, address, code):
    before = w.row_counts(db)
    with pytest.raises(WalletError) as refused:
        signin.request_code(address, client_ip=IP)
    assert (refused.value.code, refused.value.field) == (code, "address")
    assert w.row_counts(db) == before


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 5"])
def test_malformed_codes_are_refused_without_spending_an_attempt(db, signin, clock, sara, code):
    signin.request_code("sara@example.com", client_ip=IP)
    before = w.row_counts(db)
    with pytest.raises(WalletError) as refused:
        sign_in(signin, "sara@example.com", code)
    assert (refused.value.code, refused.value.field) == ("INVALID_CODE_FORMAT", "code")
    assert w.row_counts(db) == before
    assert db.read(lambda c: c.execute(select(signin_codes.c.attempts)).scalar_one()) == 0


def small_policy() -> Policy:
    return Policy(per_address=Limit("code-address", 2, dt.timedelta(minutes=15)),
                  per_ip=Limit("code-ip", 3, dt.timedelta(minutes=15)),
                  verify_per_ip=Limit("verify-ip", 4, dt.timedelta(minutes=15)))


def test_code_requests_are_limited_per_address(db, clock, sara):
    signin = SignIn(db, ww.settings(), policy=small_policy(), clock=clock)
    signin.request_code("sara@example.com", client_ip="198.51.100.1")
    signin.request_code("sara@example.com", client_ip="198.51.100.2")
    before = w.row_counts(db)
    with pytest.raises(WalletError) as refused:
        signin.request_code("sara@example.com", client_ip="198.51.100.3")
    assert refused.value.code == "RATE_LIMITED" and refused.value.retry_after > 0
    assert w.row_counts(db) == before  # the refusal queued no message, made no code
    clock.advance(dt.timedelta(minutes=15))
    signin.request_code("sara@example.com", client_ip="198.51.100.3")  # a new window


def test_code_requests_are_limited_per_client_ip_across_addresses(db, clock, sara):
    signin = SignIn(db, ww.settings(), policy=small_policy(), clock=clock)
    for address in ("a@example.com", "b@example.com", "c@example.com"):
        signin.request_code(address, client_ip=IP)
    with pytest.raises(WalletError) as refused:
        signin.request_code("sara@example.com", client_ip=IP)
    assert refused.value.code == "RATE_LIMITED"
    signin.request_code("sara@example.com", client_ip="198.51.100.9")  # other clients unaffected


def test_code_guesses_are_limited_per_client_ip(db, clock, sara):
    signin = SignIn(db, ww.settings(), policy=small_policy(), clock=clock)
    for _ in range(4):
        with pytest.raises(WalletError) as refused:
            sign_in(signin, "nobody@example.com", "123456")
        assert refused.value.code == "CODE_INVALID"
    with pytest.raises(WalletError) as refused:
        sign_in(signin, "nobody@example.com", "123456")
    assert refused.value.code == "RATE_LIMITED"


def test_rate_limits_hold_across_processes(pg_db, clock):
    """Two hub processes (two engines) share one count, because it lives in the database."""
    ww.enrol(pg_db, email="sara@example.com")
    other = Database(pg_db.url)
    try:
        first = SignIn(pg_db, ww.settings(), policy=small_policy(), clock=clock)
        second = SignIn(other, ww.settings(), policy=small_policy(), clock=clock)
        first.request_code("sara@example.com", client_ip="198.51.100.1")
        second.request_code("sara@example.com", client_ip="198.51.100.2")
        with pytest.raises(WalletError) as refused:
            first.request_code("sara@example.com", client_ip="198.51.100.3")
        assert refused.value.code == "RATE_LIMITED"
        hits = pg_db.read(lambda c: c.execute(select(rate_limit_counters.c.hits).where(
            rate_limit_counters.c.bucket.like("code-address:%"))).scalar_one())
        assert hits == 2
    finally:
        other.dispose()


def test_rate_limit_table_forgets_old_windows(db, clock, sara):
    signin = SignIn(db, ww.settings(), policy=small_policy(), clock=clock)
    signin.request_code("sara@example.com", client_ip=IP)
    clock.advance(dt.timedelta(hours=1))
    signin.request_code("sara@example.com", client_ip=IP)
    windows = db.read(lambda c: c.execute(select(rate_limit_counters.c.window_start)).all())
    assert len(windows) == 2  # one per bucket (address, ip): the old windows were dropped


def test_sessions_are_listed_touched_expired_and_revoked(db, signin, clock, sara):
    tokens = []
    for kind in ("cookie", "bearer"):
        signin.request_code("sara@example.com", client_ip=IP)
        tokens.append(sign_in(signin, "sara@example.com", code_for(db, clock,
                                                                    "sara@example.com"), kind))
        clock.advance(dt.timedelta(minutes=1))
    (cookie_token, cookie), (bearer_token, bearer) = tokens
    assert [s.id for s in signin.sessions(sara)] == [bearer.id, cookie.id]
    assert signin.authenticate(cookie_token, kind="bearer") is None  # kinds do not mix
    clock.advance(dt.timedelta(minutes=10))
    assert signin.authenticate(bearer_token, kind="bearer").id == bearer.id
    seen = db.read(lambda c: c.execute(select(member_sessions.c.last_seen_at).where(
        member_sessions.c.id == bearer.id)).scalar_one())
    assert seen.replace(tzinfo=dt.UTC) == clock.now
    assert signin.revoke(sara, bearer.id) is True
    assert signin.revoke(sara, bearer.id) is False
    assert signin.authenticate(bearer_token) is None
    clock.advance(sessions.SESSION_LIFETIME)
    assert signin.authenticate(cookie_token) is None
    assert signin.sessions(sara) == []


def test_a_member_cannot_revoke_another_members_session(db, signin, clock, sara):
    ali = ww.enrol(db, email="ali@example.com")
    signin.request_code("sara@example.com", client_ip=IP)
    token, session = sign_in(signin, "sara@example.com", code_for(db, clock, "sara@example.com"))
    assert signin.revoke(ali, session.id) is False
    assert signin.authenticate(token).member_id == sara


@pytest.mark.parametrize("token", ["", "pns_", "pns_nope", "Bearer x", "pns_" + "a" * 200])
def test_unknown_tokens_authenticate_nobody(db, signin, token):
    assert signin.authenticate(token) is None


def test_code_rows_of_concurrent_guesses_count_every_attempt(pg_db, clock):
    """Guesses racing on one code are serialized by the code row lock: no attempt is lost."""
    from concurrent.futures import ThreadPoolExecutor

    ww.enrol(pg_db, email="sara@example.com")
    signin = SignIn(pg_db, ww.settings(), clock=clock)
    signin.request_code("sara@example.com", client_ip=IP)
    code = code_for(pg_db, clock, "sara@example.com")
    wrong = "000000" if code != "000000" else "111111"

    def guess(_: int) -> str:
        try:
            sign_in(signin, "sara@example.com", wrong)
        except WalletError as exc:
            return exc.code
        return "OK"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(guess, range(8)))
    assert outcomes.count("CODE_INVALID") == 4 and outcomes.count("TOO_MANY_ATTEMPTS") == 4
    attempts = pg_db.read(lambda c: c.execute(select(signin_codes.c.attempts)).scalar_one())
    assert attempts == 5
    pg_db.write(lambda c: c.execute(update(signin_codes).values(attempts=0, closed_at=None)))
    assert sign_in(signin, "sara@example.com", code)[1].member_id is not None
