"""What a finance team checks on a statement: every line multiplies out (quantity x rate =
amount), plain words instead of internal names, the statement's particulars (number, period,
dates, issuer and recipient), identical bytes when a closed run is rendered again, and a
Persian version for Persian-named parties. Over the hand-computed scenario on PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from infra.cli import main
from network.config import Settings, get_settings
from network.db.engine import Database
from network.db.schema import parties
from network.money import round_half_even
from network.parties import network_party_id
from settlement import run
from settlement.clearing import ObligationLine
from settlement.statements import render, signing, wording
from settlement.statements.build import Statement, build_statement, rated_lines
from settlement.statements.export import write_statements
from tests.settlement import scenario as S
from tests.settlement.world import World, build

LATER = datetime(2026, 12, 10, tzinfo=UTC)
INTERNAL = ("cleared_value", "receivable", "payable", "own_redemption", "source_kind")


@pytest.fixture
def world(pg_db: Database) -> World:
    return build(pg_db, pg_db.read(network_party_id), reversal=True)


@pytest.fixture
def settings(pg_db: Database) -> Settings:
    return Settings(database_url=pg_db.url, env="test", secret_key="content-secret")


def _statement(world: World, settings: Settings, symbol: int, period: str = "2026-10",
               at: datetime = LATER) -> Statement:
    closed = run.close(world.db, settings, period, now=LATER)
    return world.db.read(build_statement, closed.run, world.party(symbol), at)


def _rows(st: Statement) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(render.to_csv(st).decode("utf-8"))))


def _visible_text(html: bytes) -> str:
    """What a reader sees: no style sheet, no tags, no attribute values."""
    text = re.sub(r"<style>.*?</style>", "", html.decode("utf-8"), flags=re.S)
    return re.sub(r"<[^>]+>", " ", text)


def _set(db: Database, party_id: int, **values: object) -> None:
    db.write(lambda c: c.execute(update(parties).where(parties.c.id == party_id).values(**values)))


def test_every_line_multiplies_out(world: World, settings: Settings) -> None:
    """points x price per point, or base x basis points, rounded half-even once = the amount
    (the scenario has one contract segment, so each line is exactly one rounding)."""
    st = _statement(world, settings, S.A)
    rows = [r for r in _rows(st) if r["direction"]]
    assert len(rows) == len(st.lines) == 9
    for r in rows:
        rate, base = Decimal(r["rate"]), int(r["base"])
        expected = base * rate / 10_000 if r["rate_unit"] == "basis_points" else base * rate
        assert abs(int(r["amount_minor"])) == round_half_even(expected), r
    fee = next(r for r in rows if r["source_kind"] == "cleared_value")
    # Cafe's points redeemed at telecom (95.00) and pharmacy (35.00) are the fee's base.
    assert (fee["rate"], fee["rate_unit"], fee["base"], fee["base_unit"]) == (
        "150", "basis_points", "13000", "minor_units")
    assert fee["amount_minor"] == "-195"
    at_telecom = next(r for r in rows if r["counterparty"] == "telecom"
                      and r["direction"] == "payable")
    assert (at_telecom["rate"], at_telecom["base"], at_telecom["amount"]) == (
        "0.95", "10000", "-95.00")
    assert at_telecom["description"] == "Your points redeemed with them"


def test_a_rate_change_inside_the_month_gives_one_line_per_rate() -> None:
    """Two contract segments at different prices cannot be one line with one rate; two at the
    same price can (their amounts were each rounded once already)."""
    lines = [ObligationLine(2, 3, "redemption", "redemption", 0, 100, Decimal("0.95"), 100, 95),
             ObligationLine(2, 3, "redemption", "redemption", 1, 100, Decimal("1.25"), 100, 125),
             ObligationLine(2, 4, "redemption", "redemption", 0, 10, Decimal("1.0"), 10, 10),
             ObligationLine(2, 4, "redemption", "redemption", 1, 20, Decimal("1.00"), 20, 20)]
    rated = rated_lines(lines, 2)
    assert [(ln.counterparty_id, ln.rate, ln.points, ln.amount_minor) for ln in rated] == [
        (3, Decimal("0.95"), 100, -95), (3, Decimal("1.25"), 100, -125),
        (4, Decimal("1"), 30, -30)]
    assert [ln.direction for ln in rated_lines(lines, 3)] == ["receivable", "receivable"]


def test_statement_particulars_in_csv_and_html(world: World, settings: Settings) -> None:
    st = _statement(world, settings, S.B)
    facts = {r["kind"]: r["source_kind"] for r in _rows(st) if not r["direction"]}
    assert facts["statement_number"] == f"PN-2026-10-R{st.run.id}-P{world.party(S.B)}"
    assert (facts["period_start"], facts["period_end"]) == ("2026-10-01", "2026-10-31")
    assert facts["statement_date"] == "2026-12-10"  # the day the run was closed
    assert facts["payment_date"] == "" and facts["payment_status"] == "not paid yet"
    assert facts["issuer"] == "Points Network"
    html = render.to_html(st).decode("utf-8")
    text = _visible_text(render.to_html(st))
    assert st.number in text and "Oct 1, 2026 to Oct 31, 2026, inclusive (UTC)" in text
    assert "Statement date: Dec 10, 2026" in " ".join(text.split())
    assert "From (issuer)" in text and "Points Network" in text
    assert "To (recipient)" in text and "Telecom" in text
    assert "0.0095 EUR</span> per point" in html  # cafe's points: 10,000 x 0.0095 EUR
    assert "2.00%" in html and "Network fee on the value of your points" in html
    assert "@page { size: A4" in html and "word-break" not in html
    for name in INTERNAL:
        assert name not in text, name


def test_hash_footer_wraps_only_between_groups(world: World, settings: Settings) -> None:
    st = _statement(world, settings, S.A)
    html = render.to_html(st).decode("utf-8")
    shown = re.search(r'<span class="hash">(.*?)</span>', html).group(1)  # type: ignore[union-attr]
    groups = shown.split("<wbr>")
    assert "".join(groups) == st.run.content_hash and {len(g) for g in groups} == {16}


def test_a_closed_run_renders_to_identical_bytes(world: World, settings: Settings) -> None:
    first = _statement(world, settings, S.A, at=LATER)
    again = _statement(world, settings, S.A, at=datetime(2027, 3, 1, tzinfo=UTC))
    assert render.to_csv(first) == render.to_csv(again)
    assert render.to_html(first) == render.to_html(again)
    assert render.to_html(first, "fa") == render.to_html(again, "fa")


def test_written_twice_the_files_and_signatures_are_the_same(world: World, settings: Settings,
                                                             tmp_path: Path) -> None:
    closed = run.close(world.db, settings, "2026-10", now=LATER)
    one = write_statements(world.db, settings, closed.run, tmp_path / "one")
    two = write_statements(world.db, settings, closed.run, tmp_path / "two")
    assert [p.name for p in one] == [p.name for p in two]
    for a, b in zip(one, two, strict=True):
        assert a.read_bytes() == b.read_bytes()
        assert Path(f"{a}.sig").read_bytes() == Path(f"{b}.sig").read_bytes()


def test_persian_rule() -> None:
    assert wording.wants_persian("داروخانهٔ مرکزی", None)
    assert wording.wants_persian("Telecom", "مخابرات")
    assert not wording.wants_persian("Café Zoë", None)
    assert not wording.wants_persian("Telecom", "")


def test_persian_named_parties_get_a_signed_persian_statement(
        world: World, settings: Settings, pg_db: Database, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _set(world.db, world.party(S.B), name_fa="مخابرات")
    _set(world.db, world.party(S.C), name="داروخانهٔ مرکزی")
    closed = run.close(world.db, settings, "2026-10", now=LATER)
    written = write_statements(world.db, settings, closed.run, tmp_path)
    names = {p.name for p in written}
    assert {"2026-10-telecom.fa.html", "2026-10-pharmacy.fa.html"} <= names
    assert "2026-10-cafe.fa.html" not in names and "2026-10-cafe.html" in names
    fa = (tmp_path / "2026-10" / "2026-10-telecom.fa.html").read_bytes()
    text = _visible_text(fa)
    assert '<html lang="fa" dir="rtl">' in fa.decode("utf-8")
    assert "مخابرات" in text and "صورت‌حساب تسویه" in text
    # Jalali period: 1 Oct 2026 = 9 Mehr 1405, 31 Oct 2026 = 9 Aban 1405, in Persian digits.
    assert "از ۹ مهر ۱۴۰۵ تا ۹ آبان ۱۴۰۵" in text
    assert "۶٫۸۹ EUR" in text and "۱۰٬۰۰۰" in text  # telecom's net 6.89; 10,000 points
    assert "۰٫۰۰۹۵ EUR" in text  # cafe's price per point, every decimal kept
    for name in INTERNAL:
        assert name not in text, name
    # Every amount is written in Persian digits: no ASCII digit before a currency code.
    assert not re.search(r"[0-9] EUR", text)
    signature = (tmp_path / "2026-10" / "2026-10-telecom.fa.html.sig").read_bytes()
    public = (tmp_path / "2026-10" / "hub-statement-key.pem").read_bytes()
    assert signing.verify(public, fa, signature)
    monkeypatch.setenv("POINTSNET_DATABASE_URL", pg_db.url)
    monkeypatch.setenv("POINTSNET_SECRET_KEY", "content-secret")
    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(main, ["settle", "verify-statement",
                                        str(tmp_path / "2026-10" / "2026-10-telecom.fa.html")])
    finally:
        get_settings.cache_clear()
    assert out.exit_code == 0 and "OK" in out.output, out.output


def test_adjustments_read_as_reversals(world: World, settings: Settings) -> None:
    """November holds only a late reversal of cafe points redeemed at telecom in October."""
    st = _statement(world, settings, S.A, period="2026-11")
    rows = {r["kind"]: r for r in _rows(st) if r["direction"]}
    assert rows["adjustment"]["description"] == ("Reversal: your points redeemed with them "
                                                 "earlier, given back")
    assert (rows["adjustment"]["points"], rows["adjustment"]["amount_minor"]) == ("-1000", "950")
    assert (rows["fee"]["base"], rows["fee"]["amount_minor"]) == ("-950", "14")
    # The page adds lines by sign: the reversal cafe pays back as payer is in its favour,
    # so nothing positive is ever "owed by you" (the CSV keeps the positions' by-role totals).
    text = " ".join(_visible_text(render.to_html(st)).split())
    assert "Owed to you 9.64 EUR Owed by you 0.00 EUR" in text
    assert "Net: 9.64 EUR (the network pays you)" in text
    lines = text.split("Lines by counterparty")[1].split("How to read")[0]
    assert "given back · owed to you" in lines and "owed by you" not in lines


def test_both_languages_say_the_same_things() -> None:
    for table in (wording.TEXT, wording.LINE_WORDS, wording.SECTION_WORDS,
                  wording.STATUS_WORDS):
        assert set(table["en"]) == set(table["fa"])
    assert set(wording.PAYMENT_WORDS["fa"]) >= {"nothing to pay", "not paid yet", "succeeded"}


def test_writer_formats_money_rates_and_dates() -> None:
    en, fa = wording.Writer("en", "EUR"), wording.Writer("fa", "EUR")
    assert en.money(-123456) == "−1,234.56 EUR" and fa.money(-123456) == "−۱٬۲۳۴٫۵۶ EUR"
    assert en.price_per_point(Decimal("0.95")) == "0.0095 EUR"
    assert en.price_per_point(Decimal("100")) == "1.00 EUR"
    assert en.percent(Decimal(150)) == "1.50%" and fa.percent(Decimal(125)) == "۱٫۲۵٪"
    assert wording.Writer("en", "JPY").money(500) == "500 JPY"
    day = datetime(2026, 3, 21, tzinfo=UTC).date()  # Nowruz: 1 Farvardin 1405
    assert en.date(day) == "Mar 21, 2026" and fa.date(day) == "۱ فروردین ۱۴۰۵"
