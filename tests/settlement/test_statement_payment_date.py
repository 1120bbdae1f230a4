"""A statement's payment date and recipient details once the run is paid through (local)
Stripe: the day the payment succeeded, in the run's zone, and where the money went. Same
October run and local Stripe (stripe_connect_server.py + localstripe) as test_payouts.py."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from settlement import store
from settlement.payouts.gateway import StripeGateway
from settlement.payouts.pay import pay
from settlement.statements.build import build_statement
from settlement.statements.render import to_csv, to_html
from tests.settlement import scenario as S
from tests.settlement.test_payouts import closed  # noqa: F401  (fixture)
from tests.settlement.world import World

PAID_AT = datetime(2026, 12, 11, 9, 30, tzinfo=UTC)


def test_paid_statements_carry_the_payment_date(closed: World,  # noqa: F811
                                                gateway: StripeGateway) -> None:
    pay(closed.db, gateway, "2026-10", now=lambda: PAID_AT)
    run = closed.db.read(store.find_run, "2026-10")
    telecom = closed.db.read(build_statement, run, closed.party(S.B), PAID_AT)
    assert telecom.payment_status == "succeeded"
    assert telecom.paid_on == PAID_AT.date()
    facts = {r["kind"]: r["source_kind"]
             for r in csv.DictReader(io.StringIO(to_csv(telecom).decode())) if not r["direction"]}
    assert facts["payment_date"] == "2026-12-11" and facts["statement_date"] == "2026-12-10"
    html = " ".join(to_html(telecom).decode().split())
    assert "<dt>Payment date</dt> <dd>Dec 11, 2026</dd>" in html
    # Where the money went: the recipient's Stripe account is on the statement.
    assert telecom.party.stripe_account_id and telecom.party.stripe_account_id in html
    # Nothing paid yet is said as such; the hub itself has nothing to pay.
    network = closed.db.read(build_statement, run, closed.network_id, PAID_AT)
    assert network.paid_on is None and "<dt>Payment date</dt> <dd>&mdash;</dd>" in " ".join(
        to_html(network).decode().split())
