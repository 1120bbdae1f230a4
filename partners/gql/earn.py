"""awardPoints and awardPointsBatch: points for purchases, computed from the contract."""

from __future__ import annotations

import logging
from typing import Any

import graphene

from network.cards import normalize
from network.db.engine import Database
from network.errors import HubError
from network.ledger.errors import (
    AmountEarnsNothing,
    AmountTooLarge,
    BatchEmpty,
    BatchTooLarge,
    CurrencyMismatch,
    InvalidAmount,
    InvalidCurrency,
    InvalidInput,
    LedgerError,
)
from network.member_ids import ByCard
from network.programme.facts import CHANNELS, BasketLine
from partners.earning import AwardLine, award_batch, award_points, check_batch_size
from partners.gql.app_caches import AppCaches, app_caches
from partners.gql.mutation_support import (
    IDEMPOTENCY_FIELD,
    MEMBER_INPUT,
    SENT_AS,
    Call,
    PartnerMutation,
    partner_errors,
)
from partners.gql.payloads import TransactionPayload, transaction_from_receipt, transaction_payload
from partners.gql.refs import (
    CARD_NUMBER_DOC,
    MEMBER_ID_DOC,
    cached_member_id,
    card_holder,
    member_ids_for,
    member_or_card,
)
from partners.gql.types import PartnerTransaction
from partners.scopes import EARN
from partners.terms import ExplicitPointsNotAllowed, NoContract

log = logging.getLogger("pointsnet.graphql")


MAX_BASKET = 200


class BasketLineInput(graphene.InputObjectType):
    sku = graphene.String(required=True, description="Your product code, 1 to 64 characters.")
    category = graphene.String(required=True, description="The network's category (coffee, "
                                                          "pastry, groceries, …).")
    quantity = graphene.Int(description="How many; 1 by default.")
    amount = graphene.Int(required=True, description="The line's total in minor units.")


class AwardPointsInput(graphene.InputObjectType):
    member_id = graphene.ID(description=MEMBER_ID_DOC)
    card_number = graphene.String(description=CARD_NUMBER_DOC)
    amount = graphene.Int(required=True, description="Purchase amount in minor units of the "
                                                     "currency (cents for EUR), greater than 0.")
    currency = graphene.String(required=True, description="ISO 4217 code; must be the network's "
                                                          "currency (PartnerContract.currency).")
    points = graphene.Int(description="Explicit points (1 to 1,000,000,000), only where your "
                                      "contract allows it; amount is still required.")
    reference = graphene.String(description="Your receipt or order number, at most 200 "
                                            "characters.")
    channel = graphene.String(description="Where the purchase was made: in_store (the default), "
                                          "online, app or phone. Campaigns may ask for one.")
    basket = graphene.List(graphene.NonNull(BasketLineInput),
                           description=f"Optional lines of the purchase (at most {MAX_BASKET}), "
                                       "for campaigns on categories or products.")


def _award_line(data: dict[str, Any], member_id: int | ByCard) -> AwardLine:
    return AwardLine(member_id=member_id, amount_minor=data["amount"],
                     currency=data["currency"], points=data.get("points"),
                     reference=data.get("reference"), channel=_channel(data),
                     basket=_basket(data))


def _channel(data: dict[str, Any]) -> str:
    channel = data.get("channel") or "in_store"
    if channel not in CHANNELS:
        raise InvalidInput(f"channel must be one of {', '.join(sorted(CHANNELS))}, got "
                           f"{channel!r}", field="channel")
    return channel


