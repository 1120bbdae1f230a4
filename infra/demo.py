"""A small, believable network for the Quick start: four partners, two charities, three members
and a few months of history, built once into an empty database (re-running changes nothing)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click
from sqlalchemy import select

from network import ledger, members, parties
from network.clock import as_utc, utcnow
from network.config import Settings
from network.db.engine import Database
from network.db.schema import parties as parties_table
from network.ledger.balances import summary
from partners.registry import create_partner
from partners.terms import Terms
from settlement.errors import SettlementError
from settlement.kpis import rollup as kpi_rollup
from settlement.period import Period

if TYPE_CHECKING:
    from settlement.payouts.gateway import StripeGateway

PARTNERS = [
    # code, name, Persian name, points per currency unit, clearing price per point (cents)
    ("cafe-roshan", "Café Roshan", "کافه روشن", "10", "0.5"),
    ("hamrah-telecom", "Hamrah Telecom", "همراه تلکام", "2", "0.6"),
    ("shafa-pharmacy", "Shafa Pharmacy", "داروخانه شفا", "5", "0.5"),
    ("bazaar-online", "Bazaar Online", "بازار آنلاین", "1", "0.7"),
]
KEY_DIR = Path(".pointsnet") / "keys"  # demo private keys, never committed (see .gitignore)
CHARITIES = [("mahak", "Mahak Children's Charity", "موسسه خیریه محک"),
             ("red-crescent", "Red Crescent", "جمعیت هلال احمر")]
MEMBERS = [("Sara Ahmadi", "سارا احمدی", "+989121234567", "sara@example.com", "fa"),
           ("John Miller", None, "+447700900123", "john@example.com", "en"),
           ("Maryam Karimi", "مریم کریمی", "+989351112233", None, "fa")]
# The card in the README's first Python integration, so that snippet runs as written against
# `make run`; the other demo members get random cards.
README_CARD = {"+447700900123": "7012345678901232"}
# The member the README signs in as (John Miller, the English-speaking one); the banner and the
# README name the same addresses.
README_MEMBER = MEMBERS[1]
# Where Stripe sends a demo party after onboarding (a real deployment passes its own pages).
DEMO_RETURN_URL = "http://127.0.0.1:8000/"


@dataclass
class DemoSummary:
    partners: dict[str, int] = field(default_factory=dict)
    charities: dict[str, int] = field(default_factory=dict)
    members: list[members.Member] = field(default_factory=list)
    created: bool = False
    staff: list[tuple[str, str, str]] = field(default_factory=list)  # login, role, TOTP key


def _key(*parts: object) -> str:
    return "demo-" + "-".join(str(p) for p in parts)


def build_demo(db: Database, settings: Settings, now: datetime | None = None) -> DemoSummary:
    now = now or utcnow()
    # The history's spending falls in last month (in the network's zone) whatever the day the
    # demo is built, so `settle … --period last-month` always has a month to clear and pay.
    today = as_utc(now).astimezone(ZoneInfo(settings.timezone))
    last_month, _ = Period(today.year, today.month).previous().bounds(settings.timezone)
    result = DemoSummary()
    existing = db.read(lambda c: c.execute(select(parties_table.c.code, parties_table.c.id)
                                           .where(parties_table.c.kind != "network")).all())
    if not existing:
        result.created = True

        def create(conn):  # type: ignore[no-untyped-def]
            for code, name, name_fa, rate, price in PARTNERS:
                terms = Terms(earn_points_per_unit=Decimal(rate), allow_explicit_points=True,
                              pending_days=0 if code != "bazaar-online" else 14,
                              validity_months=12, clearing_price_per_point=Decimal(price),
                              network_fee_bps=150, donation_value_per_point=Decimal("0.5"),
                              breakage_price_per_point=Decimal("0.2"),
                              own_redemption_fee_per_point=Decimal("0.05"))
                create_partner(conn, code=code, name=name, name_fa=name_fa, terms=terms,
                               now=last_month - timedelta(days=60))
            for code, name, name_fa in CHARITIES:
                parties.create(conn, kind="charity", code=code, name=name, name_fa=name_fa,
                               now=last_month - timedelta(days=60))

        db.write(create)
        existing = db.read(lambda c: c.execute(select(parties_table.c.code, parties_table.c.id)
                                               .where(parties_table.c.kind != "network")).all())
    codes = dict(existing)
    result.partners = {code: codes[code] for code, *_ in PARTNERS if code in codes}
    result.charities = {code: codes[code] for code, *_ in CHARITIES if code in codes}
    cafe, telecom, pharmacy, shop = (result.partners[p[0]] for p in PARTNERS)
    if result.created:  # before the members enrol: the welcome bonus is for their enrolment
        _programme(db, last_month, cafe)
    for i, (name, name_fa, phone, email, locale) in enumerate(MEMBERS):
        found = db.read(members.find, settings.secret_key, phone=phone)
        if found is None:
            # Sara invited Maryam (her referral code): Sara's referral bonus comes with
            # Maryam's first purchase at the café (_programme_history).
            referrer = result.members[0].referral_code if i == 2 else None
            found = members.enrol(db, secret=settings.secret_key, scope="system",
                                  idempotency_key=_key("member", i), enrolled_by=cafe,
                                  card_number=README_CARD.get(phone), phone=phone,
                                  email=email, display_name=name_fa or name,
                                  locale=locale, now=last_month - timedelta(days=45),
                                  birth_date=_birthday(last_month, settings) if i == 0 else None,
                                  referrer_code=referrer, timezone=settings.timezone)
        result.members.append(found)
    if result.created:
        _history(db, result, now, last_month, cafe, telecom, pharmacy, shop)
        _tiers(db, settings, last_month)
        _programme_history(db, settings, result, last_month, cafe)
        _facts(db, settings, result, last_month, cafe)
        _profile(db, settings, result, last_month)
        _messages(db, settings, result, now)
        _lottery(db, result, now, telecom)
        _catalog(db, settings, result, now)
        _catalog_campaigns(db, now, shop=shop, cafe=cafe, telecom=telecom)
        # The dashboards read rollups the worker's kpi-rollups job makes: make them now, so
        # /console/dashboards and /partner/dashboard show the demo's months at once.
        kpi_rollup.refresh(db, now, settings.timezone)
        _back_office(db, settings, result, now)
    result.staff = db.read(_staff_keys, settings.secret_key)
    return result


# The console's demo accounts (development only: `pointsnet serve --demo`); the TOTP keys are
# printed by print_demo for an authenticator app (or `oathtool --totp -b KEY`).
DEMO_STAFF = [("ops@demo.test", "Olga", "operator"), ("ana@demo.test", "Ana", "support")]
DEMO_STAFF_PASSWORD = "demo console password"
# A partner user with the same password: Café Roshan's cashier, who can use John's free-coffee
# coupon at /partner/till.
DEMO_PARTNER_USERS = [("till@demo.test", "Tina", "cashier", "cafe-roshan")]


def _back_office(db: Database, settings: Settings, demo: DemoSummary, now: datetime) -> None:
    """Two staff accounts and a goodwill request of Ana's waiting for Olga's approval, so the
    console's four-eyes step has something to show."""
    from network.backoffice import accounts
    from network.backoffice.roles import Principal
    from network.console import goodwill

    made = []
    for login, name, role in DEMO_STAFF:
        account, _ = db.write(lambda c, login=login, name=name, role=role: accounts.create(
            c, settings.secret_key, login=login, name=name, kind="staff", role=role,
            password=DEMO_STAFF_PASSWORD, now=now))
        made.append(account)
    for login, name, role, partner in DEMO_PARTNER_USERS:
        db.write(lambda c, login=login, name=name, role=role, partner=partner: accounts.create(
            c, settings.secret_key, login=login, name=name, kind="partner_user", role=role,
            password=DEMO_STAFF_PASSWORD, now=now, partner_id=demo.partners[partner]))
    ana = made[1]
    goodwill.request(db, Principal(ana.id, ana.name, "staff", ana.role, None, 0),
                     member_id=demo.members[0].id, points=1500,
                     reason="Double charge at Hamrah Telecom", key="demo-goodwill",
                     threshold=settings.goodwill_approval_above, now=now)


