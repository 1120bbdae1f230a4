"""The console's routes; the composition root mounts them beside the back office's sign-in."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from network.backoffice.roles import ANY_STAFF, MEMBER_READERS
from network.backoffice.site import Backoffice, bind
from network.console import (
    account_pages,
    audit_pages,
    campaign_pages,
    goodwill_pages,
    member_pages,
    programme_pages,
    reward_editor,
    reward_pages,
    segment_pages,
    tier_pages,
)


async def home(bo: Backoffice, request: Request) -> Response:
    """Each role's first page: members for those who read them, else the first nav entry."""
    who, page = member_pages.staff(bo, request, ANY_STAFF)
    if who.role in MEMBER_READERS:
        return page.redirect("/console/members")
    first = page.values()["nav"]
    return page.redirect(first[0].path) if first else page.render(
        "console_home.html")


def routes(bo: Backoffice) -> list[BaseRoute]:
    table = [
        ("/console", home, "GET"),
        ("/console/members", member_pages.search, "GET"),
        ("/console/members/{member_id:int}", member_pages.member, "GET"),
        ("/console/members/{member_id:int}/block", member_pages.block, "POST"),
        ("/console/members/{member_id:int}/unblock", member_pages.unblock, "POST"),
        ("/console/members/{member_id:int}/card", member_pages.replace_card, "POST"),
        ("/console/members/{member_id:int}/goodwill", member_pages.give_goodwill, "POST"),
        ("/console/members/{member_id:int}/merge", member_pages.merge, "POST"),
        ("/console/goodwill", goodwill_pages.waiting, "GET"),
        ("/console/goodwill/{goodwill_id:int}/approve", goodwill_pages.approve, "POST"),
        ("/console/goodwill/{goodwill_id:int}/reject", goodwill_pages.reject, "POST"),
        ("/console/audit", audit_pages.audit_log, "GET"),
        ("/console/audit.csv", audit_pages.audit_csv, "GET"),
        ("/console/campaigns", programme_pages.campaigns, "GET"),
        ("/console/campaigns/new", campaign_pages.new, "GET"),
        ("/console/campaigns/new", campaign_pages.save, "POST"),
        ("/console/campaigns/{code}/edit", campaign_pages.edit, "GET"),
        ("/console/campaigns/{code}/edit", campaign_pages.save, "POST"),  # before the actions
        ("/console/campaigns/{code}/{action}", programme_pages.campaign_action, "POST"),
        ("/console/charities", programme_pages.charities, "GET"),
        ("/console/charities", programme_pages.charity_save, "POST"),
        ("/console/charities/{code}", programme_pages.charity_save, "POST"),
        ("/console/rewards", reward_pages.rewards, "GET"),
        ("/console/tiers", tier_pages.ladder_page, "GET"),
        ("/console/tiers", tier_pages.save, "POST"),
        ("/console/segments", segment_pages.listing, "GET"),
        ("/console/segments", segment_pages.create, "POST"),
        ("/console/segments/{code}", segment_pages.segment, "GET"),
        ("/console/segments/{code}/import", segment_pages.import_list, "POST"),
        ("/console/segments/{code}/refresh", segment_pages.refresh, "POST"),
        ("/console/rewards/{reward_id:int}/status", reward_pages.reward_status, "POST"),
        ("/console/rewards/new", reward_editor.new_form, "GET"),
        ("/console/rewards/new", reward_editor.create, "POST"),
        ("/console/rewards/{reward_id:int}", reward_editor.edit_form, "GET"),
        ("/console/rewards/{reward_id:int}", reward_editor.save, "POST"),
        ("/console/rewards/{reward_id:int}/codes", reward_editor.upload_codes, "POST"),
        ("/console/rewards/{reward_id:int}/image", reward_editor.picture, "GET"),
        ("/console/accounts", account_pages.listing, "GET"),
        ("/console/accounts", account_pages.create, "POST"),
        ("/console/accounts/{account_id:int}/role", account_pages.set_role, "POST"),
        ("/console/accounts/{account_id:int}/reset", account_pages.reset, "POST"),
        ("/console/accounts/{account_id:int}/{action}", account_pages.switch, "POST"),
    ]
    return [Route(path, bind(bo, handler), methods=[method]) for path, handler, method in table]
