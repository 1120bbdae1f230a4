"""/console/segments: the segments campaigns and rewards target. Every staff role reads the list
and a segment's page (its definition and a few members, cards masked but for the last four
digits); operators create a segment (static, or rule-based from a JSON rule as
`pointsnet segments create --rule`), import a static list from a CSV file and refresh a rule
segment now. Each write is the CLI's own function (segments_store.create, import_static,
refresh_rules), so a refusal carries the same code and field, writes nothing, and an import
with any bad line names each by its number and imports none. Every change is audited in the
change's own transaction."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from network.backoffice.page import NavItem, register_nav
from network.backoffice.roles import ANY_STAFF, OPERATORS, Principal
from network.backoffice.site import Backoffice, not_found, text
from network.console.member_pages import staff
from network.console.page import ConsolePage
from network.console.segment_words import SegmentPage
from network.programme import segments_store as store
from network.programme.segments import SegmentError

register_nav(NavItem("/console/segments", "nav_segments", "staff", ANY_STAFF))

SHOWN_MEMBERS = 10
MAX_CSV_BYTES = 2_000_000  # some 100,000 cards: a list larger than that is a rule's job
DONE = ("created", "imported", "refreshed")
KINDS = ("static", "rule")  # what an operator makes; RFM segments are the job's
EXAMPLE_RULE = {"all": [{"tier": ["gold"]}, {"earned": {"days": 90, "at_least": 1000}}]}


def masked(card: str) -> str:
    """A card number as a list of members shows it: only the last four digits."""
    return "•••• " + card[-4:]


def _audited(segment: store.Segment) -> dict[str, Any]:
    """What the log keeps of a segment (the code is the entry's subject)."""
    return {"kind": segment.kind, "name_en": segment.name_en, "name_fa": segment.name_fa,
            "rule": segment.rule, "members": segment.members}


def _list(bo: Backoffice, page: ConsolePage, who: Principal, *, status: int = 200,
          error: SegmentError | None = None, form: dict[str, str] | None = None) -> Response:
    return page.render("console_segments.html", status=status,
                       segments=bo.db.read(store.list_segments),
                       may_act=who.role in OPERATORS, error=error, kinds=KINDS,
                       example=json.dumps(EXAMPLE_RULE),
                       form={"code": "", "name_en": "", "name_fa": "", "kind": "static",
                             "rule": "", **(form or {})},
                       notice=_notice(page))


def _notice(page: ConsolePage) -> str | None:
    """The word for what the last POST did (it redirected here with `done`)."""
    done = page.request.query_params.get("done", "")
    return page.values()["t"](f"seg_done_{done}") if done in DONE else None


async def listing(bo: Backoffice, request: Request) -> Response:
    who, page = staff(bo, request, ANY_STAFF, SegmentPage)
    return _list(bo, page, who)


def _rule(kind: str, raw: str) -> dict[str, Any] | None:
    """The posted rule: None for a static segment; JSON for a rule one (as the CLI's file)."""
    if kind != "rule":
        return None
    try:
        return json.loads(raw)  # type: ignore[no-any-return]
    except json.JSONDecodeError as exc:
        raise SegmentError(f"the rule is not JSON: {exc}", code="RULE_INVALID",
                           field="rule") from None


async def create(bo: Backoffice, request: Request) -> Response:
    who, page = staff(bo, request, OPERATORS, SegmentPage)
    form = await bo.form(request, page)
    sent = {name: text(form, name) for name in ("code", "name_en", "name_fa", "kind", "rule")}
    kind = sent["kind"] if sent["kind"] in KINDS else "static"
    code = sent["code"].strip()

    def write(conn: Connection) -> None:
        now = bo.clock()
        store.create(conn, code=code, name_en=sent["name_en"].strip(),
                     name_fa=sent["name_fa"].strip(), rule=_rule(kind, sent["rule"]), now=now)
        if kind == "rule":
            store.refresh_rules(conn, now, only=code)  # its members now, as the CLI does
        bo.audit(conn, request, who, action="segment.created", subject=f"segment:{code}"[:100],
                 after=_audited(store.get(conn, code)))

    try:
        bo.db.write(write)
    except SegmentError as error:
        return _list(bo, page, who, status=400, error=error, form=sent)
    return page.redirect(f"/console/segments/{code}?done=created")


def _shown(bo: Backoffice, page: ConsolePage, who: Principal, code: str, *, status: int = 200,
           error: SegmentError | None = None) -> Response:
    def read(conn: Connection) -> tuple[store.Segment, list[str]] | None:
        try:
            segment = store.get(conn, code)
        except SegmentError:
            return None
        return segment, store.member_cards(conn, segment.id, SHOWN_MEMBERS)

    found = bo.db.read(read)
    if found is None:
        return not_found(page)
    segment, cards = found
    problems = getattr(error, "problems", ())
    return page.render("console_segment.html", status=status, s=segment,
                       cards=[masked(c) for c in cards],
                       rule=json.dumps(segment.rule, ensure_ascii=False, indent=2)
                       if segment.rule is not None else None,
                       may_act=who.role in OPERATORS, error=error, problems=problems,
                       notice=_notice(page))


async def segment(bo: Backoffice, request: Request) -> Response:
    who, page = staff(bo, request, ANY_STAFF, SegmentPage)
    return _shown(bo, page, who, request.path_params["code"])


async def _csv(upload: object) -> str:
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise SegmentError("choose a CSV file of card numbers", code="CSV_EMPTY", field="file")
    data = await upload.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        raise SegmentError("the file is too large for a static list", code="BAD_FILE",
                           field="file")
    try:
        return data.decode("utf-8-sig")  # a spreadsheet's BOM is not a card
    except UnicodeDecodeError:
        raise SegmentError("the file is not UTF-8 text", code="BAD_FILE",
                           field="file") from None  # as `pointsnet segments import` says


async def import_list(bo: Backoffice, request: Request) -> Response:
    """Make a static segment exactly the members the file lists: all of it, or none."""
    who, page = staff(bo, request, OPERATORS, SegmentPage)
    form = await bo.form(request, page, files=1)
    code = request.path_params["code"]

    def write(conn: Connection, csv_text: str) -> None:
        before = store.get(conn, code).members
        result = store.import_static(conn, code, csv_text, bo.clock())
        bo.audit(conn, request, who, action="segment.imported", subject=f"segment:{code}"[:100],
                 before={"members": before},
                 after={"members": result.members, "added": result.added,
                        "removed": result.removed})

    try:
        bo.db.write(write, await _csv(form.get("file")))
    except SegmentError as error:
        if error.code == "SEGMENT_NOT_FOUND":
            return not_found(page)
        return _shown(bo, page, who, code, status=400, error=error)
    return page.redirect(f"/console/segments/{code}?done=imported")


async def refresh(bo: Backoffice, request: Request) -> Response:
    """Re-evaluate one rule segment now, rather than at the nightly job."""
    who, page = staff(bo, request, OPERATORS, SegmentPage)
    await bo.form(request, page)
    code = request.path_params["code"]

    def write(conn: Connection) -> bool:
        try:
            before = store.get(conn, code)
        except SegmentError:
            return False
        if before.kind != "rule":
            return False
        size = store.refresh_rules(conn, bo.clock(), only=code)[code]
        bo.audit(conn, request, who, action="segment.refreshed", subject=f"segment:{code}"[:100],
                 before={"members": before.members}, after={"members": size})
        return True

    if not bo.db.write(write):
        return not_found(page)  # no rule segment by that code: nothing to refresh
    return page.redirect(f"/console/segments/{code}?done=refreshed")