def _staff_keys(conn, secret_key: str) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    from network.backoffice import accounts

    logins = [login for login, _, _ in DEMO_STAFF] + [u[0] for u in DEMO_PARTNER_USERS]
    found = [accounts.by_login(conn, login) for login in logins]
    return [(a.login, a.role, accounts.totp_secret(conn, secret_key, a.id) or "")
            for a in found if a is not None]


def _profile(db: Database, settings: Settings, demo: DemoSummary, last_month: datetime) -> None:
    """Sara completed her profile on the web a month and a half ago (her name and birth date
    came from the café; she added her city and interests), so /wallet/profile shows a complete
    one and the programme has her `profile_completed` fact."""
    from network import profile

    profile.update_profile(db, demo.members[0].id, profile.ProfileChange(
        city="Tehran", interests=["coffee", "books", "travel"]),
        now=last_month - timedelta(days=44), timezone=settings.timezone)


def _messages(db: Database, settings: Settings, demo: DemoSummary, now: datetime) -> None:
    """Message choices (network/notifications/preferences.py): Sara reads her quiet hours in
    Tehran time and took offers by email (the Persian consent words are on record); John gets
    messages about his points by email only. Sara is told she reached gold, which the console
    sender prints once the outbox is drained (at once, or at 08:00 Tehran time)."""
    from network.notifications import messages, preferences

    sara, john, _ = (m.id for m in demo.members)
    db.write(preferences.change, sara, preferences.Change(
        marketing_email=True, time_zone="Asia/Tehran", language="fa",
        wording_version=preferences.WORDING_VERSION), source="web", now=now,
        network_zone=settings.timezone)
    db.write(preferences.change, john, preferences.Change(programme_sms=False), source="web",
             now=now, network_zone=settings.timezone)
    db.write(messages.tier_changed, sara, "silver", "gold", now=now, settings=settings)


