"""Statement renderings. CSV: one row per statement line plus summary rows, same columns
throughout so a spreadsheet or script can sum it. HTML: a printable page (Jinja2 template)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from settlement.sections import TITLES
from settlement.statements.build import Statement

COLUMNS = ["period", "party", "counterparty", "counterparty_name", "kind", "source_kind",
           "direction", "points", "amount_minor", "amount", "currency"]
_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   autoescape=select_autoescape(["html"]), keep_trailing_newline=True)


# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    """A party-supplied text cell (name, code), quoted with a leading apostrophe when a
    spreadsheet would otherwise run it as a formula ('=HYPERLINK(…)'). Numbers are not text."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def to_csv(st: Statement) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    base = [st.run.period, _text(st.party.code)]
    for line in st.lines:
        cp = st.counterparties[line.counterparty_id]
        writer.writerow(base + [_text(cp.code), _text(cp.name), line.kind, line.source_kind,
                                line.direction, line.points, line.amount_minor,
                                st.money(line.amount_minor).to_major(), st.run.currency])
    for label, minor in (("total_receivable", st.receivable_minor),
                         ("total_payable", -st.payable_minor), ("net", st.net_minor)):
        writer.writerow(base + ["", "", label, "", "", "", minor, st.money(minor).to_major(),
                                st.run.currency])
    writer.writerow(base + ["", "", "content_hash", st.run.content_hash, "", "", "", "", ""])
    writer.writerow(base + ["", "", "payment_status", st.payment_status, "", "", "", "", ""])
    return out.getvalue().encode("utf-8")


def to_html(st: Statement) -> bytes:
    template = _env.get_template("statement.html")
    return template.render(st=st, titles=TITLES, fmt=lambda m: st.money(m).format()
                           ).encode("utf-8")
