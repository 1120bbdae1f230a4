"""A purchase as one server-side call (issue 18): `reward_buy`, a PL/pgSQL function that books
the debit (one call of `ledger_debit`, migration 0034) and takes the reward (the code, the stock,
the purchase row), so the hub sends one autocommit statement where it sent BEGIN, two statements
and COMMIT (network/programme/pg_buy.py calls it; SQLite keeps the Python path).

In one call, each statement in a snapshot of its own (READ COMMITTED, a VOLATILE function):

1. the member's row, by its key: the locale (for the answer) and whether the member has a phone
   or an email address. With `p_quiet` (the caller sends the call alone, outside a transaction,
   and so can add no message rows after it), a member with either, whom the purchase's message
   may reach, answers `loud` at once, nothing written or locked; the caller then calls again
   inside a transaction with `p_quiet` false and writes the messages after the call, before
   COMMIT;
2. the debit, `ledger_debit` as a redemption calls it: its answer is returned as `debit`
   whatever it is (replay, in_progress, hand_over: nothing more is done); `short` (not enough
   points) also answers the member's purchases of this reward counted under the member's lock
   (`bought`), so the caller names the limit first, as the general path does;
3. the take, one statement in a snapshot taken after the member's lock: the member's earlier
   purchases counted against the limit, a pool code claimed with FOR UPDATE SKIP LOCKED (or the
   hub's code inserted), the stock taken by the guarded update on the reward's row (its lock
   taken last, held for the rest of this statement and the commit only), the purchase row, the
   pool code marked as given. The reward is booked only if its `updated_at` is still `p_seen`
   and it is active (every change moves `updated_at`).

What cannot be booked after the debit raises (SQLSTATE P0001, raise_exception), so the whole
statement (or the caller's transaction) rolls back with the debit: the message is `CHANGED` (the
reward changed since the hub read it: the general path reads it again), `MEMBER_LIMIT_REACHED <n>`,
`CODES_EXHAUSTED` or `OUT_OF_STOCK` (the caller's userErrors).

It answers one JSON object: `outcome` `loud`, or `debit` (ledger_debit's answer) with, when it
booked, `purchase_id`, `code` (as stored), `partner_name`, `partner_name_fa`, `locale`, and
`loud` (whether the member has a phone or an email: the caller reads their contact and
preferences for the message only then).

Downgrade drops the function (the hub before this revision does not call it).

Revision ID: 0035_reward_buy_function
Revises: 0034_debit_function
"""

from alembic import op

revision = "0035_reward_buy_function"
down_revision = "0034_debit_function"
branch_labels = None
depends_on = None

SIGNATURE = ("reward_buy(bigint, text, text, text, text, text, text, bigint, text, bigint, "
             "bigint, text, timestamptz, text, bigint, bigint, boolean, bigint, timestamptz, "
             "integer, boolean, boolean, text, bigint, boolean, timestamptz, boolean)")