DEMO_DRAW = "phone-draw"


def _lottery(db: Database, demo: DemoSummary, now: datetime, telecom: int) -> None:
    """A running lottery funded by Hamrah Telecom: opened two days ago, closing in two weeks,
    with entries from all three members (`pointsnet lottery close/draw` finish it)."""
    from network.programme import lottery_store as draws

    draw = draws.open_draw(
        db, code=DEMO_DRAW, name_en="Win a new phone", name_fa="برندهٔ یک گوشی نو شوید",
        opens_at=now - timedelta(days=2), closes_at=now + timedelta(days=14), entry_price=100,
        max_entries_per_member=5, sponsor_party_id=telecom,
        prizes=[draws.Prize(1, "A new phone", "یک گوشی نو"),
                draws.Prize(3, "Two cinema tickets", "دو بلیت سینما")],
        now=now - timedelta(days=2))
    sara, john, maryam = (m.id for m in demo.members)
    for n, (member_id, hours_ago) in enumerate(((sara, 40), (sara, 30), (john, 20),
                                                (maryam, 6))):
        draws.enter(db, member_id=member_id, draw_id=draw.id, idempotency_key=_key("draw", n),
                    now=now - timedelta(hours=hours_ago))


# The catalog: (partner, kind, English name, Persian name, English and Persian descriptions,
# price, more spec fields). Pool codes are uploaded as a partner would; the rest are the hub's.
CATALOG: list[tuple[str, str, str, str, str, str, int, dict[str, object]]] = [
    ("cafe-roshan", "coupon", "Free coffee", "قهوهٔ رایگان",
     "Any coffee on the menu, any size.", "هر قهوه‌ای از منو، در هر اندازه.", 300, {}),
    ("cafe-roshan", "coupon", "Cake and coffee for two", "کیک و قهوه برای دو نفر",
     "Two slices of the day's cake and two coffees.", "دو برش کیک روز و دو قهوه.", 900,
     {"per_member_limit": 2}),
    ("hamrah-telecom", "coupon", "5 GB of mobile data", "۵ گیگابایت اینترنت همراه",
     "Added to your line within a day; valid for 30 days.",
     "ظرف یک روز به خط شما اضافه می‌شود و ۳۰ روز اعتبار دارد.", 1500, {}),
    ("hamrah-telecom", "gift_card", "Airtime gift card", "کارت هدیهٔ شارژ",
     "Top up any Hamrah line with this card.", "هر خط همراه را با این کارت شارژ کنید.", 2000,
     {"value_minor": 1000}),
    ("shafa-pharmacy", "coupon", "10% off vitamins", "۱۰٪ تخفیف ویتامین‌ها",
     "On any vitamins and supplements, once.", "یک بار، روی همهٔ ویتامین‌ها و مکمل‌ها.", 500,
     {"code_source": "pool", "refund_on_expiry": True}),
    ("shafa-pharmacy", "coupon", "Free blood-pressure check", "چکاپ رایگان فشار خون",
     "For gold and platinum members.", "برای اعضای طلایی و پلاتینی.", 400,
     {"visibility": ("gold", "platinum")}),
    ("bazaar-online", "coupon", "Free delivery", "ارسال رایگان",
     "On your next order, whatever its size.", "برای سفارش بعدی شما، با هر اندازه‌ای.", 250,
     {"stock": 40}),
    ("bazaar-online", "lottery_entry", "An entry in the phone lottery",
     "یک بلیت قرعه‌کشی گوشی", "One entry in this month's draw for a new phone.",
     "یک بلیت در قرعه‌کشی این ماه برای یک گوشی نو.", 100, {"code_source": "none"}),
    ("bazaar-online", "charity_pledge", "Give to Mahak's children", "کمک به کودکان محک",
     "Your points go to Mahak Children's Charity.", "امتیازهای شما به موسسه خیریه محک می‌رسد.",
     500, {"code_source": "none", "charity": "mahak"}),
]
POOL_CODES = "".join(f"SHAFA-{n}\n" for n in range(1001, 1021))


