"""/console/tiers: the tier ladder in force (thresholds, earn multipliers, retention, names), how
many members hold each tier today (stored tiers, as earns and the daily job decided them), and
for operators the form that edits the ladder. Every staff role reads it; only operators post
(others get 403).

The ladder is data (network/programme/ladder_store.py): an edit is validated exactly as
`pointsnet programme tiers set` validates a file (network/programme/ladder.py), writes nothing
when refused (the problems beside their inputs, the values kept), and is audited with the
ladder before and after. It does not rewrite history: members move at their next earn
(upgrades) or the daily `tiers` job, as the page says."""

from __future__ import annotations

from decimal import Decimal

from starlette.requests import Request
from starlette.responses import Response

from network.backoffice.page import NavItem, register_nav
from network.backoffice.roles import ANY_STAFF, OPERATORS, Principal
from network.backoffice.site import Backoffice
from network.console import tier_form
from network.console.campaign_pages import problem_words
from network.console.member_pages import staff
from network.console.page import ConsolePage
from network.programme import ladder, ladder_store, tiers, tiers_store
from network.programme.ladder import MAX_TIERS
from network.programme.validation import Problem

register_nav(NavItem("/console/tiers", "nav_tiers", "staff", ANY_STAFF))
# Every input of the fullest form: the window, the row count, the token, and each row's fields
# with its remove box.
MAX_FIELDS = 3 + (MAX_TIERS + 1) * (len(tier_form.FIELDS) + 1)


def _render(bo: Backoffice, who: Principal, page: ConsolePage, *,
            values: tier_form.Values | None = None, problems: tuple[Problem, ...] = (),
            rows: list[int] | None = None, status: int = 200) -> Response:
    def read(conn):  # type: ignore[no-untyped-def]
        return ladder_store.versions(conn, limit=1)[0], tiers_store.held_counts(conn)

    current, counts = bo.db.read(read)
    total = sum(counts.values())
    shares = {code: (Decimal(100 * n) / total).quantize(Decimal("0.1")) if total else Decimal(0)
              for code, n in counts.items()}
    t = page.values()["t"]
    return page.render(
        "console_tiers.html", status=status, ladder=current.ladder, version=current,
        counts=counts, shares=shares, days=tiers.window(current.ladder).days,
        may_edit=who.role in OPERATORS,
        values=values or tier_form.from_document(ladder.to_document(current.ladder)),
        problems=tier_form.by_input(problems, rows or []),
        first=problems[0] if problems else None, words=problem_words(page),
        notice=t("tier_saved") if page.request.query_params.get("done") else None)


async def ladder_page(bo: Backoffice, request: Request) -> Response:
    who, page = staff(bo, request, ANY_STAFF)
    return _render(bo, who, page)


async def save(bo: Backoffice, request: Request) -> Response:
    """POST /console/tiers: put the posted ladder in force, or show the form again with every
    problem beside its input and the values as typed (nothing written)."""
    who, page = staff(bo, request, OPERATORS)
    form = await bo.form(request, page, fields=MAX_FIELDS)
    shown = tier_form.posted(form.get, _rows(form.get("rows")))
    doc, rows = tier_form.document(shown)
    try:
        bo.db.write(lambda conn: ladder_store.save(
            conn, doc, actor_kind=who.actor_kind, actor_id=who.account_id, by=who.name,
            now=bo.clock(), request_id=request.headers.get("x-request-id")))
    except ladder_store.TierLadderError as refused:
        return _render(bo, who, page, values=shown, problems=refused.problems, rows=rows,
                       status=400)
    return page.redirect("/console/tiers?done=1")


def _rows(posted: object) -> int:
    """How many rows the form had (a hidden input), within 1..MAX_TIERS + 1."""
    text = posted if isinstance(posted, str) else ""
    return min(max(int(text), 1), MAX_TIERS + 1) if text.isascii() and text.isdigit() else 1
