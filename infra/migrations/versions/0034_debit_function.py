"""A redemption as one server-side call (issue 21 target 4): `ledger_debit`, a PL/pgSQL function
that books the whole debit, so the hub sends one statement where it sent BEGIN, two statements
and COMMIT (network/ledger/pg_debit.py calls it; SQLite keeps the Python path).

In one call, each statement in a snapshot of its own (READ COMMITTED, a VOLATILE function), so
what is read after a lock sees everything committed before the lock was ours:

1. the idempotency key's advisory lock (taken, or `in_progress` at once), then its stored answer
   (`replay`: the caller checks the request hash, as `idempotency.check_replay`);
2. what the general path names instead (`hand_over`, nothing written): someone observes the
   debit (`p_observed`, the observers' guard evaluated by the caller's statement), the sink is
   not a party of the right kind, no such member, the member is blocked (read after the
   member's lock, so a block that commits first is never overtaken);
3. the member's balance row locked FOR UPDATE (every write to a member's lots holds it);
4. the FIFO walk (`rules.fifo`: earliest expiry first, never-expiring last, ties by lot id):
   a cursor over the ordered partial index of open lots, fetched one lot at a time and closed
   at the lot that covers the amount, so a debit reads the lots it takes and no others;
   not enough points: `short` with the spendable points, nothing written;
5. the balance, the entry, its two postings, per lot taken the lot's update (guarded: a lot
   never goes below zero) and its consumption, the stored answer, the wallet's sums
   (network/ledger/summary.py: earned and spent come from the caller's `summary.sides`).
   A guard that fails raises serialization_failure: the statement rolls back whole and the
   caller hands the debit to the general path.

It answers one JSON object: `outcome` (booked, replay, short, in_progress, hand_over), and
`response` (the receipt stored, or found for a replay, with its `request_hash`) or `spendable`.
One value, so the call is `SELECT ledger_debit(…)`, the form Citus delegates to the member's
node once the function is distributed by `p_member` (infra/distribution.py, FUNCTIONS).

Downgrade drops the function (the hub before this revision does not call it).

Revision ID: 0034_debit_function
Revises: 0033_budget_slots
"""

from alembic import op

revision = "0034_debit_function"
down_revision = "0033_budget_slots"
branch_labels = None
depends_on = None

SIGNATURE = ("ledger_debit(bigint, text, text, text, text, text, text, bigint, text, bigint, "
             "bigint, text, timestamptz, text, bigint, bigint, boolean)")