def _catalog(db: Database, settings: Settings, demo: DemoSummary, now: datetime) -> None:
    """A few rewards per partner in both languages, on sale; John owns a free coffee and Sara a
    pharmacy coupon, so both wallets show "my rewards"."""
    from network.programme import rewards_buy, rewards_store
    from network.programme.rewards import RewardSpec, Visibility

    made: dict[str, int] = {}
    for i, (partner, kind, name_en, name_fa, text_en, text_fa, price, more) in enumerate(CATALOG):
        extra = dict(more)
        if "visibility" in extra:
            extra["visibility"] = Visibility(tiers=tuple(extra["visibility"]))  # type: ignore[arg-type]
        if "charity" in extra:
            extra["charity_id"] = demo.charities[str(extra.pop("charity"))]
        if kind == "gift_card":
            extra["currency"] = settings.currency
        spec = RewardSpec(kind=kind, name_en=name_en, name_fa=name_fa, description_en=text_en,
                          description_fa=text_fa, price_points=price, **extra)  # type: ignore[arg-type]
        partner_id = demo.partners[partner]
        reward = rewards_store.create(db, partner_id=partner_id, spec=spec,
                                      scope=f"partner:{partner_id}",
                                      idempotency_key=_key("reward", i), now=now)
        if spec.code_source == "pool":
            rewards_store.upload_codes(db, partner_id=partner_id, reward_id=reward.id,
                                       csv_text=POOL_CODES, scope=f"partner:{partner_id}",
                                       idempotency_key=_key("codes", i), now=now)
        rewards_store.set_status(db, partner_id=partner_id, reward_id=reward.id, status="active",
                                 scope=f"partner:{partner_id}",
                                 idempotency_key=_key("reward-on", i), now=now)
        made[name_en] = reward.id
    sara, john = demo.members[0].id, demo.members[1].id
    for member, name in ((john, "Free coffee"), (sara, "10% off vitamins")):
        rewards_buy.buy(db, member_id=member, reward_id=made[name],
                        idempotency_key=_key("buy", member), secret=settings.secret_key,
                        now=now - timedelta(hours=2))


