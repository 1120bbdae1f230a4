"""Reading the rollups for a period: what the dashboards show, for the network or one partner.

Every query here reads kpi_daily / kpi_flows only (plus the small parties, contracts and
campaigns tables), so a dashboard's cost depends on the number of days and parties, not on
members or transactions.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Connection, and_, func, select

from network.db.schema import parties
from network.programme import ladder_store
from network.programme.campaigns_schema import campaigns
from network.programme.tiers import TierDefinition
from partners import contracts
from settlement.kpis import measures
from settlement.kpis.rollup import day_bounds
from settlement.kpis.schema import NETWORK, kpi_daily, kpi_days, kpi_flows

MAX_DAYS = 732  # a period is at most two years of daily rows


@dataclass(frozen=True)
class Period:
    first: dt.date
    last: dt.date  # inclusive

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass(frozen=True)
class PartyRef:
    id: int
    code: str
    name: str
    name_fa: str | None
    kind: str


@dataclass(frozen=True)
class Liability:
    issuer: PartyRef
    points: int
    money_minor: int | None  # None: the issuer has no contract in force
    price_per_point: Decimal | None


@dataclass(frozen=True)
class CampaignResult:
    campaign_id: int
    code: str
    funder: PartyRef
    points: int
    money_minor: int | None
    active_days: int
    uplift: Decimal | None


@dataclass
class Dashboard:
    period: Period
    party: PartyRef | None  # None: the whole network
    as_of: dt.datetime | None  # when the newest day was rolled up
    new_members: int = 0
    issued: int = 0
    redeemed: int = 0
    donated: int = 0
    expired: int = 0
    redeemed_here: int = 0  # partner view: any issuer's points redeemed at this partner
    active_30: int = 0
    active_90: int = 0
    redemption_rate: Decimal | None = None
    breakage_rate: Decimal | None = None
    liability: list[Liability] = field(default_factory=list)
    tiers: list[tuple[str, int]] = field(default_factory=list)
    tier_ladder: tuple[TierDefinition, ...] = ()  # the ladder in force: order and names
    campaigns: list[CampaignResult] = field(default_factory=list)
    series: list[tuple[dt.date, int, int]] = field(default_factory=list)  # day, issued, redeemed
    matrix: dict[tuple[int, int], int] = field(default_factory=dict)  # (earn, burn) -> points
    parties: dict[int, PartyRef] = field(default_factory=dict)


def _parties(conn: Connection) -> dict[int, PartyRef]:
    return {r.id: PartyRef(r.id, r.code, r.name, r.name_fa, r.kind)
            for r in conn.execute(select(parties.c.id, parties.c.code, parties.c.name,
                                         parties.c.name_fa, parties.c.kind))}


def _price(conn: Connection, party_id: int, at: dt.datetime) -> Decimal | None:
    try:
        return contracts.in_force(conn, party_id, at).clearing_price_per_point
    except contracts.NoContract:
        return None


def dashboard(conn: Connection, period: Period, party_id: int | None, zone: str) -> Dashboard:
    """The dashboard of `period` for the network (party_id None) or one partner."""
    known = _parties(conn)
    key = NETWORK if party_id is None else party_id
    _, period_end = day_bounds(period.last, zone)
    as_of = conn.execute(select(func.max(kpi_days.c.refreshed_at))).scalar_one()
    board = Dashboard(period, known.get(party_id) if party_id is not None else None, as_of,
                      parties=known)
    d = kpi_daily
    in_period = and_(d.c.day >= period.first, d.c.day <= period.last)
    sums = dict(conn.execute(
        select(d.c.measure, func.sum(d.c.value))
        .where(in_period, d.c.party_id == key,
               d.c.measure.in_(("new_members", "issued")))
        .group_by(d.c.measure)).tuples().all())
    board.new_members = int(sums.get("new_members") or 0)
    board.issued = int(sums.get("issued") or 0)
    # Snapshots: the newest rolled-up day in the period.
    for measure in ("active_30", "active_90"):
        value = conn.execute(
            select(d.c.value).where(in_period, d.c.party_id == key, d.c.measure == measure)
            .order_by(d.c.day.desc()).limit(1)).scalar()
        setattr(board, measure, int(value or 0))
    f = kpi_flows
    f_period = and_(f.c.day >= period.first, f.c.day <= period.last)
    mine = f.c.issuer_party_id == party_id if party_id is not None else True
    by_kind = dict(conn.execute(select(f.c.kind, func.sum(f.c.points))
                                .where(f_period, mine).group_by(f.c.kind)).tuples().all())
    board.redeemed = int(by_kind.get("redemption") or 0)
    board.donated = int(by_kind.get("donation") or 0)
    board.expired = int(by_kind.get("expiry") or 0)
    if party_id is not None:
        board.redeemed_here = int(conn.execute(
            select(func.coalesce(func.sum(f.c.points), 0))
            .where(f_period, f.c.kind == "redemption", f.c.sink_party_id == party_id))
            .scalar_one())
    board.redemption_rate = measures.rate(board.redeemed, board.issued)
    board.breakage_rate = measures.breakage(board.expired, board.redeemed, board.donated)
    board.liability = _liability(conn, known, period.last, period_end, party_id)
    board.tier_ladder = ladder_store.ladder(conn)
    board.tiers = _tiers(conn, period, board.tier_ladder)
    board.campaigns = _campaigns(conn, known, period, period_end, party_id)
    board.series = _series(conn, period, key, party_id)
    matrix_filter = [f_period, f.c.kind == "redemption"]
    if party_id is not None:
        matrix_filter.append((f.c.issuer_party_id == party_id) | (f.c.sink_party_id == party_id))
    for issuer, sink, points in conn.execute(
            select(f.c.issuer_party_id, f.c.sink_party_id, func.sum(f.c.points))
            .where(*matrix_filter).group_by(f.c.issuer_party_id, f.c.sink_party_id)).tuples():
        if points:
            board.matrix[(int(issuer), int(sink))] = int(points)
    return board


def _liability(conn: Connection, known: dict[int, PartyRef], last: dt.date,
               period_end: dt.datetime, party_id: int | None) -> list[Liability]:
    """Outstanding points by issuer at the end of the period: all issued minus all consumed up
    to that day (both kept per issuer per day), valued at the issuer's clearing price then."""
    d = kpi_daily
    query = (select(d.c.party_id, d.c.measure, func.sum(d.c.value))
             .where(d.c.day <= last, d.c.party_id != NETWORK,
                    d.c.measure.in_(("issued", "consumed")))
             .group_by(d.c.party_id, d.c.measure))
    if party_id is not None:
        query = query.where(d.c.party_id == party_id)
    outstanding: dict[int, int] = defaultdict(int)
    for issuer, measure, value in conn.execute(query).tuples():
        outstanding[int(issuer)] += int(value) if measure == "issued" else -int(value)
    out = []
    for issuer, points in sorted(outstanding.items(), key=lambda kv: -kv[1]):
        if points == 0 or issuer not in known:
            continue
        price = _price(conn, issuer, period_end)
        out.append(Liability(known[issuer], points,
                             measures.money_minor(points, price) if price is not None else None,
                             price))
    return out


