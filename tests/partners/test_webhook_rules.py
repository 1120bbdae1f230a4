"""Webhooks' pure parts: signatures against the Standard Webhooks spec's own test vectors, the
receiver's verifier, back-off with jitter, giving up and disabling, and the events' bodies."""

from __future__ import annotations

import base64
import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from network.ledger.observers import Booking
from partners.webhooks import backoff, events, signing
from partners.webhooks.verify import (
    SeenWebhooks,
    WebhookVerificationError,
    hmac_signature,
    verify_webhook,
)

# The spec's published vectors. HMAC: standard-webhooks/standard-webhooks,
# libraries/python/tests/test_webhooks.py (test_sign_function and the constants above it).
# Ed25519: libraries/go/webhook_asymmetric_test.go (TestAsymmetricWebhookSign).
SPEC_MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_PAYLOAD = b'{"test": 2432232314}'
SPEC_HMAC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_HMAC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
SPEC_ED25519_PRIVATE = "VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk="
SPEC_ED25519_SIGNATURE = ("v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHe"
                          "YGb7KaaBRdM5WqyeFiL8Ag==")
# The spec's tests use this as a wrong signature (test_invalid_signature_raises_error).
SPEC_WRONG = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="


def _spec_headers(signature: str, timestamp: int = SPEC_TIMESTAMP) -> dict[str, str]:
    return {"webhook-id": SPEC_MSG_ID, "webhook-timestamp": str(timestamp),
            "webhook-signature": signature}


def test_the_hub_signs_the_spec_vectors() -> None:
    secret = base64.b64decode(SPEC_HMAC_SECRET.removeprefix("whsec_"))
    assert signing.signature(signing.HMAC, secret, SPEC_MSG_ID, SPEC_TIMESTAMP,
                             SPEC_PAYLOAD) == SPEC_HMAC_SIGNATURE
    private = base64.b64decode(SPEC_ED25519_PRIVATE)
    assert signing.signature(signing.ED25519, private, SPEC_MSG_ID, SPEC_TIMESTAMP,
                             SPEC_PAYLOAD) == SPEC_ED25519_SIGNATURE


def test_the_sdk_verifier_accepts_the_spec_vectors_and_refuses_tampering() -> None:
    at = SPEC_TIMESTAMP + 10
    assert verify_webhook(_spec_headers(SPEC_HMAC_SIGNATURE), SPEC_PAYLOAD, SPEC_HMAC_SECRET,
                          now=at) == {"test": 2432232314}
    # Without the prefix, as the spec's libraries accept too.
    assert verify_webhook(_spec_headers(SPEC_HMAC_SIGNATURE), SPEC_PAYLOAD,
                          SPEC_HMAC_SECRET.removeprefix("whsec_"), now=at)["test"] == 2432232314
    public = "whpk_" + base64.b64encode(Ed25519PrivateKey.from_private_bytes(
        base64.b64decode(SPEC_ED25519_PRIVATE)).public_key().public_bytes_raw()).decode()
    assert verify_webhook(_spec_headers(SPEC_ED25519_SIGNATURE), SPEC_PAYLOAD, public,
                          now=at)["test"] == 2432232314
    # Several signatures, one right (the spec's multi-signature case), in either scheme.
    mixed = f"{SPEC_WRONG} v2,{SPEC_WRONG[3:]} {SPEC_HMAC_SIGNATURE} {SPEC_WRONG}"
    assert verify_webhook(_spec_headers(mixed), SPEC_PAYLOAD, SPEC_HMAC_SECRET, now=at)
    refusals = [
        (_spec_headers(SPEC_WRONG), SPEC_PAYLOAD, SPEC_HMAC_SECRET, at),
        (_spec_headers(SPEC_HMAC_SIGNATURE), b'{"test": 2432232315}', SPEC_HMAC_SECRET, at),
        (_spec_headers("v1,"), SPEC_PAYLOAD, SPEC_HMAC_SECRET, at),
        # An Ed25519 signature is no HMAC one, nor the reverse.
        (_spec_headers(SPEC_ED25519_SIGNATURE), SPEC_PAYLOAD, SPEC_HMAC_SECRET, at),
        (_spec_headers(SPEC_HMAC_SIGNATURE), SPEC_PAYLOAD, public, at),
        (_spec_headers("v1a,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="), SPEC_PAYLOAD, public,
         at),
        # Too old and too new for the 5 minutes' tolerance (the spec's tests: tolerance + 1 s).
        (_spec_headers(SPEC_HMAC_SIGNATURE), SPEC_PAYLOAD, SPEC_HMAC_SECRET,
         SPEC_TIMESTAMP + 301),
        (_spec_headers(SPEC_HMAC_SIGNATURE), SPEC_PAYLOAD, SPEC_HMAC_SECRET,
         SPEC_TIMESTAMP - 301),
        ({**_spec_headers(SPEC_HMAC_SIGNATURE), "webhook-timestamp": "hello"}, SPEC_PAYLOAD,
         SPEC_HMAC_SECRET, at),
    ]
    for headers, body, key, now in refusals:
        with pytest.raises(WebhookVerificationError):
            verify_webhook(headers, body, key, now=now)
    for missing in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        headers = _spec_headers(SPEC_HMAC_SIGNATURE)
        del headers[missing]
        with pytest.raises(WebhookVerificationError, match=missing):
            verify_webhook(headers, SPEC_PAYLOAD, SPEC_HMAC_SECRET, now=at)