def _programme(db: Database, last_month: datetime, cafe: int) -> None:
    """A running programme: double points at the café on the Iranian weekend (Thursday and
    Friday, in the network's zone) for silver members and above, paid by the café; half as much
    again at the café, paid half by the café and half by the network; a network-funded
    200-point bonus on a member's first purchase of 50 or more (any partner, once each); and
    on facts other than purchases: network-funded welcome (on enrolment), birthday and
    referral bonuses, 100 points from the network on reaching gold (the tier_changed fact),
    and 50 points from the café for a review of 4 stars or more."""
    from network.programme import event_types, ladder_store, store
    from network.programme.campaigns import (
        AttributeCondition,
        Campaign,
        Conditions,
        FixedPoints,
        Limits,
        Multiplier,
        Trigger,
        sole_funder,
        split_funder,
        tiers_from,
    )

    network = db.read(parties.network_party_id)
    ladder = ladder_store.for_database(db)
    # Members read who pays for each campaign line, in their language.
    db.write(lambda c: parties.edit(c, parties.NETWORK_CODE, "network", name_fa="شبکهٔ امتیاز"))
    starts = last_month - timedelta(days=60)
    at_cafe = frozenset({cafe})
    # The review campaign names the network's `review` type (a migration installs the standard
    # types; an emptied database may not have them).
    db.write(lambda conn: event_types.install_standard(conn, starts))
    for campaign in (
        Campaign(id=0, code="cafe-double-weekend", name_en="Double points weekend",
                 name_fa="امتیاز دوبرابر آخر هفته", trigger=Trigger("purchase"),
                 effect=Multiplier(Decimal(2)), funder=sole_funder(cafe), starts_at=starts,
                 conditions=Conditions(partners=at_cafe, weekdays=frozenset({3, 4}),
                                       tiers=tiers_from(ladder, "silver")),
                 priority=10),
        Campaign(id=0, code="roshan-and-network", name_en="Roshan and the network: 50% more",
                 name_fa="روشن و شبکه: ۵۰٪ بیشتر", trigger=Trigger("purchase"),
                 effect=Multiplier(Decimal("1.5")),
                 funder=split_funder((cafe, 5_000), (network, 5_000)), starts_at=starts,
                 conditions=Conditions(partners=at_cafe), limits=Limits(budget_points=50_000)),
        Campaign(id=0, code="welcome-50", name_en="First purchase bonus",
                 name_fa="پاداش نخستین خرید",
                 trigger=Trigger("purchase"), effect=FixedPoints(200),
                 funder=sole_funder(network), starts_at=starts,
                 conditions=Conditions(min_amount_minor=5_000),
                 limits=Limits(per_member_campaign=1, budget_points=100_000)),
        # Facts other than purchases (network/programme/fact_awards.py).
        Campaign(id=0, code="welcome", name_en="Welcome bonus", name_fa="پاداش خوش‌آمد",
                 trigger=Trigger("lifecycle", "enrolled"), effect=FixedPoints(100),
                 funder=sole_funder(network), starts_at=starts,
                 limits=Limits(budget_points=100_000)),
        Campaign(id=0, code="birthday", name_en="Birthday bonus", name_fa="پاداش تولد",
                 trigger=Trigger("lifecycle", "birthday"), effect=FixedPoints(250),
                 funder=sole_funder(network), starts_at=starts),
        Campaign(id=0, code="referral", name_en="Thanks for inviting a friend",
                 name_fa="سپاس برای دعوت از دوست",
                 trigger=Trigger("lifecycle", "referral_converted"), effect=FixedPoints(500),
                 funder=sole_funder(network), starts_at=starts),
        Campaign(id=0, code="welcome-gold", name_en="Welcome to gold",
                 name_fa="به سطح طلایی خوش آمدید",
                 trigger=Trigger("lifecycle", "tier_changed"), effect=FixedPoints(100),
                 funder=sole_funder(network), starts_at=starts,
                 conditions=Conditions(attributes=(
                     AttributeCondition("to", one_of=frozenset({"gold"})),)),
                 limits=Limits(per_member_campaign=1)),
        Campaign(id=0, code="roshan-reviews", name_en="Review Café Roshan",
                 name_fa="نظر دربارهٔ کافه روشن", trigger=Trigger("event", "review"),
                 effect=FixedPoints(50), funder=sole_funder(cafe), starts_at=starts,
                 conditions=Conditions(partners=at_cafe, attributes=(
                     AttributeCondition("rating", at_least=Decimal(4)),)),
                 limits=Limits(per_member_day=1)),
    ):
        db.write(store.create, campaign, owner_party_id=campaign.funder[0].party_id)
        db.write(store.set_status, campaign.code, "active")


def _catalog_campaigns(db: Database, now: datetime, *, shop: int, cafe: int,
                       telecom: int) -> None:
    """Campaigns that give catalog items (network/programme/reward_grants.py), from now on: a
    free coffee at Café Roshan, paid by Bazaar Online, with a member's first Bazaar purchase;
    and two free entries in the phone draw, from Hamrah Telecom, with each Hamrah purchase (at
    most 4 a month)."""
    from network.programme import rewards_store, store
    from network.programme.campaigns import (
        Campaign,
        Conditions,
        IssueReward,
        Limits,
        LotteryEntries,
        Trigger,
        sole_funder,
    )

    coffee = next(r.id for r in db.read(rewards_store.list_rewards, partner_id=cafe)
                  if r.spec.name_en == "Free coffee")
    for campaign in (
        Campaign(id=0, code="bazaar-coffee-gift", name_en="A coffee on Bazaar Online",
                 name_fa="یک قهوه مهمان بازار آنلاین", trigger=Trigger("purchase"),
                 effect=IssueReward(coffee), funder=sole_funder(shop), starts_at=now,
                 conditions=Conditions(partners=frozenset({shop})),
                 limits=Limits(per_member_campaign=1, budget_points=30_000)),
        Campaign(id=0, code="hamrah-phone-tickets", name_en="Phone draw tickets from Hamrah",
                 name_fa="بلیت قرعه‌کشی گوشی از همراه", trigger=Trigger("purchase"),
                 effect=LotteryEntries(DEMO_DRAW, 2), funder=sole_funder(telecom),
                 starts_at=now, conditions=Conditions(partners=frozenset({telecom})),
                 limits=Limits(per_member_month=4)),
    ):
        db.write(store.create, campaign, owner_party_id=campaign.funder[0].party_id)
        db.write(store.set_status, campaign.code, "active")


