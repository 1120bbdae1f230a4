"""A member's buyReward on the persisted operations' lean path: the documented text
(graphql/operations/member/BuyReward.graphql, sent with the member's bearer session) answered
from the mutation's own payload, each leaf serialized by the schema as graphql-core serializes
it (infra/persisted_operations.py says when the general path answers instead).

The builder follows the document's selection set field for field; a change to either needs the
same change here (tests/partners/test_persisted_operations.py compares the answers)."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLSchema

from infra.field_execution import leaves
from infra.lean_earns import Answer, user_errors_of
from infra.persisted_operations import LeanOperation
from network.auth import MemberPrincipal
from network.gql.context import RequestContext
from network.gql.rewards import BuyReward


def buy_reward(schema: GraphQLSchema) -> Answer:
    """`buyReward { reward {…} userErrors {…} }` of BuyReward.graphql."""
    reward = leaves(schema, "MemberReward", "id", "rewardId", "name", "points", "status", "code",
                    "codeQrSvg", "boughtAt", "expiresAt")
    user_errors = user_errors_of(schema, "BuyRewardError")

    def answer(payload: Any, ctx: RequestContext) -> Any:
        bought = payload.reward
        return {"reward": reward(bought) if bought is not None else None,
                "userErrors": user_errors(payload.user_errors)}

    return answer


OPERATIONS = (
    LeanOperation("member/BuyReward.graphql", BuyReward, buy_reward, MemberPrincipal),
)
