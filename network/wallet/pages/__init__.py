"""The member's web pages: server-rendered, English and Persian, working without JavaScript
(one small same-origin script only reports the browser's time zone, network/web/static/zone.js).

`routes(site)` is what the composition root mounts (infra/app.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from network.wallet.pages import (
    account_pages,
    donate_pages,
    gift_pages,
    join_pages,
    lottery_pages,
    preferences_pages,
    privacy_pages,
    profile_pages,
    reward_pages,
    signin_pages,
    wallet_pages,
)
from network.wallet.pages.site import PageExit, Site
from network.web import assets

Handler = Callable[[Site, Request], Awaitable[Response]]


def _bind(site: Site, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(site, request)
        except PageExit as exit_:
            return exit_.response

    endpoint.__name__ = handler.__name__
    return endpoint


async def _home(request: Request) -> Response:
    return RedirectResponse("/wallet", status_code=303)


def routes(site: Site) -> list[BaseRoute]:
    table: list[tuple[str, Handler, str]] = [
        ("/signin", signin_pages.signin_form, "GET"),
        ("/signin", signin_pages.signin_submit, "POST"),
        ("/signin/code", signin_pages.code_form, "GET"),
        ("/signin/code", signin_pages.code_submit, "POST"),
        ("/signout", signin_pages.signout, "POST"),
        ("/lang", signin_pages.switch_language, "POST"),
        ("/wallet", wallet_pages.wallet, "GET"),
        ("/wallet/card", wallet_pages.card, "GET"),
        ("/wallet/entries/{entry_id:int}", wallet_pages.entry, "GET"),
        ("/wallet/donate", donate_pages.donate_form, "GET"),
        ("/wallet/donate", donate_pages.donate_review, "POST"),
        ("/wallet/donate/confirm", donate_pages.donate_confirm, "POST"),
        ("/wallet/lottery", lottery_pages.lotteries, "GET"),
        ("/wallet/lottery/{code}", lottery_pages.lottery_page, "GET"),
        ("/wallet/lottery/{code}/enter", lottery_pages.lottery_enter, "POST"),
        ("/wallet/gifts", gift_pages.gifts_page, "GET"),
        ("/wallet/gifts", gift_pages.gift_send, "POST"),
        ("/wallet/gifts/{gift_id:int}/{verb:str}", gift_pages.gift_answer, "POST"),
        ("/wallet/rewards", reward_pages.catalog, "GET"),
        ("/wallet/rewards/{reward_id:int}", reward_pages.reward, "GET"),
        ("/wallet/rewards/{reward_id:int}/buy", reward_pages.buy, "POST"),
        ("/wallet/rewards/{reward_id:int}/picture", reward_pages.picture, "GET"),
        ("/wallet/my-rewards", reward_pages.my_rewards, "GET"),
        ("/wallet/my-rewards/{purchase_id:int}", reward_pages.my_reward, "GET"),
        ("/wallet/contact", account_pages.contact_form, "GET"),
        ("/wallet/contact", account_pages.contact_submit, "POST"),
        ("/wallet/sessions", account_pages.sessions_list, "GET"),
        ("/wallet/sessions/{session_id:int}/revoke", account_pages.session_revoke, "POST"),
        ("/join", join_pages.join_form, "GET"),
        ("/join", join_pages.join_submit, "POST"),
        ("/join/code", join_pages.join_code_form, "GET"),
        ("/join/code", join_pages.join_code_submit, "POST"),
        ("/wallet/profile", profile_pages.profile_form, "GET"),
        ("/wallet/profile", profile_pages.profile_submit, "POST"),
        ("/wallet/privacy", privacy_pages.privacy_page, "GET"),
        ("/wallet/privacy/export.json", privacy_pages.privacy_download, "GET"),
        ("/wallet/privacy/erase", privacy_pages.erase_form, "GET"),
        ("/wallet/privacy/erase", privacy_pages.erase_submit, "POST"),
        ("/wallet/preferences", preferences_pages.preferences_form, "GET"),
        ("/wallet/preferences", preferences_pages.preferences_submit, "POST"),
        ("/unsubscribe/{token}", preferences_pages.unsubscribe_ask, "GET"),
        ("/unsubscribe/{token}", preferences_pages.unsubscribe_confirm, "POST"),
    ]
    bound: list[BaseRoute] = [Route(path, _bind(site, handler), methods=[method])
                              for path, handler, method in table]
    bound += [Route("/wallet/static/{name}", assets.static_file, methods=["GET"]),
              Route("/", _home, methods=["GET"])]
    return bound