def _tiers(db: Database, settings: Settings, last_month: datetime) -> None:
    """The daily tiers job on the first day of last month: Sara's year of earning makes her
    gold (the welcome-gold campaign gives her 100 points), John's silver; Maryam stays blue.
    Stored, so the wallet shows since when and until when each is kept."""
    from network.programme import tier_events, tiers_store

    at = last_month + timedelta(hours=1)
    tiers_store.recalc_all(db, at, zone=ZoneInfo(settings.timezone))
    # What the worker's tier-facts job does a minute later: the welcome-gold campaign wakes.
    tier_events.raise_recent(db, at + timedelta(minutes=1), timezone=settings.timezone)


def _programme_history(db: Database, settings: Settings, demo: DemoSummary,
                       last_month: datetime, cafe: int) -> None:
    """Café purchases through the partner API's earn (the programme's path): gold Sara on a
    Thursday gets every campaign, silver John on a weekday the co-funded one, blue Maryam's
    weekend visit no double (the tier condition)."""
    from partners.earning import AwardLine, award_points

    sara, john, maryam = (m.id for m in demo.members)
    zone = ZoneInfo(settings.timezone)
    # The first Thursday from day 18 of last month: after its spending, before this month.
    thursday = next(last_month + timedelta(days=n, hours=10) for n in range(18, 25)
                    if (last_month + timedelta(days=n, hours=10)).astimezone(zone).weekday() == 3)
    for n, (member, amount, at) in enumerate((
            (sara, 6_000, thursday), (john, 1_800, thursday - timedelta(days=2)),
            (maryam, 2_400, thursday + timedelta(days=1)))):
        award_points(db, partner_id=cafe, line=AwardLine(member, amount, settings.currency,
                                                         reference=f"till-2{n:03}"),
                     network_currency=settings.currency, scope=f"partner:{cafe}",
                     idempotency_key=_key("award", n), now=at, timezone=settings.timezone)


def _birthday(last_month: datetime, settings: Settings) -> date:
    """Sara's birth date: the 10th of last month, 1990 (the demo raises that birthday, _facts)."""
    tenth = (last_month + timedelta(days=9)).astimezone(ZoneInfo(settings.timezone)).date()
    return tenth.replace(year=1990)


def _facts(db: Database, settings: Settings, demo: DemoSummary, last_month: datetime,
           cafe: int) -> None:
    """Sara's birthday (the daily job, on the 10th of last month) and John's 5-star review of
    the café on the 12th: each gives its campaign's bonus."""
    from network.programme import birthdays, events

    john = demo.members[1].id
    zone = ZoneInfo(settings.timezone)
    tenth = (last_month + timedelta(days=9)).astimezone(zone).date()
    birthdays.raise_due(db, tenth, zone=settings.timezone,
                        now=last_month + timedelta(days=9, hours=1))
    at = last_month + timedelta(days=11, hours=15)
    events.record_event(db, scope=f"partner:{cafe}", idempotency_key=_key("review", 1),
                        partner_id=cafe, member_id=john, member_field="memberId", type="review",
                        attributes={"rating": 5}, occurred_at=at, now=at,
                        timezone=settings.timezone)


