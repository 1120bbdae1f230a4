"""/partner/statements: a partner's monthly statements, as `settle statements` writes them
(CSV, HTML, Persian HTML for a Persian-named party), each with its detached Ed25519 signature,
and the hub's public statement key to check them with.

Only closed runs have statements (a draft can still change). A statement is built with the
run's own computation time as its "generated" time, so downloading it twice gives the same
bytes and the same signature.
"""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from network.backoffice.site import Backoffice, not_found
from network.db.schema import parties
from settlement import store
from settlement.statements import signing
from settlement.statements.build import build_statement
from settlement.statements.export import render_signed
from settlement.web.page import PARTNER_READERS, PartnerSettlementPage

CLOSED = ("closed", "paying", "paid")
TYPES = {".csv": "text/csv; charset=utf-8", ".html": "text/html; charset=utf-8",
         ".fa.html": "text/html; charset=utf-8"}


def _who(bo: Backoffice, request: Request) -> tuple[int, PartnerSettlementPage]:
    who = bo.require(request, roles=PARTNER_READERS, kind=PartnerSettlementPage)
    assert who.partner_id is not None
    page = bo.page(request, who, PartnerSettlementPage)
    assert isinstance(page, PartnerSettlementPage)
    return who.partner_id, page


def _runs_with(conn, partner_id: int) -> list[store.StoredRun]:  # type: ignore[no-untyped-def]
    return [run for run in store.list_runs(conn) if run.status in CLOSED
            and any(p.party_id == partner_id for p in store.load_positions(conn, run.id))]


async def statements(bo: Backoffice, request: Request) -> Response:
    partner_id, page = _who(bo, request)
    runs = bo.db.read(_runs_with, partner_id)
    persian = bo.db.read(lambda c: c.execute(select(parties.c.name_fa).where(
        parties.c.id == partner_id)).scalar()) is not None
    return page.render("partner_statements.html", persian=persian,
                       runs=sorted(runs, key=lambda r: r.period, reverse=True))


async def statement_file(bo: Backoffice, request: Request) -> Response:
    """/partner/statements/{period}{suffix}[.sig], the partner's own statement only: the
    partner comes from the signed-in account, never from the URL."""
    partner_id, page = _who(bo, request)
    name: str = request.path_params["name"]
    if name == "hub-statement-key.pem":
        key = signing.public_pem(signing.statement_key(bo.settings))
        return page.finish(Response(key, media_type="application/x-pem-file"))
    signature = name.endswith(".sig")
    stem = name.removesuffix(".sig")
    period, _, rest = stem.partition(".")
    suffix = "." + rest
    if suffix not in TYPES:
        return not_found(page)
    run = bo.db.read(store.find_run, period) if len(period) == 7 else None
    if run is None or run.status not in CLOSED or not bo.db.read(
            lambda c: any(p.party_id == partner_id for p in store.load_positions(c, run.id))):
        return not_found(page)
    statement = bo.db.read(build_statement, run, partner_id, run.computed_at)
    signed = render_signed(statement, bo.settings)
    for file_suffix, data, sig in signed.files():
        if file_suffix == suffix:
            filename = f"{run.period}-{statement.party.code}{suffix}" + (".sig" if signature
                                                                          else "")
            return page.finish(Response(
                sig if signature else data,
                media_type="application/octet-stream" if signature else TYPES[suffix],
                headers={"Content-Disposition": f'attachment; filename="{filename}"'}))
    return not_found(page)
