"""Server-side SVG charts: pure functions of numbers and the reader's locale."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from network.web.i18n import locale_for
from settlement.kpis import charts, measures


def test_bars_write_persian_digits_and_grow_from_the_right_in_persian() -> None:
    items = [("کافه <رما>", 1200), ("Shop", 600)]
    en = charts.bars("Liability", items, locale_for("en"))
    fa = charts.bars("تعهد", items, locale_for("fa"))
    assert "1,200" in en and "۱٬۲۰۰" in fa and "1,200" not in fa
    assert "&lt;رما&gt;" in fa  # labels are escaped
    widths = [float(w) for w in re.findall(r'<rect x="[^"]+" y="[^"]+" width="([^"]+)"', en)]
    assert widths[0] == 2 * widths[1]  # bars are proportional to their values
    first = r'<rect x="([^"]+)" y="[^"]+" width="([^"]+)"'
    x_en, w_en = map(float, re.search(first, en).groups())  # type: ignore[union-attr]
    x_fa, w_fa = map(float, re.search(first, fa).groups())  # type: ignore[union-attr]
    # English bars start after the labels on the left; Persian ones end before them on the right.
    assert x_en == 180 and x_fa + w_fa == 520 - 180 and w_en == w_fa


def test_columns_label_days_in_jalali_for_persian() -> None:
    days = [dt.date(2026, 11, 20) + dt.timedelta(days=i) for i in range(3)]
    fa = charts.columns("روزانه", days, [("صادر", [1, 2, 3])], locale_for("fa"))
    assert "۲۹ آبان ۱۴۰۵" in fa and "Nov" not in fa


def test_heatmap_darkens_with_value_and_shows_given_labels() -> None:
    svg = charts.heatmap("m", ["A", "B"], ["X"], {(0, 0): 10, (1, 0): 100}, locale_for("en"),
                         {(1, 0): "€1.00"})
    fills = re.findall(r'<rect [^>]*fill="(#[0-9a-f]{6})"', svg)
    assert fills[0] != fills[1] and "€1.00" in svg and ">10<" in svg


def test_rates_and_uplift() -> None:
    assert measures.rate(1, 3) == Decimal("0.3333") and measures.rate(5, 0) is None
    assert measures.breakage(expired=50, redeemed=100, donated=50) == Decimal("0.25")
    assert measures.uplift(during=30, during_days=3, before=20, before_days=3) == Decimal("0.5")
    assert measures.uplift(during=30, during_days=3, before=0, before_days=3) is None
    assert measures.money_minor(3, Decimal("0.5")) == 2  # 1.5 rounds half-even to 2
    assert measures.money_minor(5, Decimal("0.5")) == 2  # 2.5 rounds half-even to 2