def _history(db: Database, demo: DemoSummary, now: datetime, last_month: datetime, cafe: int,
             telecom: int, pharmacy: int, shop: int) -> None:
    """Earnings before and during last month, spending in it (days 7 to 17 of a month exist in
    every month, and lie before `now`), and a payment from reserved points a few days ago."""
    sara, john, maryam = (m.id for m in demo.members)
    year = timedelta(days=365)

    def day(n: int) -> datetime:  # n days into last month (negative: before it)
        return last_month + timedelta(days=n, hours=10)

    def earn(n: int, partner: int, member: int, points: int, at: datetime,
             ref: str, pending_days: int = 0) -> ledger.Receipt:
        return ledger.earn(db, scope=f"partner:{partner}", idempotency_key=_key("earn", n),
                           issuer_id=partner, member_id=member, points=points,
                           vests_at=at + timedelta(days=pending_days), expires_at=at + year,
                           reference=ref, now=at)

    earn(1, cafe, sara, 320, day(-30), "till-1042")
    earn(2, telecom, sara, 1200, day(-20), "invoice-0917")
    # A year's phone contract: with the rest, Sara holds gold (10,000 points earned in a year),
    # John silver (2,000), Maryam blue (network/programme/tiers.py).
    earn(8, telecom, sara, 8600, day(-25), "contract-2291")
    earn(3, pharmacy, sara, 150, day(2), "rx-88123")
    earn(4, shop, sara, 400, now - timedelta(days=5), "order-5531", pending_days=14)
    earn(5, cafe, john, 90, day(4), "till-1107")
    earn(6, shop, john, 2500, day(-10), "order-5120")
    earn(7, telecom, maryam, 800, day(1), "invoice-1017")
    ledger.redeem(db, scope=f"partner:{shop}", idempotency_key=_key("redeem", 1),
                  partner_id=shop, member_id=sara, points=600, reference="order-5402",
                  now=day(7))
    ledger.donate(db, scope=f"member:{sara}", idempotency_key=_key("donate", 1),
                  member_id=sara, charity_id=demo.charities["mahak"], points=200,
                  now=day(12))
    refund = ledger.redeem(db, scope=f"partner:{pharmacy}", idempotency_key=_key("redeem", 2),
                           partner_id=pharmacy, member_id=maryam, points=300,
                           reference="rx-90001", now=day(15))
    ledger.reverse_redemption(db, scope=f"partner:{pharmacy}",
                              idempotency_key=_key("reverse", 1), partner_id=pharmacy,
                              entry_id=refund.entry_id, points=100, reference="rx-90001-return",
                              now=day(16))
    hold = ledger.authorize_hold(db, scope=f"partner:{cafe}", idempotency_key=_key("hold", 1),
                                 partner_id=cafe, member_id=john, points=500,
                                 reference="table-7", now=now - timedelta(days=3))
    ledger.capture_hold(db, scope=f"partner:{cafe}", idempotency_key=_key("capture", 1),
                        partner_id=cafe, hold_id=hold.hold_id or 0, points=420,
                        now=now - timedelta(days=3) + timedelta(minutes=40))


def print_demo(db: Database, demo: DemoSummary, base_url: str | None = None) -> None:
    """Balances for everyone; with a base URL, also a signed request ready to paste."""
    now = utcnow()
    click.echo("Demo network" + (" created" if demo.created else " (already there)") + ":")
    click.echo("  partners:  " + ", ".join(demo.partners))
    click.echo("  charities: " + ", ".join(demo.charities))
    click.echo(f"  {'member':<16} {'card':<20} {'spendable':>9} {'pending':>8} {'held':>5}")
    for member in demo.members:
        balance = db.read(summary, member.id, now)
        name = member.display_name or "?"
        click.echo(f"  {name:<16} {member.card_number:<20} {balance.spendable:>9} "
                   f"{balance.pending:>8} {balance.held:>5}")
    _print_lotteries(db)
    _print_catalog(db, demo)
    if base_url:
        from partners.quickstart import signed_example

        example = signed_example(db, demo.partners["cafe-roshan"], base_url, KEY_DIR)
        program = Path(sys.argv[0])
        if program.name == "pointsnet" and program.exists():
            example = str(program.resolve()) + example.removeprefix("pointsnet")
        name, _, phone, email, _ = README_MEMBER
        click.echo(f"\nWallet pages: {base_url}/wallet: sign in as {name} with {email} or "
                   f"{phone} (the one-time code is printed in this console); Persian-speaking "
                   f"{MEMBERS[2][0]} with {MEMBERS[2][2]}, or 0{MEMBERS[2][2][3:]} as dialled "
                   "in Iran")
        click.echo(f"Dashboards: {base_url}/console/dashboards and {base_url}/console/finance "
                   "(a finance or operator account: `pointsnet backoffice users add --role "
                   "finance ...`); the partner portal at "
                   f"{base_url}/partner (`--role manager --partner cafe-roshan`)")
        click.echo("A signed partner request (Café Roshan's demo key in "
                   f"{KEY_DIR}/), ready to run in another terminal:\n  {example}")
        if demo.staff:
            click.echo(f"Operator's console: {base_url}/console: password "
                       f"{DEMO_STAFF_PASSWORD!r}, and the code of an authenticator app given the "
                       "key (or: oathtool --totp -b KEY):")
            for login, role, key in demo.staff:
                click.echo(f"  {login:<16} {role:<9} key {key}")
            click.echo(f"  ({DEMO_PARTNER_USERS[0][0]} signs in at {base_url}/partner: the till, "
                       f"{base_url}/partner/till, takes John's Free coffee code above)")


