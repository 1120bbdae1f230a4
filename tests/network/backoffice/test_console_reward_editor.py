"""The console's reward editor over HTTP on PostgreSQL: an operator creates and edits a reward
(names in both languages, picture, price, stock, window, limit, visibility, partner) through the
API's own functions, so each refusal carries the API's codes and fields and writes nothing; a
pool reward takes a CSV of codes all or nothing, each bad line named by its number; every write
is one audit entry; other roles get 403."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from network import audit, parties
from network.db.engine import Database
from network.programme import rewards_store
from network.programme.rewards_schema import reward_codes, rewards
from tests.network.backoffice import world as bw
from tests.network.backoffice.conftest import Clock, browser

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture
def world(pg_db: Database) -> dict[str, int]:
    cafe = pg_db.write(lambda c: parties.create(c, kind="partner", code="cafe", name="Cafe",
                                                name_fa="کافه"))
    unicef = pg_db.write(lambda c: parties.create(c, kind="charity", code="unicef",
                                                  name="Unicef"))
    return {"cafe": cafe, "unicef": unicef}


FORM = {"partner": "cafe", "kind": "coupon", "name_en": "Free coffee", "name_fa": "قهوهٔ رایگان",
        "description_en": "Any size", "description_fa": "هر اندازه", "price_points": "۱٬۲۰۰",
        "stock": "50", "per_member_limit": "2", "coupon_days": "30",
        "valid_from": "2030-01-01T09:00", "valid_until": "2030-02-01T09:00",
        "code_source": "generated"}


def _count(db: Database) -> int:
    return db.read(lambda c: c.execute(select(func.count()).select_from(rewards)).scalar_one())


def _key(page: str) -> str:
    return re.search(r'name="key" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def test_an_operator_creates_then_edits_a_reward_audited_once_each(
        pg_db: Database, app, clock: Clock, world: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    op = browser(app, bw.person(pg_db, "operator"), clock)
    form = op.get("/console/rewards/new")
    assert form.status_code == 200
    data = {**FORM, "tiers": "silver", "key": _key(form.text)}
    made = op.client.post("/console/rewards/new", data={"csrf": op.csrf, **data},
                          files={"image": ("coffee.png", PNG, "image/png")},
                          follow_redirects=False)
    assert made.status_code == 303, made.text
    reward_id = int(made.headers["location"].split("/")[-1].split("?")[0])
    # The same form again (a resent POST): the same reward, nothing twice.
    again = op.client.post("/console/rewards/new", data={"csrf": op.csrf, **data},
                           files={"image": ("coffee.png", PNG, "image/png")},
                           follow_redirects=False)
    assert again.headers["location"] == made.headers["location"] and _count(pg_db) == 1
    saved = pg_db.read(rewards_store.get, reward_id)
    s = saved.spec
    assert (saved.status, saved.partner_id, s.price_points, s.stock, s.per_member_limit,
            s.name_fa, s.has_image, s.visibility.tiers) == (
        "draft", world["cafe"], 1200, 50, 2, "قهوهٔ رایگان", True, ("silver",))
    assert s.valid_from == dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC)  # the network's zone: UTC
    page = op.get(made.headers["location"])
    assert page.status_code == 200 and 'value="Free coffee"' in page.text
    assert op.get(f"/console/rewards/{reward_id}/image").content == PNG
    edited = op.post(f"/console/rewards/{reward_id}", {
        **FORM, "price_points": "900", "stock": "", "tiers": [], "remove_image": "1",
        "key": _key(page.text)})
    assert edited.status_code == 303
    s = pg_db.read(rewards_store.get, reward_id).spec
    assert (s.price_points, s.stock, s.has_image, s.visibility.tiers) == (900, None, False, ())
    logged = pg_db.read(lambda c: audit.entries(c, subject=f"reward:{reward_id}"))
    assert sorted(e.action for e in logged) == ["reward.created", "reward.edited"]
    edit = next(e for e in logged if e.action == "reward.edited")
    assert (edit.before["price_points"], edit.after["price_points"]) == (1200, 900)
    assert "name_en" not in edit.after  # terms, not words


@pytest.mark.parametrize(("changes", "expected"), [
    ({"name_fa": ""}, {("nameFa", "NAME_REQUIRED")}),
    ({"price_points": "abc", "stock": "-1"}, {("pricePoints", "PRICE_NOT_POSITIVE"),
                                              ("stock", "STOCK_OUT_OF_RANGE")}),
    ({"valid_until": "2029-01-01T09:00"}, {("validUntil", "WINDOW_EMPTY")}),
    ({"valid_from": "tomorrow"}, {("validFrom", "TIME_WITHOUT_ZONE")}),
    ({"kind": "gift_card"}, {("valueMinor", "VALUE_REQUIRED"), ("currency", "INVALID_CURRENCY")}),
    ({"kind": "charity_pledge", "code_source": "none"}, {("charity", "CHARITY_REQUIRED")}),
    ({"charity": "nope"}, {("charity", "CHARITY_NOT_FOR_KIND")}),
    ({"partner": "unicef"}, {("partner", "PARTY_UNKNOWN")}),
    ({"per_member_limit": "0", "coupon_days": "9999"}, {("perMemberLimit", "LIMIT_OUT_OF_RANGE"),
                                                        ("couponDays",
                                                         "COUPON_DAYS_OUT_OF_RANGE")}),
])
def test_a_refused_reward_names_every_problem_and_writes_nothing(
        pg_db: Database, app, clock: Clock, world: dict[str, int], changes: dict,  # type: ignore[no-untyped-def]
        expected: set) -> None:
    op = browser(app, bw.person(pg_db, "operator"), clock)
    op.get("/console/rewards/new")
    refused = op.post("/console/rewards/new", {**FORM, **changes})
    assert refused.status_code == 400
    found = set(re.findall(r'<li data-code="([A-Z_]+)" data-field="([^"]+)"', refused.text))
    assert {(f, c) for c, f in found} == expected
    assert _count(pg_db) == 0
    assert pg_db.read(lambda c: audit.entries(c, action="reward.created")) == []


def test_a_picture_that_is_no_picture_is_refused(pg_db: Database, app, clock: Clock,  # type: ignore[no-untyped-def]
                                                 world: dict[str, int]) -> None:
    op = browser(app, bw.person(pg_db, "operator"), clock)
    op.get("/console/rewards/new")
    refused = op.client.post("/console/rewards/new", data={"csrf": op.csrf, **FORM},
                             files={"image": ("x.png", b"<svg/>", "image/png")})
    assert refused.status_code == 400 and 'data-code="IMAGE_INVALID"' in refused.text
    assert _count(pg_db) == 0


def _upload(op: bw.Client, reward_id: int, body: bytes):  # type: ignore[no-untyped-def]
    page = op.get(f"/console/rewards/{reward_id}")
    return op.client.post(f"/console/rewards/{reward_id}/codes",
                          data={"csrf": op.csrf, "key": _key(page.text)},
                          files={"csv": ("codes.csv", body, "text/csv")},
                          follow_redirects=False)


def test_a_code_pool_loads_all_or_nothing_with_line_numbers(
        pg_db: Database, app, clock: Clock, world: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    op = browser(app, bw.person(pg_db, "operator"), clock)
    op.get("/console/rewards/new")
    made = op.post("/console/rewards/new", {**FORM, "code_source": "pool"})
    reward_id = int(made.headers["location"].split("/")[-1].split("?")[0])
    bad = _upload(op, reward_id, b"code\nAAAA-1111\nx\nBBBB2222\naaaa1111\n")
    assert bad.status_code == 400
    lines = re.findall(r'<li data-code="([A-Z_]+)" data-field="csv.line(\d+)"', bad.text)
    assert lines == [("CODE_MALFORMED", "3"), ("CODE_DUPLICATE_IN_FILE", "5")]
    count = select(func.count()).select_from(reward_codes)
    assert pg_db.read(lambda c: c.execute(count).scalar_one()) == 0
    good = _upload(op, reward_id, b"code\nAAAA-1111\nBBBB2222\n")
    assert good.status_code == 303 and good.headers["location"].endswith("added=2")
    assert "2 codes added" in op.get(good.headers["location"]).text
    assert pg_db.read(lambda c: c.execute(count).scalar_one()) == 2
    taken = _upload(op, reward_id, b"bbbb2222\n")
    assert 'data-code="CODE_EXISTS"' in taken.text
    logged = pg_db.read(lambda c: audit.entries(c, action="reward.codes_uploaded"))
    assert [e.after for e in logged] == [{"added": 2, "partner_id": world["cafe"]}]
    # A generated-code reward takes no uploads: the API's refusal.
    generated = op.post("/console/rewards/new", FORM)
    other = int(generated.headers["location"].split("/")[-1].split("?")[0])
    refused = _upload(op, other, b"CCCC3333\n")
    assert refused.status_code == 400 and 'data-code="CODE_SOURCE_NOT_POOL"' in refused.text


@pytest.mark.parametrize("role", ["support", "finance", "viewer"])
def test_only_operators_open_the_editor(pg_db: Database, app, clock: Clock,  # type: ignore[no-untyped-def]
                                        world: dict[str, int], role: str) -> None:
    made = rewards_store.create(pg_db, partner_id=world["cafe"], spec=rewards_store.RewardSpec(
        kind="coupon", name_en="A", name_fa="ب", price_points=10), scope="t",
        idempotency_key="k1")
    them = browser(app, bw.person(pg_db, role), clock)
    listed = them.get("/console/rewards")
    assert listed.status_code == 200 and "reward-new" not in listed.text
    for url in ("/console/rewards/new", f"/console/rewards/{made.id}"):
        assert them.get(url).status_code == 403
        assert them.post(url, FORM).status_code == 403
    assert them.post(f"/console/rewards/{made.id}/codes").status_code == 403
    assert _count(pg_db) == 1
