"""Taking back what a partner booked: reversing an earn (a refund of the purchase that earned the
points) and reversing a redemption (points a partner took as payment, given back).

Both are one shape: the partner's own original entry, the points left to reverse
(`rules.left_to_reverse`), a reversing entry that points at it, then what the points do in the
member's lots, which is where the two differ (`_claw_back`, `_give_back`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from network.db.engine import Database
from network.db.schema import consumptions, journal_entries, postings
from network.ledger import accounts, balances, journal, lots, rules
from network.ledger.accounts import AccountKind
from network.ledger.errors import EntryNotFound
from network.ledger.idempotent import run
from network.ledger.receipts import Receipt, check_points, check_reference


def reverse_earn(db: Database, *, scope: str, idempotency_key: str, partner_id: int,
                 entry_id: int, points: int | None = None, reference: str | None = None,
                 now: datetime | None = None) -> Receipt:
    """Claw back an earn, fully or partly.

    Points come first from the earn's own lot, then from the member's other spendable lots
    (earliest expiry first, recorded as `clawback` consumptions owed to this partner). What is
    still missing becomes a debt lot: this is the only way a member's balance can go negative,
    and later credits repay it first.
    """
    return _reverse(db, scope=scope, key=idempotency_key, partner_id=partner_id,
                    entry_id=entry_id, points=points, reference=reference, now=now,
                    kind="reverse_earn", originals=("earn",), noun="earn", verb="reverse",
                    account=AccountKind.ISSUANCE, to_member=-1, book=_claw_back)


def reverse_redemption(db: Database, *, scope: str, idempotency_key: str, partner_id: int,
                       entry_id: int, points: int | None = None, reference: str | None = None,
                       now: datetime | None = None) -> Receipt:
    """Give back points a partner took (a redeem or a capture), fully or partly.

    The points return to the very lots they came from, so they keep their issuer and expiry;
    the last consumed come back first. Each is a negative consumption row, which settlement
    reads as an adjustment in the period it is booked.
    """
    return _reverse(db, scope=scope, key=idempotency_key, partner_id=partner_id,
                    entry_id=entry_id, points=points, reference=reference, now=now,
                    kind="reverse_redemption", originals=("redeem", "capture"),
                    noun="redemption", verb="give back", account=AccountKind.REDEMPTION,
                    to_member=1, book=_give_back)


# What a reversal does in the member's lots once its entry is booked: (conn, original entry, the
# member's locked balance row, the new entry's id, amount, at) -> the debt it opens.
Book = Callable[[Connection, Any, balances.BalanceRow, int, int, datetime], int]


def _reverse(db: Database, *, scope: str, key: str, partner_id: int, entry_id: int,
             points: int | None, reference: str | None, now: datetime | None, kind: str,
             originals: tuple[str, ...], noun: str, verb: str, account: AccountKind,
             to_member: int, book: Book) -> Receipt:
    """`account` is the partner's account the original posted to; `to_member` is the sign of
    what the reversal moves to the member's wallet (-1: points taken back, 1: given back)."""
    if points is not None:
        check_points(points)
    check_reference(reference)
    params = {"partner": partner_id, "entry": entry_id, "points": points, "reference": reference}

    def body(conn: Connection, at: datetime) -> Receipt:
        return _reverse_in(conn, at, partner_id=partner_id, entry_id=entry_id, points=points,
                           reference=reference, kind=kind, originals=originals, noun=noun,
                           verb=verb, account=account, to_member=to_member, book=book)

    return run(db, scope=scope, key=key, operation=kind, params=params, body=body, now=now)


def give_back_reward_in(conn: Connection, at: datetime, *, partner_id: int, entry_id: int,
                        reference: str | None = None) -> Receipt:
    """All of a reward purchase's points back to the lots they came from (a refunded or an
    expired unused coupon), inside the caller's transaction, which also marks the coupon: the
    same give-back as `reverse_redemption`, for the `reward` entries it does not take (a
    partner's reverseRedemption must not give back a coupon that stays valid)."""
    return _reverse_in(conn, at, partner_id=partner_id, entry_id=entry_id, points=None,
                       reference=reference, kind="reverse_redemption", originals=("reward",),
                       noun="reward purchase", verb="give back",
                       account=AccountKind.REDEMPTION, to_member=1, book=_give_back)


