"""The network's own periodic jobs. Each is safe to run again after a crash, and beside a copy of
itself; the comment on each says why."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from zoneinfo import ZoneInfo

from network.config import get_settings
from network.db.engine import Database
from network.jobs import leases
from network.jobs.registry import Clock, Counts, Job
from network.jobs.schedule import DailyAt, Every
from network.ledger import expire_due
from network.notifications import lifecycle
from network.notifications.config import NotificationSettings
from network.notifications.drain import drain
from network.notifications.senders import sender_from_settings
from network.programme import birthdays, rewards_buy, tier_events, tiers_store
from network.programme.segments_store import refresh_all


def _expire(db: Database, clock: Clock) -> Counts:
    # Each member's holds and lots are expired in one transaction of its own, under that
    # member's balance lock: a crash loses at most the member in flight, who is still due at
    # the next run, and a member already expired is no longer due, so nothing expires twice.
    return asdict(expire_due(db, now=clock()))


# The run history is for seeing what ran lately and why a run failed, not an archive: the drain
# alone records 8,640 runs a day.
KEEP_RUNS = dt.timedelta(days=30)


def _prune_runs(db: Database, clock: Clock) -> Counts:
    # Batches of 5,000 rows, each deleted in a transaction of its own: a crash leaves the rest
    # for the next run, and deleting a row twice is deleting nothing.
    before = clock() - KEEP_RUNS
    deleted = 0
    while (batch := db.write(leases.prune, before, 5_000)) > 0:
        deleted += batch
    return {"runs": deleted}


def _refresh_segments(db: Database, clock: Clock) -> Counts:
    # Rule segments and RFM scores are each recomputed whole in one transaction of their own,
    # under segments' writer lock: a crash keeps the last complete memberships, and running
    # again computes the same ones.
    refreshed = refresh_all(db, clock())
    return {"rule_segments": len(refreshed.rules), "rfm_scored": refreshed.rfm.scored}


def _birthdays(db: Database, clock: Clock) -> Counts:
    # One fact per member per year, keyed `birthday:<member>:<year>` in the programme's inbox:
    # a crash after some members leaves the rest for the next run, and a member raised before
    # is not raised again. Only today's birthdays: a day no worker ran is raised by hand
    # (`pointsnet programme birthdays --date`).
    zone = get_settings().timezone
    today = clock().astimezone(ZoneInfo(zone)).date()
    run = birthdays.raise_due(db, today, zone=zone, now=clock())
    return {"due": run.due, "raised": len(run.raised)}


def _earned_messages(db: Database, clock: Clock) -> Counts:
    # Each member's hour is queued in a transaction of its own together with its occasion key
    # (earned:<hour>): a crash leaves the rest for the next run, and a member whose hour was
    # announced is not announced again. Each run looks back six closed hours.
    return asdict(lifecycle.earned(db, clock()))


def _vested_messages(db: Database, clock: Clock) -> Counts:
    # One occasion per member per day (vested:<date>), queued with its message: reruns and the
    # three days each run looks back announce nothing twice.
    return asdict(lifecycle.vested(db, clock()))


def _expiring_messages(db: Database, clock: Clock) -> Counts:
    # One occasion per member, expiry date and horizon (expiring30:<date>, expiring7:<date>),
    # queued with its message: a rerun, or the next day's look back, sends nothing twice.
    return asdict(lifecycle.expiring(db, clock()))


def _tier_facts(db: Database, clock: Clock) -> Counts:
    # Each stored tier change's fact in a transaction of its own, keyed tier_changed:<change id>
    # in the programme's inbox: a crash keeps what was raised, a rerun raises nothing twice.
    run = tier_events.raise_recent(db, clock(), timezone=get_settings().timezone)
    return {"changes": run.changes, "raised": run.raised}


def _tier_messages(db: Database, clock: Clock) -> Counts:
    # One occasion per stored tier change (tier:<change id>), queued with its message; each run
    # looks back three days, so a worker that was down catches up and nothing goes twice.
    return asdict(lifecycle.tier_changes(db, clock()))


def _expire_coupons(db: Database, clock: Clock) -> Counts:
    # Each coupon is expired (and, where its reward says so, its points given back) in a
    # transaction of its own behind a guarded update from `issued`: a crash loses at most the
    # one in flight, and a coupon already expired is no longer due, so none is given back twice.
    return asdict(rewards_buy.expire_due(db, clock()))
def _tiers(db: Database, clock: Clock) -> Counts:
    # Chunks of members, each one transaction (tiers_store.recalc_all): a crash keeps the
    # chunks done, and every decision depends on the day, not the hour, so a second run the
    # same day (or this one finishing the rest) changes nothing already decided.
    run = tiers_store.recalc_all(db, clock(), zone=ZoneInfo(get_settings().timezone))
    return {"members": run.members, "upgraded": len(run.upgraded),
            "downgraded": len(run.downgraded)}


def network_jobs(notify: NotificationSettings) -> list[Job]:
    sender = sender_from_settings(notify)

    def drain_outbox(db: Database, clock: Clock) -> Counts:
        # Rows are claimed with a lease of their own (drain.py): a crash mid-send leaves the row
        # to be sent again once that lease runs out (at least once; the row id travels with the
        # message for deduplication), and a sent row is marked sent in its own transaction.
        return asdict(drain(db, sender, clock, max_attempts=notify.max_attempts))

    return [
        Job("expire", Every(60), _expire,
            "expire lots whose time has come and holds nobody captured"),
        Job("notifications", Every(10), drain_outbox,
            "send the outbox: codes the web app could not send at once, and retries"),
        Job("earned-messages", Every(900), _earned_messages,
            "tell members what they earned, one message per member per hour"),
        Job("vested-messages", DailyAt(9, 0), _vested_messages,
            "tell members which pending points became spendable"),
        Job("expiry-messages", DailyAt(9, 30), _expiring_messages,
            "warn members of points expiring in 30 and 7 days"),
        Job("tier-messages", Every(900), _tier_messages,
            "tell members the tier they reached or lost, once per change"),
        Job("birthdays", DailyAt(0, 5), _birthdays,
            "raise today's birthday facts for the programme"),
        Job("tiers", DailyAt(0, 30), _tiers,
            "recalculate members' tiers: upgrades earns missed, downgrades after retention"),
        Job("tier-facts", Every(60), _tier_facts,
            "raise each tier change as a tier_changed fact for the programme's campaigns"),
        Job("segments", DailyAt(3, 0), _refresh_segments,
            "recompute rule segments and RFM scores for campaign conditions"),
        Job("job-history", DailyAt(4, 30), _prune_runs,
            f"forget worker runs older than {KEEP_RUNS.days} days"),
        Job("coupons", Every(300), _expire_coupons,
            "expire unused coupons past their time, giving points back where the reward says"),
    ]
