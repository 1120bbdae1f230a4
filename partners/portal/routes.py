"""The partner portal's routes; the composition root mounts them beside the back office's."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from network.backoffice.site import Backoffice, bind
from partners.portal import pages, reward_pages, till, webhook_pages


def routes(bo: Backoffice) -> list[BaseRoute]:
    table = [
        ("/partner", pages.home, "GET"),
        ("/partner/transactions", pages.transactions, "GET"),
        ("/partner/transactions.csv", pages.transactions_csv, "GET"),
        ("/partner/members", pages.enrolled_members, "GET"),
        ("/partner/campaigns", pages.partner_campaigns, "GET"),
        ("/partner/rewards", reward_pages.rewards, "GET"),
        ("/partner/keys", pages.partner_keys, "GET"),
        ("/partner/keys/{key_id}/revoke", pages.revoke_key, "POST"),
        ("/partner/till", till.till, "GET"),
        ("/partner/till/check", till.check_code, "POST"),
        ("/partner/till/use", till.use, "POST"),
        ("/partner/webhooks", webhook_pages.webhooks, "GET"),
        ("/partner/webhooks", webhook_pages.create, "POST"),
        ("/partner/webhooks/{endpoint_id:int}/rotate", webhook_pages.rotate, "POST"),
        ("/partner/webhooks/{endpoint_id:int}/edit", webhook_pages.edit, "POST"),
        ("/partner/webhooks/{endpoint_id:int}/delete", webhook_pages.delete, "POST"),
        ("/partner/webhooks/{endpoint_id:int}/{action}", webhook_pages.switch, "POST"),
        ("/partner/webhooks/deliveries/{delivery_id:int}/replay", webhook_pages.replay, "POST"),
    ]
    return [Route(path, bind(bo, handler), methods=[method]) for path, handler, method in table]