def _tiers(conn: Connection, period: Period, ladder: Sequence[TierDefinition]
           ) -> list[tuple[str, int]]:
    d = kpi_daily
    day = conn.execute(select(func.max(d.c.day)).where(
        d.c.day >= period.first, d.c.day <= period.last, d.c.measure.like("tier:%"))).scalar()
    if day is None:
        return []
    order = {t.code: i for i, t in enumerate(ladder)}
    rows = [(m.removeprefix("tier:"), int(v)) for m, v in conn.execute(
        select(d.c.measure, d.c.value).where(d.c.day == day, d.c.party_id == NETWORK,
                                            d.c.measure.like("tier:%"))).tuples()]
    return sorted(rows, key=lambda r: order.get(r[0], 99))


def _campaigns(conn: Connection, known: dict[int, PartyRef], period: Period,
               period_end: dt.datetime, party_id: int | None) -> list[CampaignResult]:
    d = kpi_daily
    query = (select(d.c.measure, d.c.party_id, func.sum(d.c.value), func.min(d.c.day),
                    func.max(d.c.day), func.count())
             .where(d.c.day >= period.first, d.c.day <= period.last,
                    d.c.measure.like("campaign:%"))
             .group_by(d.c.measure, d.c.party_id))
    if party_id is not None:
        query = query.where(d.c.party_id == party_id)
    found = list(conn.execute(query).tuples().all())
    if not found:
        return []
    ids = {int(m.removeprefix("campaign:")) for m, *_ in found}
    codes = dict(conn.execute(select(campaigns.c.id, campaigns.c.code)
                              .where(campaigns.c.id.in_(ids))).tuples().all())
    out = []
    for measure, funder, points, first, last, _ in found:
        campaign_id = int(measure.removeprefix("campaign:"))
        span = (last - first).days + 1
        before_first = first - dt.timedelta(days=span)
        during = _earns(conn, funder, first, last)
        before = _earns(conn, funder, before_first, first - dt.timedelta(days=1))
        price = _price(conn, int(funder), period_end)
        out.append(CampaignResult(
            campaign_id, codes.get(campaign_id, f"#{campaign_id}"), known[int(funder)],
            int(points), measures.money_minor(int(points), price) if price is not None else None,
            span, measures.uplift(during, span, before, span)))
    return sorted(out, key=lambda c: -c.points)


def _earns(conn: Connection, party_id: int, first: dt.date, last: dt.date) -> int:
    d = kpi_daily
    return int(conn.execute(select(func.coalesce(func.sum(d.c.value), 0)).where(
        d.c.day >= first, d.c.day <= last, d.c.party_id == party_id,
        d.c.measure == "earns")).scalar_one())


def _series(conn: Connection, period: Period, key: int,
            party_id: int | None) -> list[tuple[dt.date, int, int]]:
    d, f = kpi_daily, kpi_flows
    issued = dict(conn.execute(select(d.c.day, d.c.value).where(
        d.c.day >= period.first, d.c.day <= period.last, d.c.party_id == key,
        d.c.measure == "issued")).tuples().all())
    flows = (select(f.c.day, func.sum(f.c.points))
             .where(f.c.day >= period.first, f.c.day <= period.last, f.c.kind == "redemption")
             .group_by(f.c.day))
    if party_id is not None:
        flows = flows.where(f.c.issuer_party_id == party_id)
    redeemed = dict(conn.execute(flows).tuples().all())
    return [(day, int(issued.get(day, 0)), int(redeemed.get(day, 0)))
            for day in (period.first + dt.timedelta(days=i) for i in range(period.days))]