def test_headers_are_read_whatever_their_case_and_a_rotation_signs_with_both_keys() -> None:
    old, new = signing.new_key(signing.HMAC), signing.new_key(signing.HMAC)
    headers = signing.headers(signing.HMAC, [new, old], "msg_x", 1_700_000_000, b"{}")
    assert headers["webhook-signature"].split() == [
        hmac_signature(new, "msg_x", 1_700_000_000, b"{}"),
        hmac_signature(old, "msg_x", 1_700_000_000, b"{}")]
    shouted = {key.upper(): value for key, value in headers.items()}
    for key in (old, new):
        assert verify_webhook(shouted, b"{}", signing.secret_text(key),
                              now=1_700_000_000) == {}


def test_seen_webhooks_handles_each_id_once_within_its_memory() -> None:
    seen = SeenWebhooks(capacity=2)
    assert [seen.first_time(i) for i in ("a", "b", "a", "c", "b", "a")] == [
        True, True, False, True, True, True]  # "b" then "a" fell out of a memory of two


def test_back_off_doubles_with_jitter_up_to_a_ceiling_then_gives_up() -> None:
    assert backoff.retry_wait(1, 0.0) == timedelta(seconds=5)
    assert backoff.retry_wait(1, 0.999999) < timedelta(seconds=10)
    assert backoff.retry_wait(3, 0.0) == timedelta(seconds=20)
    assert backoff.retry_wait(12, 0.0) == timedelta(seconds=10 * 2 ** 10)
    assert backoff.retry_wait(13, 0.0) == timedelta(hours=3)  # the 6-hour ceiling, halved
    waits = [backoff.retry_wait(n, 0.5) for n in range(1, backoff.MAX_ATTEMPTS)]
    assert all(w is not None for w in waits) and waits == sorted(waits)  # type: ignore[type-var]
    assert backoff.retry_wait(backoff.MAX_ATTEMPTS, 0.5) is None
    longest = sum((backoff.retry_wait(n, 0.999999) for n in range(1, backoff.MAX_ATTEMPTS)),
                  timedelta())
    assert timedelta(days=1) < longest < timedelta(days=3)


def test_an_endpoint_is_disabled_after_five_days_of_failures_only() -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    assert not backoff.should_disable(None, now)
    assert not backoff.should_disable(now - timedelta(days=4, hours=23), now)
    assert backoff.should_disable(now - timedelta(days=5), now)
    assert [backoff.is_success(s) for s in (None, 199, 200, 204, 299, 301, 410, 500)] == [
        False, False, True, True, True, False, False, False]


def test_event_bodies_name_what_the_partner_knows_and_nothing_private() -> None:
    at = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    booking = Booking(scope="partner:3", operation="earn", at=at, reference="receipt-9",
                      answer={"entry_id": 41, "kind": "earn", "member_id": 7, "points": 120,
                              "balance": 420, "booked_at": at.isoformat(), "hold_id": None})
    body = json.loads(events.body(events.POINTS_EARNED, events.booking_data(booking), at))
    assert body == {"type": "points.earned", "timestamp": "2026-12-07T09:30:00Z", "data": {
        "transactionId": "UGFydG5lclRyYW5zYWN0aW9uOjQx", "kind": "earn",
        "memberId": "UGFydG5lck1lbWJlcjo3", "points": 120, "balance": 420,
        "reference": "receipt-9", "bookedAt": "2026-12-07T09:30:00+00:00"}}
    assert events.partner_of("partner:12") == 12
    assert events.partner_of("member:12") is None and events.partner_of("system") is None
    assert set(events.OPERATION_EVENTS.values()) <= set(events.EVENT_TYPES)


def test_message_ids_and_keys_are_random_and_well_formed() -> None:
    ids = {signing.new_msg_id() for _ in range(100)}
    assert len(ids) == 100 and all(i.startswith("msg_") and len(i) == 31 for i in ids)
    key = signing.new_key(signing.ED25519)
    assert signing.public_key_text(key).startswith("whpk_")
    assert signing.secret_text(key).startswith("whsec_")
    with pytest.raises(ValueError):
        signing.new_key("rsa")


def test_the_readme_openssl_recipe_computes_the_spec_signature(tmp_path: Path) -> None:
    """README "Webhooks": the curl + openssl recipe, run by bash on the spec's HMAC vector."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    start = readme.index("secret=whsec_")
    recipe = readme[start:readme.index('echo "v1,$sig"', start) + len('echo "v1,$sig"')]
    recipe = recipe.replace("ts=$(date +%s)", f"ts={SPEC_TIMESTAMP}")
    (tmp_path / "body.json").write_bytes(SPEC_PAYLOAD)
    run = subprocess.run(["bash", "-c", recipe], cwd=tmp_path, capture_output=True, text=True,
                         check=True)
    assert run.stdout.split()[-1] == SPEC_HMAC_SIGNATURE


def test_keys_at_rest_open_only_with_the_hubs_secret_key() -> None:
    key = signing.new_key(signing.HMAC)
    sealed = signing.seal("hub-secret", key)
    assert key not in sealed and signing.unseal("hub-secret", sealed) == key
    assert signing.seal("hub-secret", key) != sealed  # a fresh nonce each time
    with pytest.raises(InvalidTag):
        signing.unseal("another-secret", sealed)