def _reverse_in(conn: Connection, at: datetime, *, partner_id: int, entry_id: int,
                points: int | None, reference: str | None, kind: str,
                originals: tuple[str, ...], noun: str, verb: str, account: AccountKind,
                to_member: int, book: Book) -> Receipt:
    original = load_original(conn, entry_id, partner_id, originals, noun)
    member_id = original.member_id
    if kind == "reverse_earn":  # unused rewards a campaign issued with it go back first
        from network.programme import awards  # imported here: see below

        awards.before_reversal(conn, at, original)
    locked = balances.lock(conn, member_id)
    amount = rules.left_to_reverse(original.points, reversed_so_far(conn, entry_id, kind),
                                   points, noun=noun, verb=verb)
    moved = to_member * amount
    # Per party the original posted to (an earn the programme added to has a part per
    # funder), the share of this reversal: in proportion to what is left of each.
    shares = _shares(conn, entry_id, account, partner_id, amount)
    new_id = journal.book(  # the original's postings, turned around
        conn, kind=kind, member_id=member_id, party_id=partner_id, points=amount,
        reference=reference, reverses_entry_id=entry_id, booked_at=at,
        lines=[accounts.wallet(member_id, moved),
               *(accounts.party(account, party, -to_member * n)
                 for party, n in shares.items() if n)],
    )
    opened = book(conn, original, locked, new_id, amount, at)
    if kind == "reverse_earn":  # campaign points go back with it, budget given back
        # Imported here: the programme's store imports the ledger package, whose
        # __init__ imports this module, so a module-level import would be a circle.
        from network.programme import awards

        awards.reverse(conn, original_id=entry_id, entry_id=new_id, member_id=member_id,
                       shares=shares, at=at)
    row = balances.move(conn, member_id, at, balance=moved, debt=opened)
    return Receipt(entry_id=new_id, kind=kind, member_id=member_id, points=amount,
                   booked_at=rules.iso(at), balance=row.balance, held=row.held,
                   debt=row.debt)


def _claw_back(conn: Connection, original: Any, locked: balances.BalanceRow, new_id: int,
               amount: int, at: datetime) -> int:
    """Per issuing party of the earn (the partner, and any campaign's or tier's funder), its
    share: from the earn's own lot of that party first, the member's other spendable lots next
    (owed to that party), the rest as debt owed to it."""
    member_id = original.member_id
    own_lots = {lot.issuer_party_id: lot for lot in lots.of_entry(conn, original.id)}
    shares = _shares(conn, original.id, AccountKind.ISSUANCE, original.party_id, amount,
                     exclude=new_id)
    own_ids = {lot.id for lot in own_lots.values()}
    others = [lot for lot in lots.spendable(conn, member_id, at) if lot.id not in own_ids]
    debt = 0
    for party, share in shares.items():
        if not share:
            continue
        plan = rules.plan_clawback(own_lots[party], others, share)
        for takes, consumption in ((plan.from_own, "reversal"), (plan.from_others, "clawback")):
            if takes:
                lots.take(conn, takes, member_id=member_id)
                lots.consume(conn, entry_id=new_id, member_id=member_id, takes=takes,
                             kind=consumption, sink_party_id=party, booked_at=at)
        for take in plan.from_others:  # the next party's share sees what is left of them
            take.lot.remaining -= take.points
        if plan.debt:
            lots.create(conn, member_id=member_id, entry_id=new_id, issuer_party_id=party,
                        points=-plan.debt, vests_at=at, expires_at=None, now=at)
        debt += plan.debt
    return debt


