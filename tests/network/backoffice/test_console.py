"""The operator's console over HTTP on PostgreSQL: find a member through the keyed hashes, the
360 page, block (which stops the member's sign-in and spending), replace a card (the old number
finds no one, the balance stays), goodwill with four-eyes above the limit, the audit log and its
CSV, and the server-side role check on every page and action."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import warnings

import pytest
from sqlalchemy import select

from network import audit, ledger, members, parties
from network.config import Settings
from network.console.schema import goodwill_requests
from network.db.engine import Database
from network.db.schema import lots
from network.ledger.balances import summary
from network.ledger.errors import LedgerError
from network.ledger.verify import verify
from network.notifications.schema import notification_outbox
from network.signin.service import SignIn
from tests.network import wallet_world as ww
from tests.network.backoffice import world as bw
from tests.network.backoffice.conftest import LIMIT, Clock, browser
from tests.support import ledger_world as w

with warnings.catch_warnings():
    warnings.simplefilter("ignore")

def _code(db: Database) -> str:
    """The six digits of the newest queued sign-in message."""
    body = db.read(lambda c: c.execute(select(notification_outbox.c.body)
                                       .order_by(notification_outbox.c.id.desc())).scalar())
    return re.search(r"\b(\d{6})\b", body).group(1)  # type: ignore[union-attr]


@pytest.fixture
def world(pg_db: Database) -> dict[str, int]:
    cafe = pg_db.write(lambda c: parties.create(c, kind="partner", code="cafe", name="Cafe",
                                                name_fa="کافه"))
    sara = ww.enrol(pg_db, email="sara@example.com", phone="+989121234567", name="Sara",
                    by=cafe)
    ww.earn(pg_db, cafe, sara, 1200, at=dt.datetime.now(dt.UTC) - dt.timedelta(days=3))
    return {"cafe": cafe, "sara": sara}


def test_find_by_card_phone_or_email_and_see_the_wallet(pg_db: Database, app, clock: Clock,
                                                        world: dict[str, int]) -> None:
    op = browser(app, bw.person(pg_db, "viewer"), clock)
    sara = pg_db.read(members.get, world["sara"], bw.SECRET)
    for query in (sara.card_number, "09121234567", "+98 912 123 4567", "SARA@example.com",
                  "۰۹۱۲۱۲۳۴۵۶۷"):
        found = op.get("/console/members", params={"q": query})
        assert found.status_code == 303, query
        assert found.headers["location"] == f"/console/members/{world['sara']}"
    assert op.get("/console/members", params={"q": "nobody@example.com"}).status_code == 404
    bad = op.get("/console/members", params={"q": "1234 5678 9012 3456"})
    assert bad.status_code == 400 and 'data-code="BAD_QUERY"' in bad.text
    page = op.get(f"/console/members/{world['sara']}")
    assert page.status_code == 200
    assert 'data-testid="member-spendable"><bdi>1,200</bdi>' in page.text
    assert 'data-testid="member-actions"' not in page.text  # a viewer gets no action forms
    assert op.get("/console/members/999999").status_code == 404


def test_a_viewer_cannot_act_and_is_told_so_by_the_server(pg_db: Database, app, clock: Clock,
                                                          world: dict[str, int]) -> None:
    viewer = browser(app, bw.person(pg_db, "viewer"), clock)
    viewer.get(f"/console/members/{world['sara']}")
    for action in ("block", "card", "goodwill"):
        refused = viewer.post(f"/console/members/{world['sara']}/{action}",
                              {"reason": "trying", "points": "5", "key": "k"})
        assert refused.status_code == 403, action
    assert viewer.get("/console/audit").status_code == 403
    assert viewer.get("/console/goodwill").status_code == 403
    assert pg_db.read(lambda c: audit.entries(c)) == []


def test_block_stops_signin_and_spending_then_unblock(pg_db: Database, app, clock: Clock,
                                                      world: dict[str, int]) -> None:
    support = browser(app, bw.person(pg_db, "support"), clock)
    sara = world["sara"]
    signin = SignIn(pg_db, Settings(database_url=pg_db.url, secret_key=bw.SECRET))
    signin.request_code("sara@example.com", client_ip="10.0.0.1")
    token, _ = signin.verify("sara@example.com", _code(pg_db), client_ip="10.0.0.1",
                             kind="cookie", user_agent="test")
    assert signin.authenticate(token) is not None
    support.get(f"/console/members/{sara}")
    short = support.post(f"/console/members/{sara}/block", {"reason": "x"})
    assert short.status_code == 400 and 'data-code="BAD_REASON"' in short.text
    done = support.post(f"/console/members/{sara}/block", {"reason": "card skimming report"})
    assert done.headers["location"] == f"/console/members/{sara}?done=blocked"
    page = support.get(done.headers["location"])
    assert "badge bad" in page.text
    assert signin.authenticate(token) is None  # the block ended the member's session
    queued = ww.count(pg_db, notification_outbox)
    signin.request_code("sara@example.com", client_ip="10.0.0.1")
    assert ww.count(pg_db, notification_outbox) == queued  # no code for a blocked member
    with pytest.raises(LedgerError) as refused:
        ledger.redeem(pg_db, scope="partner:x", idempotency_key=w.key(), partner_id=world["cafe"],
                      member_id=sara, points=10)
    assert refused.value.code == "MEMBER_BLOCKED"
    support.post(f"/console/members/{sara}/unblock", {"reason": "member confirmed identity"})
    ledger.redeem(pg_db, scope="partner:x", idempotency_key=w.key(), partner_id=world["cafe"],
                  member_id=sara, points=10)
    actions = [e.action for e in pg_db.read(lambda c: audit.entries(c))]
    assert actions == ["member.blocked", "member.unblocked"]


def test_replace_card_keeps_the_balance(pg_db: Database, app, clock: Clock,
                                        world: dict[str, int]) -> None:
    support = browser(app, bw.person(pg_db, "support"), clock)
    sara = world["sara"]
    old = pg_db.read(members.get, sara, bw.SECRET).card_number
    support.get(f"/console/members/{sara}")
    form = {"reason": "lost at the gym", "key": "card-1"}
    assert support.post(f"/console/members/{sara}/card", form).status_code == 303
    new = pg_db.read(members.get, sara, bw.SECRET).card_number
    assert support.post(f"/console/members/{sara}/card", form).status_code == 303  # twice
    assert pg_db.read(members.get, sara, bw.SECRET).card_number == new  # replaced once
    assert new != old
    assert pg_db.read(members.find, bw.SECRET, card_number=old) is None
    assert pg_db.read(members.find, bw.SECRET, card_number=new).id == sara
    assert pg_db.read(lambda c: summary(c, sara, clock.now)).spendable == 1200
    [entry] = pg_db.read(lambda c: audit.entries(c, action="member.card_replaced"))
    assert old not in str(entry.after) and new not in str(entry.after)


def test_goodwill_above_the_limit_needs_a_second_operator(pg_db: Database, app, clock: Clock,
                                                          world: dict[str, int]) -> None:
    sara = world["sara"]
    ana = browser(app, bw.person(pg_db, "operator", "ana@example.com"), clock)
    ana.get(f"/console/members/{sara}")
    bad = ana.post(f"/console/members/{sara}/goodwill",
                   {"points": "0", "reason": "late delivery", "key": "k0"})
    assert bad.status_code == 400 and 'data-code="BAD_POINTS"' in bad.text
    small = ana.post(f"/console/members/{sara}/goodwill",
                     {"points": str(LIMIT), "reason": "late delivery", "key": "k1"})
    assert small.headers["location"].endswith("done=booked")
    big_form = {"points": "2000", "reason": "double charge at the till", "key": "k2"}
    big = ana.post(f"/console/members/{sara}/goodwill", big_form)
    assert big.headers["location"].endswith("done=pending")
    again = ana.post(f"/console/members/{sara}/goodwill", big_form)  # the same form twice
    assert again.headers["location"].endswith("done=pending")
    rows = pg_db.read(lambda c: c.execute(select(goodwill_requests)
                                          .order_by(goodwill_requests.c.id)).all())
    assert [(r.points, r.status) for r in rows] == [(LIMIT, "booked"), (2000, "pending")]
    assert pg_db.read(lambda c: summary(c, sara, clock.now)).spendable == 1200 + LIMIT
    pending_id = rows[1].id
    ana.get("/console/goodwill")
    own = ana.post(f"/console/goodwill/{pending_id}/approve")
    assert own.status_code == 409 and 'data-code="FOUR_EYES"' in own.text
    ben = browser(app, bw.person(pg_db, "operator", "ben@example.com"), clock)
    ben.get("/console/goodwill")
    approved = ben.post(f"/console/goodwill/{pending_id}/approve")
    assert approved.headers["location"] == "/console/goodwill?done=approved"
    twice = ben.post(f"/console/goodwill/{pending_id}/approve")
    assert twice.status_code == 409
    assert pg_db.read(lambda c: summary(c, sara, clock.now)).spendable == 1200 + LIMIT + 2000
    assert verify(pg_db) == []
    # Provenance: both bonuses were issued by the network.
    network = pg_db.read(parties.network_party_id)
    issuers = pg_db.read(lambda c: c.execute(
        select(lots.c.issuer_party_id, lots.c.points).where(lots.c.member_id == sara)).all())
    assert sorted(p for i, p in issuers if i == network) == [LIMIT, 2000]
    trail = pg_db.read(lambda c: audit.entries(c, subject=audit.member_subject(sara)))
    assert [(e.action, e.actor_id) for e in trail] == [
        ("goodwill.requested", str(1)), ("goodwill.booked", "1"),
        ("goodwill.requested", "1"), ("goodwill.approved", "2")]
    # The audit page and its CSV show it to an operator.
    log = ben.get("/console/audit", params={"action": "goodwill.*"})
    assert log.status_code == 200 and log.text.count('data-action="goodwill.') == 4
    exported = ben.get("/console/audit.csv", params={"subject": f"member:{sara}"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows_csv = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["action"] for r in rows_csv][-1] == "goodwill.approved"
    assert rows_csv[-1]["actor_kind"] == "staff" and rows_csv[-1]["actor_id"] == "2"


def test_reject_and_forms_without_csrf(pg_db: Database, app, clock: Clock,
                                       world: dict[str, int]) -> None:
    sara = world["sara"]
    ana = browser(app, bw.person(pg_db, "operator", "ana@example.com"), clock)
    ana.get(f"/console/members/{sara}")
    ana.post(f"/console/members/{sara}/goodwill",
             {"points": "900", "reason": "broken promise", "key": "z"})
    forged = ana.client.post(f"/console/members/{sara}/block",
                             data={"csrf": "forged", "reason": "forged form"},
                             follow_redirects=False)
    assert forged.status_code == 403
    ben = browser(app, bw.person(pg_db, "operator", "ben@example.com"), clock)
    ben.get("/console/goodwill")
    [row] = pg_db.read(lambda c: c.execute(select(goodwill_requests)).all())
    assert ben.post(f"/console/goodwill/{row.id}/reject").status_code == 303
    assert ben.post(f"/console/goodwill/{row.id}/approve").status_code == 409
    assert pg_db.read(lambda c: summary(c, sara, clock.now)).spendable == 1200
    assert pg_db.read(lambda c: audit.entries(c))[-1].action == "goodwill.rejected"


def test_merge_a_duplicate_keeps_every_point_and_its_provenance(
        pg_db: Database, app, clock: Clock, world: dict[str, int]) -> None:
    cafe = world["cafe"]
    keep = ww.enrol(pg_db, phone="+989120000001", name="Reza", by=cafe)
    dup = ww.enrol(pg_db, email="reza.old@example.com", name="Reza", by=cafe)
    ww.earn(pg_db, cafe, dup, 300, at=clock.now - dt.timedelta(days=2))
    old_card = pg_db.read(members.get, dup, bw.SECRET).card_number
    support = browser(app, bw.person(pg_db, "support"), clock)
    support.get(f"/console/members/{keep}")
    assert support.post(f"/console/members/{keep}/merge",
                        {"duplicate": "reza.old@example.com", "reason": "same person",
                         "key": "m0"}).status_code == 403
    op = browser(app, bw.person(pg_db, "operator"), clock)
    op.get(f"/console/members/{keep}")
    same = op.post(f"/console/members/{keep}/merge",
                   {"duplicate": "+989120000001", "reason": "same person", "key": "m1"})
    assert same.status_code == 400 and 'data-code="MERGE_SAME"' in same.text
    nobody = op.post(f"/console/members/{keep}/merge",
                     {"duplicate": "nobody@example.com", "reason": "same person", "key": "m2"})
    assert nobody.status_code == 400 and 'id="duplicate-error"' in nobody.text
    form = {"duplicate": "reza.old@example.com", "reason": "same person, two cards", "key": "m3"}
    done = op.post(f"/console/members/{keep}/merge", form)
    assert done.headers["location"] == f"/console/members/{keep}?done=merged"
    # The same form again (a double click, a retry): the first answer, nothing moved twice.
    assert op.post(f"/console/members/{keep}/merge", form).status_code == 303
    assert pg_db.read(lambda c: summary(c, keep, clock.now)).spendable == 300
    assert pg_db.read(lambda c: summary(c, dup, clock.now)).spendable == 0
    issuers = pg_db.read(lambda c: c.execute(
        select(lots.c.issuer_party_id, lots.c.remaining).where(lots.c.member_id == keep)).all())
    assert [(i, r) for i, r in issuers if r] == [(cafe, 300)]
    assert pg_db.read(members.find, bw.SECRET, email="reza.old@example.com").id == keep
    assert pg_db.read(members.find, bw.SECRET, card_number=old_card) is None
    assert verify(pg_db) == []
    again = op.post(f"/console/members/{keep}/merge",
                    {"duplicate": pg_db.read(members.get, dup, bw.SECRET).card_number,
                     "reason": "same person, two cards", "key": "m4"})
    assert again.status_code == 400 and 'data-code="MERGE_BLOCKED"' in again.text
    assert pg_db.read(lambda c: summary(c, keep, clock.now)).spendable == 300
    merged = pg_db.read(lambda c: audit.entries(c, action="member.merged"))
    assert [e.subject for e in merged] == [f"member:{keep}", f"member:{dup}"]
    assert merged[0].after["points_moved"] == 300
    assert merged[0].after["contact_moved"] == ["email"]


def test_merge_waits_for_pending_points(pg_db: Database, app, clock: Clock,
                                        world: dict[str, int]) -> None:
    cafe = world["cafe"]
    keep = ww.enrol(pg_db, phone="+989120000001", name="Reza", by=cafe)
    dup = ww.enrol(pg_db, email="reza.old@example.com", name="Reza", by=cafe)
    ww.earn(pg_db, cafe, dup, 300, at=clock.now - dt.timedelta(days=1),
            pending=dt.timedelta(days=14))
    op = browser(app, bw.person(pg_db, "operator"), clock)
    op.get(f"/console/members/{keep}")
    refused = op.post(f"/console/members/{keep}/merge",
                      {"duplicate": "reza.old@example.com", "reason": "same person", "key": "k"})
    assert refused.status_code == 400 and 'data-code="MERGE_NOT_SETTLED"' in refused.text
    assert pg_db.read(lambda c: audit.entries(c)) == []
