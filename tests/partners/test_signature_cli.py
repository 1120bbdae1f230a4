"""`pointsnet signature sign|verify` from the command line (click's runner, real files)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from partners.signature_cli import signature_group
from partners.signatures import content_digest, load_private_key
from partners.signatures.message import HttpRequest
from partners.signatures.raw_http import render_raw_request
from partners.signatures.signer import sign_request
from tests.partners import rfc9421_vectors as v

SIGNED_B26 = v.TEST_REQUEST.replace(
    b"\r\n\r\n",
    (
        f"\r\nSignature-Input: {v.B26_SIGNATURE_INPUT}"
        f"\r\nSignature: {v.B26_SIGNATURE}\r\n\r\n"
    ).encode(),
    1,
)


def _files(tmp_path: Path, raw: bytes) -> tuple[str, str]:
    key = tmp_path / "pub.pem"
    key.write_text(v.TEST_KEY_ED25519_PUBLIC)
    request = tmp_path / "request.http"
    request.write_bytes(raw)
    return str(key), str(request)


def test_verify_rfc_b26_request(tmp_path: Path) -> None:
    key, request = _files(tmp_path, SIGNED_B26)
    result = CliRunner().invoke(
        signature_group,
        ["verify", "--public-key", key, "--request", request, "--now", "1618884500"],
    )
    assert result.exit_code == 0, result.output
    assert '"@authority"' in result.output
    assert '"@authority": example.com' in result.output
    assert "content-digest: matches the body (sha-512)" in result.output
    assert result.output.rstrip().endswith("result: VALID")


def test_verify_reports_expiry_with_default_clock(tmp_path: Path) -> None:
    key, request = _files(tmp_path, SIGNED_B26)
    result = CliRunner().invoke(
        signature_group, ["verify", "--public-key", key, "--request", request]
    )
    assert result.exit_code == 1
    assert "INVALID SIGNATURE_EXPIRED" in result.output


def test_verify_reports_tampering_and_bad_digest(tmp_path: Path) -> None:
    key, request = _files(tmp_path, SIGNED_B26.replace(b"/foo?", b"/bar?"))
    result = CliRunner().invoke(
        signature_group,
        ["verify", "--public-key", key, "--request", request, "--now", "1618884473"],
    )
    assert result.exit_code == 1 and "INVALID SIGNATURE_INVALID" in result.output
    key, request = _files(tmp_path, SIGNED_B26.replace(b'"world"', b'"WORLD"'))
    result = CliRunner().invoke(
        signature_group,
        ["verify", "--public-key", key, "--request", request, "--now", "1618884473"],
    )
    assert result.exit_code == 1 and "INVALID DIGEST_MISMATCH" in result.output


def test_verify_unsigned_and_unreadable_requests(tmp_path: Path) -> None:
    key, request = _files(tmp_path, v.TEST_REQUEST)
    result = CliRunner().invoke(
        signature_group, ["verify", "--public-key", key, "--request", request]
    )
    assert result.exit_code == 1 and "SIGNATURE_MISSING" in result.output
    key, request = _files(tmp_path, b"nonsense")
    result = CliRunner().invoke(
        signature_group, ["verify", "--public-key", key, "--request", request]
    )
    # Input it cannot read is an error (exit 2), not a verdict on a signature (exit 1).
    assert result.exit_code == 2 and "pointsnet: error: INPUT_UNREADABLE: " in result.output


def test_sign_raw_then_verify_round_trip(tmp_path: Path) -> None:
    private = tmp_path / "key.pem"
    private.write_text(v.TEST_KEY_ED25519_PRIVATE)
    runner = CliRunner()
    signed = runner.invoke(
        signature_group,
        [
            "sign",
            "--private-key",
            str(private),
            "--key-id",
            "pk_1",
            "--url",
            "http://127.0.0.1:8000/graphql",
            "--data",
            '{"query":"{ x }"}',
            "--mutation",
            "--format",
            "raw",
        ],
    )
    assert signed.exit_code == 0, signed.output
    key, request = _files(tmp_path, signed.stdout_bytes)
    result = runner.invoke(
        signature_group, ["verify", "--public-key", key, "--request", request, "--scheme", "http"]
    )
    assert result.exit_code == 0, result.output
    assert '"idempotency-key"' in result.output


def test_sign_prints_a_curl_command(tmp_path: Path) -> None:
    private = tmp_path / "key.pem"
    private.write_text(v.TEST_KEY_ED25519_PRIVATE)
    result = CliRunner().invoke(
        signature_group,
        ["sign", "--private-key", str(private), "--key-id", "pk_1", "--data", '{"query":"{ x }"}'],
    )
    assert result.exit_code == 0
    assert result.output.startswith("curl -sS -X POST http://127.0.0.1:8000/graphql")
    assert "Signature-Input: sig1=" in result.output


def test_verify_prints_the_base_of_a_refused_signature(tmp_path: Path) -> None:
    key, request = _files(tmp_path, SIGNED_B26.replace(b"/foo?", b"/bar?"))
    result = CliRunner().invoke(
        signature_group,
        ["verify", "--public-key", key, "--request", request, "--now", "1618884473"],
    )
    assert result.exit_code == 1
    # The base as the verifier rebuilt it, to diff against what the signer signed.
    assert '"@path": /bar' in result.output and '"@signature-params": ' in result.output
    assert "cryptographic check: FAILED SIGNATURE_INVALID" in result.output


def test_verify_says_an_expired_signature_is_otherwise_correct(tmp_path: Path) -> None:
    key, request = _files(tmp_path, SIGNED_B26)
    result = CliRunner().invoke(
        signature_group,
        ["verify", "--public-key", key, "--request", request, "--now", "1700000000"],
    )
    assert result.exit_code == 1
    assert '"@authority": example.com' in result.output
    assert "cryptographic check: the signature matches the base above" in result.output
    assert "verdict: INVALID SIGNATURE_EXPIRED" in result.output


def _encrypted_private_key(tmp_path: Path) -> str:
    from cryptography.hazmat.primitives import serialization

    from partners.signatures import load_private_key

    path = tmp_path / "enc.pem"
    path.write_bytes(load_private_key(v.TEST_KEY_ED25519_PRIVATE).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    ))
    return str(path)


def test_sign_with_an_unusable_key_file_says_why(tmp_path: Path) -> None:
    public = tmp_path / "pub.pem"
    public.write_text(v.TEST_KEY_ED25519_PUBLIC)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    cases = [
        (_encrypted_private_key(tmp_path), "protected by a passphrase"),
        (str(public), "this is a public key; signing needs the private key"),
        (str(garbage), "not a readable PEM private key"),
    ]
    for path, reason in cases:
        result = CliRunner().invoke(
            signature_group, ["sign", "--private-key", path, "--key-id", "pk_1", "--data", "{}"]
        )
        assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
        (line,) = result.output.splitlines()
        assert line.startswith(f"pointsnet: error: INPUT_UNREADABLE: --private-key {path}: ")
        assert reason in line


def test_verify_with_a_passphrase_protected_key_says_why(tmp_path: Path) -> None:
    _, request = _files(tmp_path, SIGNED_B26)
    result = CliRunner().invoke(
        signature_group,
        ["verify", "--public-key", _encrypted_private_key(tmp_path), "--request", request],
    )
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "INPUT_UNREADABLE: the private key is protected by a passphrase" in result.output


def _signed_raw(covered: list[str], headers: list[tuple[str, str]]) -> bytes:
    """A request to the hub signed by the RFC test key over `covered`, with a nonce and keyid."""
    body = b'{"query":"{ x }"}'
    request = HttpRequest(
        "POST", "http://127.0.0.1:8000/graphql",
        [("Content-Type", "application/json"), ("Content-Digest", content_digest(body)), *headers],
        body,
    )
    signed = sign_request(request, key=load_private_key(v.TEST_KEY_ED25519_PRIVATE),
                          key_id="pk_1", covered=covered)
    return render_raw_request(signed)


def _verify(tmp_path: Path, raw: bytes, *extra: str):  # type: ignore[no-untyped-def]
    key, request = _files(tmp_path, raw)
    return CliRunner().invoke(
        signature_group, ["verify", "--public-key", key, "--request", request, *extra]
    )


def test_as_hub_refuses_what_the_hub_refuses_though_rfc_9421_accepts_it(tmp_path: Path) -> None:
    too_few = _signed_raw(["@method", "@authority"], [])
    plain = _verify(tmp_path, too_few, "--scheme", "http")
    assert plain.exit_code == 0, plain.output
    assert "hub requirements" not in plain.output
    as_hub = _verify(tmp_path, too_few, "--scheme", "http", "--as-hub")
    assert as_hub.exit_code == 1, as_hub.output
    assert "  verdict: VALID" in as_hub.output  # the signature itself is still correct
    assert 'hub requirements: FAILED COMPONENTS_MISSING: the signature must cover "@path"' \
        in as_hub.output
    assert "key status (UNKNOWN_KEY, KEY_REVOKED, KEY_EXPIRED), scopes, nonce replay" \
        in as_hub.output
    assert as_hub.output.rstrip().endswith("result: INVALID")


def test_as_hub_requires_an_idempotency_key_to_be_covered_when_sent(tmp_path: Path) -> None:
    uncovered = _signed_raw(["@method", "@authority", "@path", "content-type", "content-digest"],
                            [("Idempotency-Key", "k-1")])
    result = _verify(tmp_path, uncovered, "--scheme", "http", "--as-hub")
    assert result.exit_code == 1, result.output
    assert 'FAILED COMPONENTS_MISSING: the signature must cover "idempotency-key"' in result.output


def test_as_hub_on_the_rfc_vector_names_the_missing_nonce(tmp_path: Path) -> None:
    result = _verify(tmp_path, SIGNED_B26, "--now", "1618884500", "--as-hub")
    assert result.exit_code == 1, result.output
    assert "hub requirements: FAILED SIGNATURE_PARAMS_MISSING: signature 'sig-b26' lacks " \
        "parameter(s) nonce" in result.output


def test_as_hub_accepts_what_pointsnet_signature_sign_produces(tmp_path: Path) -> None:
    private = tmp_path / "key.pem"
    private.write_text(v.TEST_KEY_ED25519_PRIVATE)
    signed = CliRunner().invoke(
        signature_group,
        ["sign", "--private-key", str(private), "--key-id", "pk_1", "--url",
         "http://127.0.0.1:8000/graphql", "--data", '{"query":"{ x }"}', "--mutation",
         "--format", "raw"],
    )
    assert signed.exit_code == 0, signed.output
    result = _verify(tmp_path, signed.stdout_bytes, "--scheme", "http", "--as-hub")
    assert result.exit_code == 0, result.output
    assert "  hub requirements: OK" in result.output
    assert result.output.rstrip().endswith("result: VALID")
    # The same request an hour later is outside the hub's 300 s window.
    later = str(int(signed.stdout_bytes.split(b"created=")[1].split(b";")[0]) + 3600)
    stale = _verify(tmp_path, signed.stdout_bytes, "--scheme", "http", "--as-hub", "--now", later)
    assert stale.exit_code == 1 and "hub requirements: FAILED SIGNATURE_EXPIRED" in stale.output


def _sign(tmp_path: Path, *args: str):  # type: ignore[no-untyped-def]
    private = tmp_path / "key.pem"
    private.write_text(v.TEST_KEY_ED25519_PRIVATE)
    return CliRunner().invoke(
        signature_group, ["sign", "--private-key", str(private), "--key-id", "pk_1", *args]
    )


def _batch_body(lines: int) -> bytes:
    import json

    from tests.partners.conftest import operation

    items = [{"cardNumber": "7012345678901232", "amount": 1250, "currency": "EUR",
              "reference": f"online-shop-eu/orders/2026-10-31/{i:06d}/line-001"}
             for i in range(lines)]
    return json.dumps({"query": operation("AwardPointsBatch"),
                       "variables": {"input": {"lines": items}}}).encode()


def test_sign_with_data_from_a_file_lets_curl_read_the_file(tmp_path: Path) -> None:
    import shlex

    body = _batch_body(1000)
    assert len(body) > 128 * 1024  # more than one argument may hold on Linux
    path = tmp_path / "big batch.json"
    path.write_bytes(body)
    result = _sign(tmp_path, "--data", f"@{path}")
    assert result.exit_code == 0, result.output
    # Was: the body inline, and curl failed with "Argument list too long".
    words = shlex.split(result.output)
    assert words[words.index("--data-binary") + 1] == f"@{path}"
    assert len(result.output) < 4096
    headers = dict(words[i + 1].split(": ", 1) for i, word in enumerate(words) if word == "-H")
    assert headers["Content-Digest"] == content_digest(body)  # signed over the file's bytes
    assert "Idempotency-Key" in headers  # a mutation, detected from the body
    inline = _sign(tmp_path, "--data", '{"query":"{ x }"}')
    words = shlex.split(inline.output)
    assert words[words.index("--data-binary") + 1] == '{"query":"{ x }"}'


def test_sign_with_a_missing_data_file_says_so_in_one_line(tmp_path: Path) -> None:
    result = _sign(tmp_path, "--data", "@missing.json")
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    (line,) = result.output.splitlines()
    assert line == ("pointsnet: error: INPUT_UNREADABLE: --data @missing.json: No such file or "
                    "directory")


def test_sign_refuses_a_non_ascii_idempotency_key_as_a_usage_error(tmp_path: Path) -> None:
    for key in ("reçu 1", " ", "k" * 193):
        result = _sign(tmp_path, "--data", '{"query":"mutation { x }"}', "--idempotency-key", key)
        # Was: a ComponentError traceback from the signer.
        assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
        assert "Invalid value for '--idempotency-key': an Idempotency-Key is 1 to 192 printable " \
               "ASCII characters" in result.output
    assert _sign(tmp_path, "--data", "{}", "--idempotency-key", "k" * 192).exit_code == 0


def _idempotency_header(tmp_path: Path, body: str, *args: str) -> str | None:
    result = _sign(tmp_path, "--data", body, "--format", "headers", *args)
    assert result.exit_code == 0, result.output
    headers = dict(line.split(": ", 1) for line in result.output.splitlines())
    return headers.get("Idempotency-Key")


def test_sign_detects_a_mutation_from_the_body(tmp_path: Path) -> None:
    import json

    # Was: no Idempotency-Key without --mutation, and the hub answered IDEMPOTENCY_KEY_MISSING.
    assert _idempotency_header(tmp_path, '{"query":"mutation M { x }"}')
    two = "query Q { x } mutation M { y }"
    assert _idempotency_header(tmp_path, json.dumps({"query": two, "operationName": "M"}))
    assert _idempotency_header(tmp_path, json.dumps({"query": two, "operationName": "Q"})) is None
    assert _idempotency_header(tmp_path, '{"query":"{ x }"}') is None
    assert _idempotency_header(tmp_path, "not json") is None
    # --mutation still sends one whatever the body; a given key is used as is.
    assert _idempotency_header(tmp_path, '{"query":"{ x }"}', "--mutation")
    assert _idempotency_header(tmp_path, '{"query":"mutation { x }"}',
                               "--idempotency-key", "till-3/receipt-981") == "till-3/receipt-981"


def _signed_at(created: int) -> bytes:
    body = b'{"query":"{ x }"}'
    request = HttpRequest(
        "POST", "http://127.0.0.1:8000/graphql",
        [("Content-Type", "application/json"), ("Content-Digest", content_digest(body))], body,
    )
    return render_raw_request(sign_request(
        request, key=load_private_key(v.TEST_KEY_ED25519_PRIVATE), key_id="pk_1",
        covered=["@method", "@authority", "@path"], created=created, nonce="n" * 16,
    ))


def test_verify_says_a_created_in_milliseconds_is_in_the_wrong_unit(tmp_path: Path) -> None:
    now = 1795433261
    for extra in ((), ("--as-hub",)):
        result = _verify(tmp_path, _signed_at(now * 1000 + 976), "--scheme", "http",
                         "--now", str(now), *extra)
        assert result.exit_code == 1, result.output
        # Was: "created=1795433261976 is 1793637828715 s in the future; check the signer's clock".
        assert ("SIGNATURE_EXPIRED: created must be Unix time in seconds; 1795433261976 looks "
                "like milliseconds") in result.output
    # Seconds merely ahead of the clock still blame the clock.
    ahead = _verify(tmp_path, _signed_at(now + 3600), "--scheme", "http", "--now", str(now))
    assert "SIGNATURE_EXPIRED: created=1795436861 is 3600 s in the future; check the signer's " \
           "clock" in ahead.output


def test_max_skew_and_as_hub_together_are_a_usage_error(tmp_path: Path) -> None:
    result = _verify(tmp_path, SIGNED_B26, "--as-hub", "--max-skew", "3600")
    assert result.exit_code == 2, result.output
    assert "--max-skew cannot be combined with --as-hub, which applies the hub's own 300 s " \
           "window" in result.output