def _shares(conn: Connection, entry_id: int, account: AccountKind, partner_id: int,
            amount: int, exclude: int | None = None) -> dict[int, int]:
    """The reversal's points per party the original posted `account` to, in proportion to what
    is left of each after earlier reversals (`rules.split_by`). One party (every redemption,
    every plain earn) takes it all without a query's worth of arithmetic."""
    p, j = postings.c, journal_entries.c
    rows = conn.execute(
        select(p.party_id, func.sum(p.points))
        .select_from(postings.join(journal_entries, j.id == p.entry_id))
        .where(p.account_kind == account.value,
               (j.id == entry_id) | (j.reverses_entry_id == entry_id),
               *((j.id != exclude,) if exclude is not None else ()))
        .group_by(p.party_id).order_by(p.party_id)).all()
    # The original posted -n to issuance (+n to redemption); reversals the opposite.
    left = {party: abs(int(total)) for party, total in rows}
    if len(left) <= 1:
        return {partner_id: amount}
    ordered = [partner_id, *sorted(party for party in left if party != partner_id)]
    return dict(zip(ordered, rules.split_by(amount, [left.get(party, 0) for party in ordered]),
                    strict=True))


def _give_back(conn: Connection, original: Any, locked: balances.BalanceRow, new_id: int,
               amount: int, at: datetime) -> int:
    """Back into the lots the redemption took from, last taken first; a member in debt has it
    repaid from them, as from any credit (`repay_debts` writes the lower debt). Opens none."""
    member_id, partner_id = original.member_id, original.party_id
    undone = (
        select(consumptions.c.reversal_of_id, func.sum(-consumptions.c.points).label("n"))
        .where(consumptions.c.reversal_of_id.is_not(None))
        .group_by(consumptions.c.reversal_of_id).subquery()
    )
    consumed = conn.execute(
        select(consumptions.c.id, consumptions.c.lot_id, consumptions.c.issuer_party_id,
               consumptions.c.points - func.coalesce(undone.c.n, 0))
        .outerjoin(undone, undone.c.reversal_of_id == consumptions.c.id)
        # By member and entry: ix_consumptions_member serves it (there is no entry-only index).
        .where(consumptions.c.member_id == member_id, consumptions.c.entry_id == original.id,
               consumptions.c.kind == "redemption",
               consumptions.c.points > 0)
        .order_by(consumptions.c.id.desc())
    ).all()
    plan = rules.plan_give_back(consumed, amount)
    lots.give_back(conn, [(g.lot_id, g.points) for g in plan], member_id=member_id)
    conn.execute(consumptions.insert(), [
        {"entry_id": new_id, "member_id": member_id, "lot_id": g.lot_id,
         "issuer_party_id": g.issuer_party_id, "kind": "redemption",
         "sink_party_id": partner_id, "points": -g.points, "reversal_of_id": g.consumption_id,
         "debt_lot_id": None, "booked_at": at}
        for g in plan])
    if locked.debt:
        restored = [rules.Lot(g.lot_id, g.issuer_party_id, g.points, at, None) for g in plan]
        lots.repay_debts(conn, member_id=member_id, entry_id=new_id, credits=restored, now=at)
    return 0


def reversed_so_far(conn: Connection, entry_id: int, kind: str) -> int:
    # int(): PostgreSQL's SUM over bigint is numeric, and points are never Decimals.
    return int(conn.execute(
        select(func.coalesce(func.sum(journal_entries.c.points), 0))
        .where(journal_entries.c.reverses_entry_id == entry_id, journal_entries.c.kind == kind)
    ).scalar_one())


def load_original(conn: Connection, entry_id: int, partner_id: int, kinds: tuple[str, ...],
                  noun: str) -> Any:
    """The entry to reverse, only if it is the caller's: another partner's looks like no entry."""
    original = conn.execute(select(journal_entries).where(journal_entries.c.id == entry_id)).first()
    if original is None or original.party_id != partner_id or original.kind not in kinds:
        raise EntryNotFound(f"no {noun} with this id for this partner", field="entryId")
    return original
