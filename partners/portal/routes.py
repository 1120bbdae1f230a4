"""The partner portal's routes; the composition root mounts them beside the back office's."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from network.backoffice.site import Backoffice, bind
from partners.portal import pages


def routes(bo: Backoffice) -> list[BaseRoute]:
    table = [
        ("/partner", pages.home, "GET"),
        ("/partner/transactions", pages.transactions, "GET"),
        ("/partner/transactions.csv", pages.transactions_csv, "GET"),
        ("/partner/members", pages.enrolled_members, "GET"),
        ("/partner/campaigns", pages.partner_campaigns, "GET"),
        ("/partner/keys", pages.partner_keys, "GET"),
        ("/partner/keys/{key_id}/revoke", pages.revoke_key, "POST"),
    ]
    return [Route(path, bind(bo, handler), methods=[method]) for path, handler, method in table]