def _basket(data: dict[str, Any]) -> tuple[BasketLine, ...]:
    """The basket as the programme reads it; a bad line is named (`basket.2.amount`)."""
    lines = data.get("basket") or []
    if len(lines) > MAX_BASKET:
        raise InvalidInput(f"a basket has at most {MAX_BASKET} lines, got {len(lines)}",
                           field="basket")
    basket = []
    for index, line in enumerate(lines):
        field = f"basket.{index}"
        for key in ("sku", "category"):
            if not 1 <= len(line[key]) <= 64:
                raise InvalidInput(f"{field}.{key} is 1 to 64 characters", field=f"{field}.{key}")
        quantity = line.get("quantity", 1)
        if quantity is None or quantity < 1:
            raise InvalidInput(f"{field}.quantity must be 1 or more", field=f"{field}.quantity")
        if line["amount"] < 0:
            raise InvalidInput(f"{field}.amount is the line's total in minor units, 0 or more",
                               field=f"{field}.amount")
        basket.append(BasketLine(line["sku"], line["category"], quantity, line["amount"]))
    if basket and sum(line.amount_minor for line in basket) > data["amount"]:
        raise InvalidInput("the basket's lines add up to more than amount", field="basket")
    return tuple(basket)


def _transaction(receipt: Any, line: AwardLine) -> PartnerTransaction:
    return transaction_from_receipt(receipt, reference=line.reference, amount=line.amount_minor,
                                    currency=line.currency)


# What one purchase may be refused for, alone or as a line of a batch.
AWARD_LINE = (*MEMBER_INPUT, InvalidAmount, AmountTooLarge, AmountEarnsNothing, InvalidCurrency,
              CurrencyMismatch, ExplicitPointsNotAllowed, NoContract, InvalidInput)


class AwardPoints(PartnerMutation):
    class Arguments:
        input = AwardPointsInput(required=True)

    errors = partner_errors("AwardPoints", *AWARD_LINE)
    Output = transaction_payload(errors)
    scope = EARN

    @classmethod
    def execute(cls, call: Call, input: dict[str, Any]) -> TransactionPayload:
        caches, db = app_caches(call.ctx), call.ctx.db
        party_id, now = call.partner.party_id, call.ctx.now
        # A card not in the cache is looked up by the earn's own statement where it can be.
        member = member_or_card(input, caches)
        try:
            line = _award_line(input, member)
            receipt = award_points(
                db, partner_id=party_id, line=line,
                network_currency=call.ctx.settings.currency, scope=call.scope,
                idempotency_key=call.idempotency_key, now=now,
                terms=caches.terms.fresh(party_id, now), load_terms=caches.terms.in_force,
                timezone=call.ctx.settings.timezone, claim=call.ctx.deferred,
                holder=lambda card: card_holder(db, card, caches),
            )
        except LedgerError:
            # An unknown card is the refusal named first, as when the card was looked up
            # before anything else (a read on the refusal's path only).
            if isinstance(member, ByCard):
                card_holder(db, member, caches)
            raise
        if isinstance(line.member_id, ByCard):
            caches.cards.put(line.member_id.number, receipt.member_id)
        return cls._meta.output.of(receipt, _transaction(receipt, line))


class AwardPointsBatchInput(graphene.InputObjectType):
    lines = graphene.List(graphene.NonNull(AwardPointsInput), required=True,
                          description="1 to 1,000 purchases; each gets its own result.")


BATCH_ERRORS = partner_errors("AwardPointsBatch", BatchEmpty, BatchTooLarge, *AWARD_LINE)


class AwardLineResult(graphene.ObjectType):
    """The outcome of one line of awardPointsBatch."""

    index = graphene.Int(required=True, description="Position of the line in the input, from 0.")
    transaction = graphene.Field(PartnerTransaction,
                                 description="The earn booked for this line; null if refused.")
    balance_after = graphene.Int(description="The member's points after this line's earn "
                                             "(spendable + pending - debt, outside holds).")
    user_errors = BATCH_ERRORS.field(
        "Why this line was refused (fields named like lines.3.amount); empty if it was booked.")


class AwardPointsBatchPayload(graphene.ObjectType):
    """What awardPointsBatch answers: a result per line, in input order."""

    results = graphene.List(graphene.NonNull(AwardLineResult), required=True,
                            description="One per input line; empty when the whole batch is "
                                        "refused.")
    accepted = graphene.Int(required=True, description="Lines booked (or replayed as booked).")
    rejected = graphene.Int(required=True, description="Lines refused; see their userErrors.")
    user_errors = BATCH_ERRORS.field(
        "Refusals of the whole batch (e.g. BATCH_EMPTY, BATCH_TOO_LARGE, IDEMPOTENCY_KEY_REUSED, "
        "NO_CONTRACT); nothing was booked.")


