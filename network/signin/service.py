"""The sign-in use cases: ask for a code, trade a code for a session, use and end sessions.

Shared by the web pages and the GraphQL API, so both enforce the same limits and leave the same
trail. Every method is one transaction; a refused request writes nothing except what the refusal
itself must remember (a wrong guess counts against the code).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.engine import Connection

from network import member_blocks, pii
from network.clock import utcnow
from network.config import Settings
from network.db.engine import Database
from network.db.schema import members
from network.hashing import Keys
from network.signin import codes, sessions
from network.signin.addresses import Address, parse_address
from network.signin.codes import Policy
from network.signin.sessions import Session
from network.web.i18n import locale_for


class SignIn:
    def __init__(self, db: Database, settings: Settings, *, policy: Policy | None = None,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.db = db
        self.settings = settings
        self.policy = policy or Policy()
        self.keys = Keys(settings.secret_key)
        self.clock = clock

    def _find_member(self, conn: Connection, address: Address) -> tuple[int, str] | None:
        column = members.c.email_lookup if address.channel == "email" else members.c.phone_lookup
        row = conn.execute(
            select(members.c.id, members.c.locale)
            .where(column == pii.lookup_hash(self.settings.secret_key, address.value))
        ).first()
        # A blocked member is nobody to sign-in: no code is sent, none is accepted, and the
        # answer reads exactly as for an unknown address.
        if row is None or member_blocks.is_blocked(conn, row.id):
            return None
        return (row.id, row.locale)

    def request_code(self, raw_address: str | None, *, client_ip: str,
                     language: str | None = None) -> Address:
        """Queue a code for the address if it is a member's; the answer is the same either way."""
        address = parse_address(raw_address, country=self.settings.default_country)

        def compose(code: str, minutes: int, member_language: str) -> tuple[str, str]:
            # The code in the reader's digits too: the code form reads Persian digits back.
            words = locale_for(language or member_language)
            return words.t("code_subject"), words.t("code_body", code=words.digits(code),
                                                    minutes=minutes)

        self.db.write(codes.issue, self.keys, self.policy, address=address,
                      client_ip=client_ip, now=self.clock(), find_member=self._find_member,
                      compose=compose)
        return address

    def verify(self, raw_address: str | None, raw_code: str | None, *, client_ip: str,
               kind: str, user_agent: str) -> tuple[str, Session]:
        """Trade a right code for a new session token; raise WalletError for anything else."""
        address = parse_address(raw_address, country=self.settings.default_country)
        code = codes.clean_code(raw_code or "")

        def transaction(conn: Connection) -> codes.Check | tuple[str, Session]:
            now = self.clock()
            result = codes.check(conn, self.keys, self.policy, address=address, code=code,
                                 client_ip=client_ip, now=now, find_member=self._find_member)
            if result.error is not None or result.member_id is None:
                return result
            return sessions.create(conn, self.keys, member_id=result.member_id, kind=kind,
                                   now=now, user_agent=user_agent, ip=client_ip)

        outcome = self.db.write(transaction)
        if isinstance(outcome, codes.Check):
            assert outcome.error is not None
            raise outcome.error  # after commit: the counted attempt stays counted
        return outcome

    def authenticate(self, token: str | None, kind: str | None = None) -> Session | None:
        if not token:
            return None
        now = self.clock()
        # A bearer token is checked on every API request, by the GraphQL endpoint's few
        # threads: one prepared statement on each thread's own connection (pg_statement). The
        # pages' cookies are checked on the web server's many threads, which must not each
        # hold a connection of their own: a pooled read.
        session = (sessions.authenticate_in(self.db, self.keys, token, now, kind)
                   if kind == "bearer" else
                   self.db.read(sessions.authenticate, self.keys, token, now, kind))
        if session is not None and sessions.needs_touch(session, now):
            self.db.write(sessions.touch, session.id, now)
        return session

    def sessions(self, member_id: int) -> list[Session]:
        return self.db.read(sessions.list_live, member_id, self.clock())

    def revoke(self, member_id: int, session_id: int) -> bool:
        """End one of the member's sessions; False when it is not theirs or already ended."""
        return self.db.write(sessions.revoke, member_id=member_id, session_id=session_id,
                             now=self.clock())
