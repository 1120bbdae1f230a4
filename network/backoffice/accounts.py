"""Back-office accounts: create, list, disable, and check a password plus a TOTP code.

The TOTP secret is stored encrypted with the hub's PII key (network/pii.py): a database copy
alone cannot mint codes. The password hash is argon2id (passwords.py).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from network import parties, pii
from network.backoffice import passwords, totp
from network.backoffice.errors import BackofficeError
from network.backoffice.roles import KINDS, ROLES_BY_KIND
from network.backoffice.schema import backoffice_accounts as accounts
from network.backoffice.schema import backoffice_sessions
from network.clock import as_utc

NAME_MAX = 200
_LOGIN = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")


@dataclass(frozen=True)
class Account:
    id: int
    login: str
    name: str
    kind: str
    role: str
    partner_id: int | None
    created_at: dt.datetime
    disabled_at: dt.datetime | None


def _account(row: Any) -> Account:
    return Account(row.id, row.login, row.name, row.kind, row.role, row.partner_id,
                   as_utc(row.created_at), as_utc(row.disabled_at) if row.disabled_at else None)


def normalize_login(login: str) -> str:
    return login.strip().lower()


def create(conn: Connection, secret_key: str, *, login: str, name: str, kind: str, role: str,
           password: str, now: dt.datetime, partner_id: int | None = None
           ) -> tuple[Account, str]:
    """A new account and its TOTP secret (returned once, for the person's authenticator app)."""
    login = normalize_login(login)
    name = name.strip()
    if not _LOGIN.match(login) or len(login) > 200:
        raise BackofficeError("BAD_LOGIN", "the sign-in name must be an email address",
                              field="login")
    if not name or len(name) > NAME_MAX or any(unicodedata.category(c) == "Cc" for c in name):
        raise BackofficeError("BAD_NAME", f"give the person's name (1-{NAME_MAX} characters, "
                              "no control characters)", field="name")
    if kind not in KINDS:
        raise BackofficeError("BAD_KIND", f"kind must be one of {', '.join(KINDS)}",
                              field="kind")
    if role not in ROLES_BY_KIND[kind]:
        raise BackofficeError("BAD_ROLE", f"a {kind} role is one of "
                              f"{', '.join(ROLES_BY_KIND[kind])}, got {role!r}", field="role")
    if kind == "partner_user":
        if partner_id is None or parties.get(conn, partner_id, "partner") is None:
            raise BackofficeError("PARTNER_NOT_FOUND", "a partner user needs an existing "
                                  "partner", field="partner")
    elif partner_id is not None:
        raise BackofficeError("BAD_KIND", "staff accounts belong to no partner", field="partner")
    problem = passwords.problem(password)
    if problem:
        raise BackofficeError("WEAK_PASSWORD", problem, field="password")
    if conn.execute(select(accounts.c.id).where(accounts.c.login == login)).first():
        raise BackofficeError("LOGIN_TAKEN", "an account with this sign-in name exists",
                              field="login")
    secret = totp.new_secret()
    row = conn.execute(insert(accounts).values(
        login=login, name=name, kind=kind, role=role, partner_id=partner_id,
        password_hash=passwords.hash_password(password),
        totp_cipher=pii.encrypt(secret_key, secret), created_at=now,
    ).returning(*accounts.c)).one()
    return _account(row), secret


def get(conn: Connection, account_id: int) -> Account | None:
    row = conn.execute(select(accounts).where(accounts.c.id == account_id)).first()
    return _account(row) if row else None


def by_login(conn: Connection, login: str) -> Account | None:
    row = conn.execute(select(accounts).where(accounts.c.login == normalize_login(login))
                       ).first()
    return _account(row) if row else None


def listing(conn: Connection, *, partner_id: int | None = None,
            kind: str | None = None) -> list[Account]:
    query = select(accounts).order_by(accounts.c.id)
    if partner_id is not None:
        query = query.where(accounts.c.partner_id == partner_id)
    if kind is not None:
        query = query.where(accounts.c.kind == kind)
    return [_account(row) for row in conn.execute(query)]


def disable(conn: Connection, account_id: int, now: dt.datetime) -> bool:
    """Disable an account; its sessions stop at their next request (sessions check it)."""
    result = conn.execute(update(accounts).where(accounts.c.id == account_id,
                                                 accounts.c.disabled_at.is_(None))
                          .values(disabled_at=now))
    return result.rowcount == 1


def check(conn: Connection, secret_key: str, *, login: str, password: str, code: str,
          now: dt.datetime) -> Account | None:
    """The account if the password and the TOTP code both match and it is enabled; None
    otherwise, without saying which check failed (that would tell a guesser which half is
    right). A good code is spent: its time step is remembered, so it works once."""
    row = conn.execute(select(accounts).where(accounts.c.login == normalize_login(login))
                       .with_for_update()).first()
    good_password = passwords.verify(row.password_hash if row else None, password)
    if row is None or not good_password or row.disabled_at is not None:
        return None
    secret = pii.decrypt(secret_key, row.totp_cipher)
    accepted = totp.matching_step(secret, code, now.timestamp(), row.totp_last_step)
    if accepted is None:
        return None
    values: dict[str, Any] = {"totp_last_step": accepted}
    if passwords.needs_rehash(row.password_hash):
        values["password_hash"] = passwords.hash_password(password)
    conn.execute(update(accounts).where(accounts.c.id == row.id).values(**values))
    return _account(row)


def totp_secret(conn: Connection, secret_key: str, account_id: int) -> str | None:
    """The account's TOTP secret, for re-showing its provisioning QR from the command line."""
    blob = conn.execute(select(accounts.c.totp_cipher).where(accounts.c.id == account_id)
                        ).scalar()
    return pii.decrypt(secret_key, blob) if blob is not None else None


# ---- changes an operator makes (the console's users page and `pointsnet backoffice users`) --

def _enabled_operators(conn: Connection) -> set[int]:
    return set(conn.execute(select(accounts.c.id).where(
        accounts.c.kind == "staff", accounts.c.role == "operator",
        accounts.c.disabled_at.is_(None))).scalars())


def keeps_an_operator(target: Account, actor_id: int | None, operators: set[int], *,
                      leaves_operators: bool) -> None:
    """Refuse a change that would lock the network out of its own console: an operator
    disabling or demoting themselves (they could not undo it), or the last enabled operator
    losing the role. `leaves_operators`: the change takes `target` out of the operators."""
    if not leaves_operators:
        return
    if actor_id is not None and target.id == actor_id:
        raise BackofficeError("NOT_YOURSELF", "you cannot disable or demote your own account; "
                              "ask another operator", field="account")
    if target.id in operators and operators == {target.id}:
        raise BackofficeError("LAST_OPERATOR", "this is the last enabled operator; make "
                              "another operator first", field="account")


def _existing(conn: Connection, account_id: int) -> Account:
    found = get(conn, account_id)
    if found is None:
        raise BackofficeError("ACCOUNT_NOT_FOUND", f"no account #{account_id}",
                              field="account")
    return found


def _lock(conn: Connection) -> None:
    """Serialise the changes that count operators (two operators disabling each other at the
    same moment must not leave none): a lock on the operators' rows, in PostgreSQL."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(accounts.c.id).where(accounts.c.kind == "staff",
                                                 accounts.c.role == "operator")
                     .with_for_update())


def set_role(conn: Connection, account_id: int, role: str, *, actor_id: int | None
             ) -> tuple[Account, Account]:
    """Give the account another role of its kind; (before, after)."""
    _lock(conn)
    before = _existing(conn, account_id)
    if role not in ROLES_BY_KIND[before.kind]:
        raise BackofficeError("BAD_ROLE", f"a {before.kind} role is one of "
                              f"{', '.join(ROLES_BY_KIND[before.kind])}, got {role!r}",
                              field="role")
    keeps_an_operator(before, actor_id, _enabled_operators(conn),
                      leaves_operators=before.role == "operator" and role != "operator")
    conn.execute(update(accounts).where(accounts.c.id == account_id).values(role=role))
    return before, _existing(conn, account_id)


def set_enabled(conn: Connection, account_id: int, enabled: bool, now: dt.datetime, *,
                actor_id: int | None) -> tuple[Account, Account]:
    """Disable (its sessions stop at their next request) or enable again; (before, after).
    Disabling an account that is not active is ACCOUNT_NOT_FOUND (as `users disable` always
    said); enabling an enabled one changes nothing."""
    _lock(conn)
    before = _existing(conn, account_id)
    if not enabled:
        keeps_an_operator(before, actor_id, _enabled_operators(conn),
                          leaves_operators=before.disabled_at is None
                          and before.kind == "staff" and before.role == "operator")
        if not disable(conn, account_id, now):
            raise BackofficeError("ACCOUNT_NOT_FOUND", f"no active account #{account_id}",
                                  field="account")
    else:
        conn.execute(update(accounts).where(accounts.c.id == account_id)
                     .values(disabled_at=None))
    return before, _existing(conn, account_id)


def reset_secrets(conn: Connection, secret_key: str, account_id: int, *, password: str,
                  now: dt.datetime) -> tuple[Account, str]:
    """A new password and a new TOTP secret for a person who lost either: the old ones stop
    working and the account's sessions end. The TOTP secret is returned once, to be shown once
    (with the password) to the person."""
    found = _existing(conn, account_id)
    problem = passwords.problem(password)
    if problem:
        raise BackofficeError("WEAK_PASSWORD", problem, field="password")
    secret = totp.new_secret()
    conn.execute(update(accounts).where(accounts.c.id == account_id).values(
        password_hash=passwords.hash_password(password),
        totp_cipher=pii.encrypt(secret_key, secret), totp_last_step=None))
    conn.execute(update(backoffice_sessions).where(
        backoffice_sessions.c.account_id == account_id,
        backoffice_sessions.c.revoked_at.is_(None)).values(revoked_at=now))
    return found, secret