def _print_lotteries(db: Database) -> None:
    from network.programme import lottery_store as draws

    for draw in db.read(draws.listed):
        count = db.read(lambda c, d=draw: len(draws.published_entries(c, d.id)))
        click.echo(f"  lottery {draw.code} ({draw.status}): {draw.name_en}, {count} entries, "
                   f"closes {draw.closes_at:%Y-%m-%d %H:%M} UTC, commitment "
                   f"{draw.commitment}")
        click.echo(f"    once it closes: pointsnet lottery close {draw.code}; "
                   f"pointsnet lottery draw {draw.code}; pointsnet lottery publish {draw.code} "
                   f"--out draw/; pointsnet lottery verify draw/")
def _print_catalog(db: Database, demo: DemoSummary) -> None:
    from network.programme import rewards_buy, rewards_store

    found = db.read(rewards_store.list_rewards, limit=1000)
    if not found:
        return
    codes = {v: k for k, v in demo.partners.items()}
    click.echo(f"  catalog:   {len(found)} rewards (pointsnet rewards list), e.g.")
    for reward in found[:4]:
        click.echo(f"    #{reward.id} {reward.spec.name_en} / {reward.spec.name_fa}, "
                   f"{reward.spec.price_points} points at {codes.get(reward.partner_id, '?')}")
    for member in demo.members:
        for bought in db.read(rewards_buy.member_purchases, member.id):
            reward = db.read(rewards_store.get, bought.reward_id)
            click.echo(f"  {member.display_name} owns {reward.spec.name_en if reward else '?'}"
                       f", code {bought.code} ({bought.status}) at "
                       f"{codes.get(bought.partner_id, '?')}")
    click.echo("  campaigns that give catalog items: bazaar-coffee-gift (a member's first "
               "Bazaar Online purchase: a Free coffee at cafe-roshan, paid by Bazaar), "
               f"hamrah-phone-tickets (2 free entries in {DEMO_DRAW} with each Hamrah "
               "purchase, at most 4 a month)")


def link_stripe(db: Database, gateway: StripeGateway,
                visit: Callable[[str], object] | None = None) -> list[str]:
    """Link every demo party to the configured Stripe so `settle pay` can run: each gets a
    connected account (onboarding link created; `visit` opens it, which on the local stand-in
    completes onboarding at once, as the party would on Stripe) and each partner a customer.
    Parties already linked are left alone. Returns one line per party for the console."""
    from settlement.payouts.links import all_links, create_customer, onboard

    lines = []
    for party in db.read(all_links):
        if party.stripe_account_id is None:
            result = onboard(db, gateway, party.code, return_url=DEMO_RETURN_URL,
                             refresh_url=DEMO_RETURN_URL)
            if visit is not None:
                visit(result.url)
            done = "onboarded" if visit else f"onboarding link {result.url}"
            lines.append(f"{party.code}: connected account {result.party.stripe_account_id}, "
                         f"{done}")
        if party.kind == "partner" and party.stripe_customer_id is None:
            linked = create_customer(db, gateway, party.code)
            lines.append(f"{party.code}: customer {linked.stripe_customer_id}")
    return lines


def link_demo_to_stripe(db: Database) -> None:
    """`pointsnet demo --stripe-links`: the demo's parties linked to test-mode Stripe or the
    stand-in; on the stand-in (a local API base) each onboarding link is opened at once."""
    import httpx

    from settlement.cli import gateway_from_settings

    gateway = gateway_from_settings()
    if gateway.config.api_key.startswith(("sk_live_", "rk_live_")):
        raise SettlementError("LIVE_KEY", "the demo links parties with test-mode keys or the "
                              "stand-in only, never a live key")
    base = gateway.config.api_base or "https://api.stripe.com"
    local = base.startswith(("http://127.0.0.1", "http://localhost"))
    where = "the LOCAL STAND-IN (not Stripe) at" if local else "Stripe (test mode) at"
    click.echo(f"Linking the demo parties to {where} {base}:")
    for line in link_stripe(db, gateway, (lambda url: httpx.get(url)) if local else None):
        click.echo(f"  {line}")
    if not local:
        click.echo("Open each onboarding link and complete Stripe's test-mode form; "
                   "transfers to an account fail until it has onboarded.")
