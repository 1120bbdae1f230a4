"""Donating points to a charity from the wallet: input checks, then the ledger's donate.

The idempotency key comes from the client (a hidden field minted with the form, or the GraphQL
input), scoped to the member, so a double-clicked confirm or a retried request donates once.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.engine import Connection

from network.clock import utcnow
from network.config import Settings
from network.db.engine import Database
from network.ledger import MAX_POINTS, Receipt, balances
from network.ledger import donate as ledger_donate
from network.notifications import messages
from network.wallet import parties_view
from network.wallet.errors import WalletError
from network.wallet.parties_view import PartyName
from network.web.i18n import ascii_digits

log = logging.getLogger("pointsnet.wallet")


def parse_points(raw: object, field: str = "points") -> int:
    """Whole points from a form or an API: Persian digits and thousands separators accepted."""
    if isinstance(raw, bool):
        raise WalletError("INVALID_AMOUNT", "Points must be a whole number.", field=field)
    if isinstance(raw, int):
        points = raw
    else:
        text = ascii_digits(str(raw or "")).strip().replace(",", "").replace("٬", "")
        if not text.isdigit() or not text.isascii():
            raise WalletError("INVALID_AMOUNT", "Enter a whole number of points greater than zero.",
                              field=field)
        points = int(text)
    if points <= 0:
        raise WalletError("INVALID_AMOUNT", "Enter a whole number of points greater than zero.",
                          field=field)
    if points > MAX_POINTS:
        raise WalletError("AMOUNT_TOO_LARGE", f"One donation moves at most {MAX_POINTS:,} points.",
                          field=field)
    return points


def parse_charity_id(raw: object, field: str = "charity") -> int:
    text = str(raw or "").strip()
    if not text:
        raise WalletError("CHARITY_REQUIRED", "Pick a charity.", field=field)
    if not text.isdigit() or not text.isascii() or len(text) > 18:
        raise WalletError("CHARITY_NOT_FOUND", "Pick one of the charities listed.", field=field)
    return int(text)


def check(db: Database, member_id: int, charity_id: int, points: int, *,
          charity_field: str = "charity", now: dt.datetime | None = None) -> PartyName:
    """The confirm step's check: the charity exists and the points are spendable right now."""
    def read(conn: Connection) -> tuple[PartyName | None, int]:
        charity = parties_view.charity(conn, charity_id)
        spendable = balances.summary(conn, member_id, now or utcnow()).spendable
        return charity, spendable

    charity, spendable = db.read(read)
    if charity is None:
        raise WalletError("CHARITY_NOT_FOUND", "Pick one of the charities listed.",
                          field=charity_field)
    if points > spendable:
        raise WalletError("INSUFFICIENT_POINTS",
                          f"You have {spendable} spendable points; {points} were asked for.",
                          field="points", params={"spendable": spendable})
    return charity


def donate(db: Database, member_id: int, charity_id: int, points: int, idempotency_key: str,
           *, now: dt.datetime | None = None, settings: Settings | None = None) -> Receipt:
    """Book the donation (the ledger re-checks everything under the member's lock), then queue
    its receipt. The receipt is once per entry (a replayed key queues nothing new); should the
    process stop between the two, the hourly earned-messages job queues it (lifecycle.py)."""
    receipt = ledger_donate(db, scope=f"member:{member_id}", idempotency_key=idempotency_key,
                            member_id=member_id, charity_id=charity_id, points=points, now=now)
    try:
        db.write(messages.donation_receipt, member_id, receipt.entry_id, now=now,
                 settings=settings)
    except Exception:  # noqa: BLE001 - the donation is booked; the job sends the receipt later
        log.exception("queueing the receipt of donation %s failed", receipt.entry_id)
    return receipt