FUNCTION = """
CREATE FUNCTION ledger_debit(
    p_lock_key bigint, p_scope text, p_key text, p_digest text, p_kind text,
    p_consumption_kind text, p_account text, p_sink bigint, p_sink_kind text, p_member bigint,
    p_points bigint, p_reference text, p_at timestamptz, p_booked_at text, p_earned bigint,
    p_spent bigint, p_observed boolean) RETURNS json
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    -- FIFO over the ordered partial index ix_lots_member_open (member_id, expires_at, id
    -- WHERE remaining > 0): the unexpired lots by expiry from the first one after p_at (open
    -- lots already expired, waiting for the expiry run, are not read), then the
    -- never-expiring ones by id. Append runs its parts in order, each only once the part
    -- before it is used up.
    walk CURSOR FOR
        (SELECT id, issuer_party_id, remaining FROM lots
         WHERE member_id = p_member AND remaining > 0 AND expires_at > p_at
           AND vests_at <= p_at
         ORDER BY expires_at, id)
        UNION ALL
        (SELECT id, issuer_party_id, remaining FROM lots
         WHERE member_id = p_member AND remaining > 0 AND expires_at IS NULL
           AND vests_at <= p_at
         ORDER BY expires_at, id);  -- all NULL: by id, in the index's order
    lot record;
    ids bigint[] := '{}';
    issuers bigint[] := '{}';
    takes bigint[] := '{}';
    owed bigint := p_points;
    entry bigint;
    v_balance bigint;
    v_held bigint;
    v_debt bigint;
    stored record;
    receipt json;
BEGIN
    IF NOT pg_try_advisory_xact_lock(p_lock_key) THEN
        RETURN json_build_object('outcome', 'in_progress');
    END IF;
    SELECT request_hash, response INTO stored
    FROM idempotency_keys WHERE scope = p_scope AND key = p_key;
    IF FOUND THEN
        RETURN json_build_object('outcome', 'replay', 'request_hash', stored.request_hash,
                                 'response', stored.response);
    END IF;
    IF p_observed OR NOT EXISTS (SELECT 1 FROM parties WHERE id = p_sink AND kind = p_sink_kind)
    THEN
        RETURN json_build_object('outcome', 'hand_over');
    END IF;
    PERFORM 1 FROM member_balances WHERE member_id = p_member FOR UPDATE;
    IF NOT FOUND OR EXISTS (SELECT 1 FROM member_blocks WHERE member_id = p_member) THEN
        RETURN json_build_object('outcome', 'hand_over');
    END IF;

    OPEN walk;
    LOOP
        FETCH walk INTO lot;
        EXIT WHEN NOT FOUND;
        ids := ids || lot.id;
        issuers := issuers || lot.issuer_party_id;
        takes := takes || least(lot.remaining, owed);
        owed := owed - least(lot.remaining, owed);
        EXIT WHEN owed = 0;
    END LOOP;
    CLOSE walk;
    IF owed > 0 THEN
        RETURN json_build_object('outcome', 'short', 'spendable', p_points - owed);
    END IF;

    UPDATE member_balances SET balance = balance - p_points, updated_at = p_at
    WHERE member_id = p_member RETURNING balance, held, debt INTO v_balance, v_held, v_debt;
    INSERT INTO journal_entries (kind, member_id, party_id, points, reference, booked_at)
    VALUES (p_kind, p_member, p_sink, p_points, p_reference, p_at) RETURNING id INTO entry;
    INSERT INTO postings (entry_id, account_kind, member_id, party_id, points)
    VALUES (entry, 'member_wallet', p_member, NULL, -p_points),
           (entry, p_account, p_member, p_sink, p_points);
    FOR i IN 1 .. cardinality(ids) LOOP
        UPDATE lots SET remaining = remaining - takes[i]
        WHERE id = ids[i] AND member_id = p_member AND remaining >= takes[i];
        IF NOT FOUND THEN  -- cannot happen while every lot writer holds the member's lock
            RAISE EXCEPTION 'lot % changed under the member''s lock', ids[i]
                USING ERRCODE = 'serialization_failure';
        END IF;
        INSERT INTO consumptions (entry_id, member_id, lot_id, issuer_party_id, kind,
                                  sink_party_id, points, booked_at)
        VALUES (entry, p_member, ids[i], issuers[i], p_consumption_kind, p_sink, takes[i], p_at);
    END LOOP;
    receipt := json_build_object(
        'entry_id', entry, 'kind', p_kind, 'member_id', p_member, 'points', p_points,
        'booked_at', p_booked_at, 'balance', v_balance, 'held', v_held, 'hold_id', NULL,
        'lot_id', NULL, 'debt', v_debt);
    INSERT INTO idempotency_keys (scope, key, request_hash, response, created_at)
    VALUES (p_scope, p_key, p_digest, receipt, p_at);
    IF p_earned <> 0 OR p_spent <> 0 THEN
        INSERT INTO wallet_summary AS s (member_id, party_id, earned, spent)
        VALUES (p_member, p_sink, p_earned, p_spent)
        ON CONFLICT (member_id, party_id) DO UPDATE
        SET earned = s.earned + EXCLUDED.earned, spent = s.spent + EXCLUDED.spent;
    END IF;
    IF p_earned <> 0 THEN
        INSERT INTO wallet_earned_days AS d (member_id, day, earned)
        VALUES (p_member, CAST(timezone('UTC', p_at) AS date), p_earned)
        ON CONFLICT (member_id, day) DO UPDATE SET earned = d.earned + EXCLUDED.earned;
    END IF;
    RETURN json_build_object('outcome', 'booked', 'response', receipt);
END
$fn$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION {SIGNATURE}")
