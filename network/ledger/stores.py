"""How earns are written on each kind of database: chosen once, where the `Database` is built
(`db.earn_store`), not by a dialect test inside each operation.

PostgreSQL books the common earn as one statement (`pg_earn`), a batch's lines without debt as
one statement (`pg_bulk`), and a redemption or donation as two (`pg_debit`). Elsewhere (SQLite:
tests and the demo) there is no one-statement earn, so every earn takes the general path, and a
batch writes the same rows a statement per table (`portable_bulk`). Both book the same
`rules.Booking`s, and tests compare what each writes with what a single earn writes
(test_ledger_pg_earn.py, test_batch_booking.py, on both databases; test_ledger_pg_debit.py for
debits).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from network.ledger import pg_bulk, pg_debit, pg_earn, portable_bulk
from network.ledger.receipts import Receipt

# (conn, issuer id, scope, bookings, at, booked_at) -> (entry id, lot id) per booking, in order.
BookBatch = Callable[..., list[tuple[int, int]]]


@dataclass(frozen=True)
class EarnStore:
    # The one-statement earn (given `Database.pg_statement`), or None: it answers None when the
    # general path must book the earn.
    earn_statement: Callable[..., Receipt | None] | None
    book_batch: BookBatch
    # The two-statement redemption or donation (given `Database.pg_transaction`), or None: it
    # answers None when the general path must book the debit (spending.py).
    debit_transaction: Callable[..., Receipt | None] | None = None


POSTGRESQL = EarnStore(earn_statement=pg_earn.try_earn, book_batch=pg_bulk.book,
                       debit_transaction=pg_debit.try_debit)
PORTABLE = EarnStore(earn_statement=None, book_batch=portable_bulk.book)


def earn_store(dialect: str) -> EarnStore:
    return POSTGRESQL if dialect == "postgresql" else PORTABLE

