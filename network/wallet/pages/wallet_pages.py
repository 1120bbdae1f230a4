"""/wallet (the page a member comes for), /wallet/card (the card alone, full screen, for the
till) and /wallet/entries/{id} (where reversal links lead)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from network import cards, members, referrals
from network.wallet import history, reads, view
from network.wallet.errors import WalletError
from network.wallet.pages.site import Site
from network.wallet.qr import card_svg
from network.wallet.worth import worth
from network.web.rendering import Page

NOTICES = {"contact": "notice_contact_saved", "revoked": "notice_session_revoked",
           "joined": "notice_joined", "already_member": "notice_already_member",
           "profile": "notice_profile_saved", "profile_completed": "notice_profile_completed"}


def not_found(page: Page, status: int = 404) -> Response:
    """Nothing here for this member. Also the app's answer to a browser asking for a URL nobody
    serves (404) or with a method it does not take (405): a member cannot act on the difference."""
    words = page.locale
    return page.render("error.html", status=status, title=words.t("not_found_title"),
                       message=words.t("not_found_message"))


def _notice(site: Site, page: Page, member_id: int, request: Request) -> str | None:
    done = request.query_params.get("done")
    if done in NOTICES:
        return page.locale.t(NOTICES[done])
    donated = request.query_params.get("donated", "")
    if donated.isdigit() and donated.isascii():
        # Worded from the member's own ledger entry, not from the URL, so a link cannot fake it.
        entry = site.db.read(history.entry, member_id, int(donated))
        if entry is not None and entry.kind == "donate" and entry.party is not None:
            return page.locale.t("notice_donated", points=entry.points,
                                 charity=entry.party.display(page.locale.language))
    return None


async def wallet(site: Site, request: Request) -> Response:
    session, page = site.member(request)
    cursor = request.query_params.get("after")
    try:
        after = history.decode_cursor(cursor) if cursor else None
    except WalletError:
        return page.redirect("/wallet")
    # Back from the member's own action (a donation, a saved contact): read the primary, so the
    # page shows it; otherwise the read model may come from a fresh replica.
    own_write = "done" in request.query_params or "donated" in request.query_params
    loaded = reads.snapshot(site.db if own_write else site.reads, view.load,
                            session.member_id, site.settings.secret_key, site.clock(), first=20,
                            after=after)
    if loaded is None:
        return not_found(page)
    card = loaded.member.card_number
    settings = site.settings
    return page.render(
        "wallet.html", view=loaded, cursor=cursor,
        worth=worth(loaded.balance.spendable, settings.point_value, settings.currency),
        point_value=page.locale.money(settings.point_value, settings.currency),
        qr_svg=card_svg(card, page.locale.t("card_title")),
        card_number_display=cards.grouped(card),
        referral_code=loaded.member.referral_code,
        referral_link=referrals.link(settings.base_url, loaded.member.referral_code),
        notice=_notice(site, page, session.member_id, request),
    )


async def card(site: Site, request: Request) -> Response:
    session, page = site.member(request)
    member = site.reads.read(members.get, session.member_id, site.settings.secret_key)
    if member is None:
        return not_found(page)
    number = member.card_number
    return page.render("card.html", qr_svg=card_svg(number, page.locale.t("card_title")),
                       card_number_display=cards.grouped(number))


async def entry(site: Site, request: Request) -> Response:
    session, page = site.member(request)
    found = site.reads.read(history.entry, session.member_id, request.path_params["entry_id"])
    if found is None:
        return not_found(page)
    return page.render("entry.html", e=found)
