"""Self-enrolment: a person joins the network on the web or over the member API.

It is the sign-in code flow (network/signin/codes.py, with its rate limits and attempt counts),
except that a code is sent to a stranger's address too, as a JOIN code, because that is how one
joins. What an unauthenticated caller learns is exactly what sign-in tells it, i.e. nothing:
asking for a join code answers alike for members and strangers, and both get a code.

- A stranger's right join code enrols them (network/members.enrol, as a partner's enrolment:
  the same uniqueness checks, MemberExists, the `enrolled` fact with no partner, the
  referrer's code for the referral campaigns) and signs them in.
- A member's address gets the ordinary sign-in code ("you are already a member" is said only
  to whoever holds the code, i.e. the address's owner), and the right code just signs them in.
- If someone else enrolled the address between the code and its use, the right code proved the
  address, so it signs in that member: MemberExists, answered as partner enrolment answers it,
  is turned into the same sign-in.

The code check, the enrolment and the session are three transactions (members.enrol commits
its own, with the enrolled fact and its campaigns). A crash between them leaves a used code and
no member, or a member and no session: asking for a new code mends either (the second time the
address is a member's, so the code signs in). Nothing is ever half-enrolled.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from network import members, referrals
from network.db.schema import members as members_table
from network.notifications.schema import notification_outbox
from network.signin import codes, sessions
from network.signin.addresses import Address, parse_address
from network.signin.service import SignIn
from network.signin.sessions import Session
from network.wallet.errors import WalletError
from network.web.i18n import SUPPORTED, locale_for

JOIN_SCOPE = "join"


@dataclass(frozen=True)
class Joined:
    token: str
    session: Session
    member: members.Member
    joined: bool  # False: the address was a member's already and they are signed in


def referrer_code(raw: str | None) -> str | None:
    """The referrer's code as stored, None when not given; REFERRER_NOT_FOUND when it cannot
    be a code."""
    if raw is None or not raw.strip():
        return None
    code = referrals.normalize(raw)
    if code is None:
        raise members.ReferrerNotFound(
            f"A referral code is {referrals.LENGTH} letters and digits; check it or leave it "
            "empty.", field="referrerCode")
    return code


def _check_referrer(conn: Connection, code: str | None) -> None:
    if code is not None and conn.execute(select(members_table.c.id).where(
            members_table.c.referral_code == code)).first() is None:
        raise members.ReferrerNotFound("No member has this referral code; check it or leave "
                                       "it empty.", field="referrerCode")


def _language(language: str | None) -> str:
    if language is not None and language not in SUPPORTED:
        raise WalletError("INVALID_LOCALE", "language is 'en' or 'fa'.", field="language")
    return language or "en"


class Join:
    def __init__(self, signin: SignIn) -> None:
        self.signin = signin
        self.db = signin.db
        self.settings = signin.settings

    def request_code(self, raw_address: str | None, *, client_ip: str,
                     language: str | None = None, raw_referrer: str | None = None) -> Address:
        """Send a code to the address: a join code to a stranger, a sign-in code to a member.
        The answer is the same either way."""
        words = locale_for(_language(language))
        address = parse_address(raw_address, country=self.settings.default_country)
        referrer = referrer_code(raw_referrer)
        self.db.read(_check_referrer, referrer)

        def sign_in_words(code: str, minutes: int, member_language: str) -> tuple[str, str]:
            member_words = locale_for(language or member_language)
            return member_words.t("code_subject"), member_words.t(
                "join_member_code_body", code=member_words.digits(code), minutes=minutes)

        def join_words(code: str, minutes: int, _: str) -> tuple[str, str]:
            return words.t("join_code_subject"), words.t(
                "join_code_body", code=words.digits(code), minutes=minutes)

        signin = self.signin
        self.db.write(codes.issue, signin.keys, signin.policy, address=address,
                      client_ip=client_ip, now=signin.clock(), find_member=signin._find_member,
                      compose=sign_in_words, join_compose=join_words)
        return address

    def verify(self, raw_address: str | None, raw_code: str | None, *, client_ip: str,
               kind: str, user_agent: str, language: str | None = None,
               raw_referrer: str | None = None) -> Joined:
        """Trade a right code for a membership (when the address is nobody's) and a session."""
        signin = self.signin
        language = _language(language)
        address = parse_address(raw_address, country=self.settings.default_country)
        code = codes.clean_code(raw_code or "")
        referrer = referrer_code(raw_referrer)

        def check(conn: Connection) -> codes.Check | tuple[str, Session]:
            # Before the code is used: a mistyped referral code must not cost the code.
            _check_referrer(conn, referrer)
            now = signin.clock()
            result = codes.check(conn, signin.keys, signin.policy, address=address, code=code,
                                 client_ip=client_ip, now=now, find_member=signin._find_member,
                                 joining=True)
            if result.error is not None or result.member_id is None:
                return result
            return sessions.create(conn, signin.keys, member_id=result.member_id, kind=kind,
                                   now=now, user_agent=user_agent, ip=client_ip)

        outcome = self.db.write(check)
        if isinstance(outcome, tuple):  # a member's address: signed in
            token, session = outcome
            return Joined(token, session, self._member(session.member_id), joined=False)
        if outcome.error is not None:
            raise outcome.error  # after commit: the counted attempt stays counted
        assert outcome.may_join and outcome.code_id is not None
        member_id, joined = self._enrol(address, language, referrer, outcome.code_id)

        def open_session(conn: Connection) -> tuple[str, Session]:
            if outcome.message_id is not None:  # the join message is theirs (export, erasure)
                conn.execute(update(notification_outbox).where(
                    notification_outbox.c.id == outcome.message_id,
                    notification_outbox.c.member_id.is_(None)).values(member_id=member_id))
            return sessions.create(conn, signin.keys, member_id=member_id, kind=kind,
                                   now=signin.clock(), user_agent=user_agent, ip=client_ip)

        token, session = self.db.write(open_session)
        return Joined(token, session, self._member(member_id), joined=joined)

    def _enrol(self, address: Address, language: str, referrer: str | None,
               code_id: int) -> tuple[int, bool]:
        try:
            member = members.enrol(
                self.db, secret=self.settings.secret_key, scope=JOIN_SCOPE,
                # Once per used code, which only this call can hold (a code id is no key: SQLite
                # reuses the ids of deleted rows, and erasure deletes codes).
                idempotency_key=f"code:{code_id}:{uuid.uuid4().hex}", enrolled_by=None,
                phone=address.value if address.kind == "phone" else None,
                email=address.value if address.kind == "email" else None,
                locale=language, now=self.signin.clock(), country=self.settings.default_country,
                referrer_code=referrer, timezone=self.settings.timezone)
            return member.id, True
        except members.MemberExists:
            # Enrolled by someone else since the code was sent: the code proved the address,
            # so it signs in its member, as a sign-in code would have.
            found = self.db.read(self.signin._find_member, address)
            if found is None:  # the twin held our card number, which cannot be: fail loudly
                raise
            return found[0], False

    def _member(self, member_id: int) -> members.Member:
        found = self.db.read(members.get, member_id, self.settings.secret_key)
        assert found is not None
        return found
