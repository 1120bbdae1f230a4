"""The settlement use cases: preview (draft, recomputable) and close (frozen, idempotent).

Both read the period's inputs from the ledger and compute with the pure domain. Preview
overwrites a draft; on a closed period it recomputes only to *verify* that the frozen hash is
still what the ledger gives (it writes nothing). Close freezes the run once; closing again
returns the frozen run untouched. A period can only be closed once it is over (plus a grace
period for transactions that were in flight at midnight), so nothing can be booked into it later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from network.clock import utcnow
from network.config import Settings
from network.db.engine import Database
from network.db.read_database import ReadDatabase
from partners import webhooks
from settlement import sources, store
from settlement.computation import RunInputs, RunResult, compute
from settlement.controls import reconcile
from settlement.errors import SettlementError
from settlement.period import Period
from settlement.terms import segments_for

CLOSE_GRACE = timedelta(minutes=15)
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Outcome:
    run: store.StoredRun
    result: RunResult | None  # None when a closed run was returned as it is
    changed: bool  # did this call write anything?
    verified: bool | None = None  # preview of a closed run: does the ledger still agree?


def _noop(_: str) -> None:
    pass


def gather(conn: Connection, settings: Settings, period: Period,
           progress: Progress = _noop) -> RunResult:
    start, end = period.bounds(settings.timezone)
    terms = sources.contract_terms(conn, end)
    segments = segments_for(start, end, terms)
    progress("aggregating consumptions")
    totals = sources.consumption_totals(conn, segments)
    kinds = sources.party_kinds(conn)
    network = [pid for pid, kind in kinds.items() if kind == "network"]
    if len(network) != 1:
        raise SettlementError("NO_NETWORK_PARTY", "exactly one network party must exist")
    progress("clearing and netting")
    result = compute(RunInputs(period, settings.currency, settings.timezone, tuple(segments),
                               tuple(totals), tuple(terms), kinds, network[0]))
    progress("reconciling with the ledger")
    controls = reconcile(result.controls, sources.ledger_points(conn, start, end))
    return RunResult(result.inputs, result.lines, result.netting, controls, result.content_hash)


def preview(db: Database, settings: Settings, period_text: str, *, now: datetime | None = None,
            progress: Progress = _noop, reads: ReadDatabase | None = None) -> Outcome:
    """`reads`: where the period is computed (a fresh replica, network/db/read_database.py); a
    draft may then miss the last seconds' writes, which the next preview or the close (computed
    on the primary, under the run's lock) takes in. The draft itself is written on `db`."""
    period = Period.parse(period_text)
    now = now or utcnow()
    result = (reads or db).read(gather, settings, period, progress)

    def write(conn: Connection) -> Outcome:
        existing = store.find_run(conn, str(period), lock=True)
        if existing and not existing.is_open:
            return Outcome(existing, result, False, existing.content_hash == result.content_hash)
        progress("saving the draft")
        run_id = store.save_run(conn, result, status="draft", now=now, existing=existing)
        return Outcome(store.get_run(conn, run_id), result, True)  # type: ignore[arg-type]

    return _write_once_more_on_race(db, write)


def close(db: Database, settings: Settings, period_text: str, *, now: datetime | None = None,
          progress: Progress = _noop) -> Outcome:
    period = Period.parse(period_text)
    now = now or utcnow()
    _, end = period.bounds(settings.timezone)
    if now < end + CLOSE_GRACE:
        raise SettlementError(
            "PERIOD_NOT_OVER",
            f"{period} ends at {end.isoformat()}; it can be closed from "
            f"{(end + CLOSE_GRACE).isoformat()} (UTC)", field="period")

    def write(conn: Connection) -> Outcome:
        existing = store.find_run(conn, str(period), lock=True)
        if existing and not existing.is_open:
            return Outcome(existing, None, False)
        result = gather(conn, settings, period, progress)
        if result.controls.discrepancies:
            raise SettlementError(
                "CONTROL_TOTALS_MISMATCH",
                "settlement does not reconcile with the ledger: "
                + "; ".join(result.controls.discrepancies), field="period")
        progress("freezing the run")
        run_id = store.save_run(conn, result, status="closed", now=now, existing=existing)
        _statements_ready(conn, result, now)
        return Outcome(store.get_run(conn, run_id), result, True)  # type: ignore[arg-type]

    return _write_once_more_on_race(db, write)


def _statements_ready(conn: Connection, result: RunResult, now: datetime) -> None:
    """Each partner's webhook hears that its statement is ready, in the closing transaction:
    a close that rolls back tells nobody, and a closed run is never closed again."""
    kinds = result.inputs.party_kinds
    for position in result.netting.positions:
        if kinds.get(position.party_id) == "partner":
            webhooks.emit(conn, position.party_id, webhooks.STATEMENT_READY, {
                "period": str(result.inputs.period), "currency": result.inputs.currency,
                "receivableMinor": position.receivable_minor,
                "payableMinor": position.payable_minor, "netMinor": position.net_minor,
            }, at=now)


def _write_once_more_on_race(db: Database, fn: Callable[[Connection], Outcome]) -> Outcome:
    """Two first runs of one period race on the unique period: the loser tries again and then
    finds the winner's run (a closed one is returned as it is)."""
    try:
        return db.write(fn)
    except IntegrityError:
        return db.write(fn)


def require_run(db: Database, period_text: str) -> store.StoredRun:
    period = Period.parse(period_text)
    run = db.read(store.find_run, str(period))
    if run is None:
        raise SettlementError("NO_RUN", f"no settlement run for {period}; run preview first",
                              field="period")
    return run
