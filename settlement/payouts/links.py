"""Linking parties to Stripe: the connected account a party is paid to (`acct_…`) and the
customer it is invoiced or charged as (`cus_…`), kept in `parties.stripe_*_id`.

Three ways, all refusing bad input with a code before anything is written:
- `link`: store ids that already exist at Stripe (ids checked for their shape only: linking
  needs no Stripe key, and a mistyped id then fails that party's payment by name);
- `create_customer`: create the party's Stripe customer and link it;
- `onboard`: create the party's Express connected account if it has none, link it, and return
  a Stripe-hosted onboarding URL (an Account Link) for the party to fill in its own details.
Stripe objects are created with keys derived from the party, so a retry after a crash between
Stripe's answer and our write gets the same object back (for Stripe's 24 hours of keys).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from network.db.engine import Database
from network.db.schema import parties
from settlement.errors import SettlementError
from settlement.payouts.gateway import PermanentStripeError, StripeGateway, TransientStripeError

# Stripe ids are a prefix and an alphanumeric tail; the columns hold 64 characters.
_ACCOUNT_ID = re.compile(r"acct_[A-Za-z0-9]{1,59}")
_CUSTOMER_ID = re.compile(r"cus_[A-Za-z0-9]{1,60}")
_URL = re.compile(r"https?://[^\s/?#]+[^\s]*")


@dataclass(frozen=True)
class PartyLink:
    party_id: int
    code: str
    name: str
    kind: str
    stripe_account_id: str | None
    stripe_customer_id: str | None


@dataclass(frozen=True)
class Onboarding:
    party: PartyLink
    created_account: bool  # False: the party's linked account got a new link
    url: str
    expires_at: datetime


def _link_of(row: Any) -> PartyLink:
    return PartyLink(row.id, row.code, row.name, row.kind, row.stripe_account_id,
                     row.stripe_customer_id)


def check_account_id(value: str) -> str:
    value = value.strip()
    if not _ACCOUNT_ID.fullmatch(value):
        raise SettlementError("BAD_STRIPE_ACCOUNT_ID", f"a Stripe connected account id is acct_ "
                              f"and letters or digits (e.g. acct_1Nv0FGQ9RKHgCVdK), got {value!r}",
                              field="stripeAccountId")
    return value


def check_customer_id(value: str) -> str:
    value = value.strip()
    if not _CUSTOMER_ID.fullmatch(value):
        raise SettlementError("BAD_STRIPE_CUSTOMER_ID", f"a Stripe customer id is cus_ and "
                              f"letters or digits (e.g. cus_NffrFeUfNV2Hib), got {value!r}",
                              field="stripeCustomerId")
    return value


def check_url(value: str, field: str) -> str:
    if not _URL.fullmatch(value.strip()):
        raise SettlementError("BAD_URL", f"{field} must be an http(s) URL, got {value!r}",
                              field=field)
    return value.strip()


def all_links(conn: Connection) -> list[PartyLink]:
    """Every party that settlement can pay or charge (the hub itself is neither)."""
    rows = conn.execute(select(parties).where(parties.c.kind != "network")
                        .order_by(parties.c.kind, parties.c.code))
    return [_link_of(r) for r in rows]


def find_party(conn: Connection, code: str) -> PartyLink:
    row = conn.execute(select(parties).where(parties.c.code == code.strip())).first()
    if row is None:
        raise SettlementError("UNKNOWN_PARTY", f"no party with code {code!r} (pointsnet settle "
                              "parties lists them)", field="party")
    if row.kind == "network":
        raise SettlementError("NOT_SETTLED_PARTY", f"{code!r} is the hub itself: settlement "
                              "never pays or charges it", field="party")
    return _link_of(row)


def _in_use(conn: Connection, column: Any, value: str, party_id: int, field: str) -> None:
    """One Stripe account or customer belongs to one party: two parties sharing one would
    have their payments mixed up."""
    other = conn.execute(select(parties.c.code).where(column == value,
                                                      parties.c.id != party_id)).first()
    if other is not None:
        raise SettlementError("STRIPE_ID_IN_USE", f"{value} is already linked to party "
                              f"{other.code}", field=field)


def link(conn: Connection, code: str, *, account_id: str | None = None,
         customer_id: str | None = None) -> PartyLink:
    """Store the given ids on the party (in the caller's transaction); checks all first."""
    if account_id is None and customer_id is None:
        raise SettlementError("NOTHING_TO_LINK", "give a Stripe connected account id (acct_…), "
                              "a customer id (cus_…) or both", field="stripeAccountId")
    party = find_party(conn, code)
    values: dict[str, str] = {}
    if account_id is not None:
        values["stripe_account_id"] = check_account_id(account_id)
        _in_use(conn, parties.c.stripe_account_id, values["stripe_account_id"], party.party_id,
                "stripeAccountId")
    if customer_id is not None:
        values["stripe_customer_id"] = check_customer_id(customer_id)
        _in_use(conn, parties.c.stripe_customer_id, values["stripe_customer_id"], party.party_id,
                "stripeCustomerId")
    conn.execute(update(parties).where(parties.c.id == party.party_id).values(**values))
    return find_party(conn, party.code)


def _stripe(action: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """A Stripe call whose failure becomes a SettlementError naming Stripe's reason."""
    try:
        return fn(*args, **kwargs)
    except PermanentStripeError as exc:
        raise SettlementError("STRIPE_REFUSED", f"Stripe refused to {action}: {exc.message} "
                              f"({exc.code})") from exc
    except TransientStripeError as exc:
        raise SettlementError("STRIPE_UNREACHABLE", f"could not {action}, nothing was linked; "
                              f"run the same command again: {exc}") from exc


def create_customer(db: Database, gateway: StripeGateway, code: str,
                    email: str | None = None) -> PartyLink:
    """Create the party's Stripe customer (invoices go to `email`) and link it."""
    party = db.read(find_party, code)
    if party.stripe_customer_id:
        raise SettlementError("ALREADY_LINKED", f"{party.code} already has Stripe customer "
                              f"{party.stripe_customer_id}; settle link --customer replaces it",
                              field="party")
    params: dict[str, Any] = {"name": party.name, "metadata": {
        "pointsnet_party_id": str(party.party_id), "pointsnet_party_code": party.code}}
    if email:
        params["email"] = email
    customer = _stripe("create a customer", gateway.create_customer,
                       f"pointsnet-party{party.party_id}-customer", **params)
    return db.write(link, party.code, customer_id=customer.id)


def onboard(db: Database, gateway: StripeGateway, code: str, *, return_url: str,
            refresh_url: str, email: str | None = None) -> Onboarding:
    """An onboarding link for the party's connected account, creating the account when the
    party has none: Express, with only the transfers capability, under Stripe's *recipient*
    service agreement (parties receive settlement transfers from the hub and take no card
    payments through us; it is also the agreement cross-border transfers need)."""
    return_url = check_url(return_url, "returnUrl")
    refresh_url = check_url(refresh_url, "refreshUrl")
    party = db.read(find_party, code)
    created = party.stripe_account_id is None
    if created:
        params: dict[str, Any] = {
            "type": "express", "capabilities": {"transfers": {"requested": True}},
            "tos_acceptance": {"service_agreement": "recipient"},
            "metadata": {"pointsnet_party_id": str(party.party_id),
                         "pointsnet_party_code": party.code}}
        if email:
            params["email"] = email
        account = _stripe("create a connected account", gateway.create_account,
                          f"pointsnet-party{party.party_id}-account", **params)
        party = db.write(link, party.code, account_id=account.id)
    account_link = _stripe("create an onboarding link", gateway.create_account_link,
                           account=party.stripe_account_id, type="account_onboarding",
                           refresh_url=refresh_url, return_url=return_url)
    return Onboarding(party, created, account_link.url,
                      datetime.fromtimestamp(account_link.expires_at, UTC))
