"""Statement renderings. CSV: one row per statement line plus summary rows, same columns
throughout so a spreadsheet or script can sum it (new facts are new columns or labelled
summary rows, never prose in a number column). HTML: a page an accountant can read on a phone
and print on A4 (Jinja2 template), in English and, for Persian-named parties, in Persian."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from settlement.statements.build import RatedLine, Statement
from settlement.statements.wording import Writer, line_words

COLUMNS = ["period", "party", "counterparty", "counterparty_name", "kind", "source_kind",
           "direction", "points", "amount_minor", "amount", "currency",
           # Added for finance checks: quantity x rate = amount on every line, in words too.
           "rate", "rate_unit", "base", "base_unit", "description"]
_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   autoescape=select_autoescape(["html"]), keep_trailing_newline=True)


# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    """A party-supplied text cell (name, code), quoted with a leading apostrophe when a
    spreadsheet would otherwise run it as a formula ('=HYPERLINK(…)'). Numbers are not text."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def rate_columns(line: RatedLine) -> tuple[str, str, int, str]:
    """rate, rate_unit, base, base_unit: exact values a script can multiply out."""
    rate = format(line.rate.normalize(), "f")
    if line.rate_is_percentage:
        return rate, "basis_points", line.base, "minor_units"
    return rate, "minor_units_per_point", line.points, "points"


def to_csv(st: Statement) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    base = [st.run.period, _text(st.party.code)]
    for line in st.lines:
        cp = st.counterparties[line.counterparty_id]
        writer.writerow(base + [_text(cp.code), _text(cp.name), line.kind, line.source_kind,
                                line.direction, line.points, line.amount_minor,
                                st.money(line.amount_minor).to_major(), st.run.currency,
                                *rate_columns(line),
                                line_words("en", line.kind, line.source_kind, line.direction)])
    blank = ["", "", "", "", ""]
    for label, minor in (("total_receivable", st.receivable_minor),
                         ("total_payable", -st.payable_minor), ("net", st.net_minor)):
        writer.writerow(base + ["", "", label, "", "", "", minor, st.money(minor).to_major(),
                                st.run.currency, *blank])
    start, end = st.period_dates
    facts = (("content_hash", st.run.content_hash), ("payment_status", st.payment_status),
             ("statement_number", st.number), ("period_start", start.isoformat()),
             ("period_end", end.isoformat()), ("statement_date", st.issued_on.isoformat()),
             ("payment_date", st.paid_on.isoformat() if st.paid_on else ""),
             ("issuer", _text(st.issuer.name)))
    for label, value in facts:  # kind names the fact, source_kind holds it (as always)
        writer.writerow(base + ["", "", label, value, "", "", "", "", "", *blank])
    return out.getvalue().encode("utf-8")


def to_html(st: Statement, language: str = "en") -> bytes:
    """The printable statement in `language` ('en' or 'fa'); the same run, party and payment
    always give the same bytes."""
    w = Writer(language, st.run.currency)
    template = _env.get_template("statement.html")
    hash_ = st.run.content_hash
    return template.render(st=st, w=w, lang=w.language, dir=w.locale.direction,
                           line_words=line_words,
                           hash_parts=[hash_[i:i + 16] for i in range(0, len(hash_), 16)]
                           ).encode("utf-8")