def _line_errors(index: int, error: LedgerError) -> list[Any]:
    """A line's input fields are named within it (`lines.3.amount`); the one header all lines
    share is named as sent."""
    if not BATCH_ERRORS.declares(error):
        # Other lines may be booked already, so this line cannot propagate as run_mutation
        # would: it keeps its code in the message, under the catch-all code (and is logged).
        log.error("AwardPointsBatch line refused with %s, which it does not declare",
                  error.code, extra={"undeclared_code": error.code})
        error = InvalidInput(f"{error.code}: {error.message}", field=error.field)
    field = SENT_AS.get(error.field or "", error.field)
    if field == IDEMPOTENCY_FIELD:
        return BATCH_ERRORS.of(error, field)
    prefix = f"lines.{index}."
    field = field or ""
    field = field if field.startswith(prefix) else prefix + field if field else prefix.rstrip(".")
    return BATCH_ERRORS.of(error, field)


def _resolve_lines(db: Database, lines: list[dict[str, Any]],
                   caches: AppCaches) -> list[AwardLine | LedgerError]:
    """Member ids from the card cache where it knows them; one query for the rest."""
    prefixes = [f"lines.{index}." for index in range(len(lines))]
    members: list[int | LedgerError | None] = []
    for data in lines:
        try:
            members.append(cached_member_id(data, caches))
        except LedgerError:
            members.append(None)  # member_ids_for names the error with the line's prefix
    missing = [index for index, found in enumerate(members) if found is None]
    if missing:
        looked_up = db.read(member_ids_for,
                            [(lines[i].get("member_id"), lines[i].get("card_number"))
                             for i in missing], [prefixes[i] for i in missing])
        for index, found in zip(missing, looked_up, strict=True):
            members[index] = found
            card = lines[index].get("card_number")
            if card is not None and not isinstance(found, LedgerError):
                caches.cards.put(normalize(card), found)
    def line(data: dict[str, Any], found: int | LedgerError) -> AwardLine | LedgerError:
        if isinstance(found, LedgerError):
            return found
        try:
            return _award_line(data, found)
        except InvalidInput as refusal:
            return refusal

    return [line(data, found)  # type: ignore[arg-type]
            for data, found in zip(lines, members, strict=True)]


class AwardPointsBatch(PartnerMutation):
    class Arguments:
        input = AwardPointsBatchInput(required=True)

    errors = BATCH_ERRORS
    Output = AwardPointsBatchPayload
    scope = EARN

    @classmethod
    def execute(cls, call: Call, input: dict[str, Any]) -> AwardPointsBatchPayload:
        raw_lines = input["lines"]
        check_batch_size(len(raw_lines))
        lines = _resolve_lines(call.ctx.db, raw_lines, app_caches(call.ctx))
        outcome = award_batch(
            call.ctx.db, partner_id=call.partner.party_id, lines=lines,
            network_currency=call.ctx.settings.currency, scope=call.scope,
            idempotency_key=call.idempotency_key, now=call.ctx.now,
            timezone=call.ctx.settings.timezone,
        )
        results = []
        for item in outcome:
            line = lines[item.index]
            if item.receipt is not None and isinstance(line, AwardLine):
                results.append(AwardLineResult(
                    index=item.index, transaction=_transaction(item.receipt, line),
                    balance_after=item.receipt.balance, user_errors=[]))
            else:
                assert item.error is not None
                results.append(AwardLineResult(
                    index=item.index, user_errors=_line_errors(item.index, item.error)))
        accepted = sum(1 for r in results if r.transaction is not None)
        return AwardPointsBatchPayload(results=results, accepted=accepted,
                                       rejected=len(results) - accepted, user_errors=[])

    @classmethod
    def refused(cls, info: graphene.ResolveInfo, input: Any,
                error: HubError) -> dict[str, Any]:
        return {"results": [], "accepted": 0, "rejected": 0}