FUNCTION = """
CREATE FUNCTION reward_buy(
    p_lock_key bigint, p_scope text, p_key text, p_digest text, p_kind text,
    p_consumption_kind text, p_account text, p_sink bigint, p_sink_kind text, p_member bigint,
    p_points bigint, p_reference text, p_at timestamptz, p_booked_at text, p_earned bigint,
    p_spent bigint, p_observed boolean,
    p_reward bigint, p_seen timestamptz, p_limit integer, p_pool boolean, p_wants_code boolean,
    p_hub_code text, p_partner bigint, p_limited boolean, p_expires timestamptz,
    p_quiet boolean) RETURNS json
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    v_loud boolean;
    v_locale text;
    v_debit json;
    v_bought bigint;
    took record;
BEGIN
    SELECT coalesce(octet_length(phone_cipher), 0) > 0
               OR coalesce(octet_length(email_cipher), 0) > 0, locale
    INTO v_loud, v_locale
    FROM members WHERE id = p_member;
    IF p_quiet AND v_loud THEN
        RETURN json_build_object('outcome', 'loud');
    END IF;

    v_debit := ledger_debit(p_lock_key, p_scope, p_key, p_digest, p_kind, p_consumption_kind,
                            p_account, p_sink, p_sink_kind, p_member, p_points, p_reference,
                            p_at, p_booked_at, p_earned, p_spent, p_observed);
    IF v_debit->>'outcome' = 'short' AND p_limit IS NOT NULL THEN
        SELECT count(*) INTO v_bought FROM reward_purchases
        WHERE member_id = p_member AND reward_id = p_reward AND status <> 'refunded';
        RETURN json_build_object('debit', v_debit, 'bought', v_bought);
    END IF;
    IF v_debit->>'outcome' <> 'booked' THEN
        RETURN json_build_object('debit', v_debit);
    END IF;

    WITH bought AS MATERIALIZED (
        SELECT count(*) AS n FROM reward_purchases
        WHERE member_id = p_member AND reward_id = p_reward AND status <> 'refunded'
          AND p_limit IS NOT NULL
    ), seen_reward AS MATERIALIZED (
        SELECT r.id, p.name AS partner_name, p.name_fa AS partner_name_fa
        FROM rewards AS r JOIN parties AS p ON p.id = r.partner_id
        WHERE r.id = p_reward AND r.status = 'active' AND r.updated_at = p_seen
    ), pool AS MATERIALIZED (
        SELECT id, code FROM reward_codes
        WHERE p_pool AND reward_id = p_reward AND partner_id = p_partner
          AND purchase_id IS NULL
        ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
    ), hub AS (
        INSERT INTO reward_codes (reward_id, partner_id, code, added_at)
        SELECT p_reward, p_partner, p_hub_code, p_at
        WHERE p_hub_code IS NOT NULL
        RETURNING id, code
    ), code AS MATERIALIZED (
        SELECT id, code FROM pool UNION ALL SELECT id, code FROM hub
    ), status AS MATERIALIZED (
        SELECT EXISTS (SELECT 1 FROM seen_reward) AS unchanged,
               p_limit IS NULL OR (SELECT n FROM bought) < p_limit AS within_limit,
               (NOT p_wants_code OR EXISTS (SELECT 1 FROM code)) AS coded
    ), stock AS (
        UPDATE rewards AS r SET stock = r.stock - 1
        FROM status
        WHERE r.id = p_reward AND p_limited AND r.status = 'active' AND r.stock > 0
          AND status.unchanged AND status.within_limit AND status.coded
        RETURNING r.id
    ), purchase AS (
        INSERT INTO reward_purchases (member_id, reward_id, partner_id, entry_id, points,
                                      code_id, status, bought_at, expires_at)
        SELECT p_member, p_reward, p_partner, CAST(v_debit->'response'->>'entry_id' AS bigint),
               p_points, (SELECT id FROM code), 'issued', p_at, p_expires
        FROM status
        WHERE status.unchanged AND status.within_limit AND status.coded
          AND (NOT p_limited OR EXISTS (SELECT 1 FROM stock))
        RETURNING id
    ), given AS (
        UPDATE reward_codes AS c SET purchase_id = purchase.id
        FROM purchase, pool WHERE c.id = pool.id AND c.partner_id = p_partner
        RETURNING c.id
    )
    SELECT status.unchanged, status.within_limit, status.coded,
           (SELECT id FROM purchase) AS purchase_id, (SELECT code FROM code) AS code,
           (SELECT count(*) FROM given) AS given, (SELECT n FROM bought) AS bought,
           (SELECT partner_name FROM seen_reward) AS partner_name,
           (SELECT partner_name_fa FROM seen_reward) AS partner_name_fa
    INTO took
    FROM status;

    IF NOT took.unchanged THEN
        RAISE EXCEPTION 'CHANGED';
    ELSIF NOT took.within_limit THEN
        RAISE EXCEPTION 'MEMBER_LIMIT_REACHED %', took.bought;
    ELSIF NOT took.coded THEN
        RAISE EXCEPTION 'CODES_EXHAUSTED';
    ELSIF took.purchase_id IS NULL THEN
        RAISE EXCEPTION 'OUT_OF_STOCK';
    END IF;
    RETURN json_build_object(
        'debit', v_debit, 'purchase_id', took.purchase_id, 'code', took.code,
        'partner_name', took.partner_name, 'partner_name_fa', took.partner_name_fa,
        'locale', v_locale, 'loud', coalesce(v_loud, false));
END
$fn$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION {SIGNATURE}")
