"""Simulating a draft campaign over a past month: network/programme/simulation.py's replay, with
each funder's clearing price read through partners.contracts (the one mapper from a stored
contract version). Used by `pointsnet campaigns simulate`, staff `simulateCampaign` and the
partners' `partner { simulateCampaign }` (restricted to the partner's own sales)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from network.clock import utcnow
from network.db.engine import Database
from network.db.schema import parties
from network.programme import codec, management, simulation, store
from network.programme.earn import programme_for
from network.programme.validation import validate
from partners.contracts import in_force
from partners.terms import NoContract


def clearing_prices(conn: Connection, party_ids: set[int], at: dt.datetime
                    ) -> dict[int, Decimal]:
    """Each party's clearing price per point in the contract in force at `at`; a party without
    a contract (the network has none) is left out: its points have no price to value them at."""
    prices = {}
    for party in sorted(party_ids):
        try:
            prices[party] = in_force(conn, party, at).clearing_price_per_point
        except NoContract:
            continue
    return prices


def run(db: Database, definition: Any, period: str, *, timezone: str,
        partner_id: int | None = None, now: dt.datetime | None = None
        ) -> simulation.Simulation:
    """Decode and check the draft (CampaignRefused, with every problem), then replay it over the
    month `period` (YYYY-MM or last-month; SimulationError)."""
    now = now or utcnow()
    programme = programme_for(db, timezone)
    chosen = simulation.parse_period(period, programme.zone, now)

    def read(conn: Connection) -> simulation.Simulation:
        try:
            campaign = codec.from_document(management.resolve_parties(conn, definition))
        except codec.CampaignDocumentError as error:
            raise management.CampaignRefused.of(error) from None
        problems = validate(campaign, categories=store.CATEGORIES, tiers=programme.tiers,
                            rewards=store.reward_statuses(conn, campaign),
                            draws=store.draws_open(conn, campaign))
        if problems:
            raise management.CampaignRefused(problems)
        simulation.check_simulable(campaign)
        earns, members = simulation.read_history(conn, campaign, chosen, programme, now=now,
                                                 partner_id=partner_id)
        # Priced at the contracts in force now: the draft, if launched, is billed at today's
        # terms, whatever they were during the month replayed.
        prices = clearing_prices(conn, {part.party_id for part in campaign.funder}, now)
        return simulation.simulate(campaign, earns, period=chosen, programme=programme,
                                   members=members, prices=prices,
                                   catalog=simulation.read_catalog(conn, campaign))

    return db.read(read)


def party_codes(conn: Connection, party_ids: set[int]) -> dict[int, str]:
    """Codes of the parties a simulation names (funders, honouring partners), for its report."""
    if not party_ids:
        return {}
    rows = conn.execute(select(parties.c.id, parties.c.code).where(
        parties.c.id.in_(sorted(party_ids))))
    return {party_id: code for party_id, code in rows}
