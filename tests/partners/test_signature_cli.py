"""`pointsnet signature sign|verify` from the command line (click's runner, real files)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from partners.signature_cli import signature_group
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
    assert result.exit_code == 1 and "INPUT_UNREADABLE" in result.output


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
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        (line,) = result.output.splitlines()
        assert line.startswith(f"error: {path}: ") and reason in line


def test_verify_with_a_passphrase_protected_key_says_why(tmp_path: Path) -> None:
    _, request = _files(tmp_path, SIGNED_B26)
    result = CliRunner().invoke(
        signature_group,
        ["verify", "--public-key", _encrypted_private_key(tmp_path), "--request", request],
    )
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "INPUT_UNREADABLE: the private key is protected by a passphrase" in result.output
