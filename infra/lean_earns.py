"""awardPoints and awardPointsBatch on the persisted operations' lean path: their documented
texts (graphql/operations/partner/AwardPoints*.graphql) answered from the mutations' own
payloads, each leaf serialized by the schema as graphql-core serializes it
(infra/persisted_operations.py says when the general path answers instead).

Each builder follows its document's selection set field for field; a change to either document
needs the same change here (tests/partners/test_persisted_operations.py compares the answers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphene import relay
from graphql import GraphQLSchema

from infra.field_execution import NotPlain, leaves
from infra.persisted_operations import LeanOperation
from network.gql.context import RequestContext
from partners.gql.earn import AwardPoints, AwardPointsBatch

Answer = Callable[[Any, RequestContext], Any]
BREAKDOWN_FIELDS = ("source", "campaignCode", "campaignName", "tier", "rewardName", "funderCode",
                    "points")
USER_ERROR_FIELDS = ("field", "code", "message")


def _transaction_id(transaction: Any) -> str:
    """The transaction's `id`, as graphene's Node field resolves it."""
    if transaction.id is None:
        raise NotPlain("PartnerTransaction.id")
    return relay.Node.to_global_id("PartnerTransaction", transaction.id)


def user_errors_of(schema: GraphQLSchema, type_name: str) -> Callable[[Any], list[Any]]:
    error = leaves(schema, type_name, *USER_ERROR_FIELDS)

    def answer(errors: Any) -> list[Any]:
        if errors is None:
            raise NotPlain(f"{type_name} list")
        return [error(item) for item in errors]

    return answer


def award_points(schema: GraphQLSchema) -> Answer:
    """`awardPoints { transaction {…} balanceAfter userErrors {…} }` of AwardPoints.graphql."""
    transaction = leaves(schema, "PartnerTransaction", "kind", "points", "reference", "bookedAt",
                         "purchaseAmount", "purchaseCurrency", "memberId")
    line = leaves(schema, "EarnBreakdownLine", *BREAKDOWN_FIELDS)
    payload = leaves(schema, "AwardPointsPayload", "balanceAfter")
    user_errors = user_errors_of(schema, "AwardPointsError")

    def answer(result: Any, ctx: RequestContext) -> Any:
        booked = result.transaction
        if booked is not None:
            booked = {"id": _transaction_id(booked), **transaction(booked),
                      "breakdown": [line(item) for item in booked.breakdown_lines(ctx)]}
        return {"transaction": booked, **payload(result),
                "userErrors": user_errors(result.user_errors)}

    return answer


def award_points_batch(schema: GraphQLSchema) -> Answer:
    """`awardPointsBatch { accepted rejected results {…} userErrors {…} }` of
    AwardPointsBatch.graphql."""
    counts = leaves(schema, "AwardPointsBatchPayload", "accepted", "rejected")
    index = leaves(schema, "AwardLineResult", "index")
    balance = leaves(schema, "AwardLineResult", "balanceAfter")
    points = leaves(schema, "PartnerTransaction", "points")
    line = leaves(schema, "EarnBreakdownLine", "source", "campaignCode", "funderCode", "points")
    user_errors = user_errors_of(schema, "AwardPointsBatchError")

    def explainer(ctx: RequestContext) -> Callable[[Any], list[Any]]:
        """A transaction's `breakdown` answer, for one batch. A line the programme added
        nothing to (its receipt's breakdown empty) is all base, funded by the partner: its
        answer depends on its points alone, so each distinct one is built once per batch
        (explaining each line cost about a tenth of the hub's time per line)."""
        plain: dict[tuple[Any, int], list[Any]] = {}

        def breakdown(booked: Any) -> list[Any]:
            if getattr(booked, "_breakdown", None) != ():
                return [line(part) for part in booked.breakdown_lines(ctx)]
            key = (booked.kind, booked.points)
            found = plain.get(key)
            if found is None:
                found = plain[key] = [line(part) for part in booked.breakdown_lines(ctx)]
            return found

        return breakdown

    def result(item: Any, breakdown: Callable[[Any], list[Any]]) -> dict[str, Any]:
        booked = item.transaction
        if booked is not None:
            booked = {"id": _transaction_id(booked), **points(booked),
                      "breakdown": breakdown(booked)}
        return {**index(item), "transaction": booked, **balance(item),
                "userErrors": user_errors(item.user_errors)}

    def answer(payload: Any, ctx: RequestContext) -> Any:
        if payload.results is None:
            raise NotPlain("AwardPointsBatchPayload.results")
        breakdown = explainer(ctx)
        return {**counts(payload),
                "results": [result(item, breakdown) for item in payload.results],
                "userErrors": user_errors(payload.user_errors)}

    return answer


OPERATIONS = (
    LeanOperation("partner/AwardPoints.graphql", AwardPoints, award_points, claims_nonce=True),
    LeanOperation("partner/AwardPointsBatch.graphql", AwardPointsBatch, award_points_batch),
)
