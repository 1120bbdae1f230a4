"""`pointsnet partners …`: onboarding and the key lifecycle, against a real database."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from infra.cli import main
from network.clock import utcnow
from network.db.engine import Database
from partners.keys import find_key, list_keys, rotate_key
from partners.signatures.algorithms import load_private_key, public_key_pem


@pytest.fixture
def run(db: Database, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("POINTSNET_DATABASE_URL", db.url)
    runner = CliRunner()

    def invoke(*args: str) -> str:
        result = runner.invoke(main, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    invoke.runner = runner  # type: ignore[attr-defined]
    return invoke


def test_create_partner_and_keys_lifecycle(run, db: Database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = run(
        "partners",
        "create",
        "bakery",
        "--name",
        "Bakery",
        "--earn-rate",
        "2.5",
        "--pending-days",
        "3",
    )
    party_id = int(re.search(r"id (\d+)", out).group(1))  # type: ignore[union-attr]
    created = run(
        "partners", "keys", "create", "bakery", "--scopes", "read earn", "--label", "till 1"
    )
    key_id = re.search(r"key id: (\S+)", created).group(1)  # type: ignore[union-attr]
    pem = created[created.index("-----BEGIN") : created.index("-----END PRIVATE KEY-----") + 25]
    stored = db.read(find_key, key_id)
    assert stored is not None and stored.party_id == party_id
    assert stored.scopes == {"read", "earn"}
    assert stored.public_key_pem == public_key_pem(load_private_key(pem).public_key())
    listing = run("partners", "keys", "list", "bakery")
    assert key_id in listing and "active" in listing
    run("partners", "keys", "revoke", key_id)
    assert "revoked" in run("partners", "keys", "list", str(party_id))


def test_register_own_public_key_and_rotate(run, db: Database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    run("partners", "create", "telco", "--name", "Telco")
    public = tmp_path / "pub.pem"
    public.write_text(public_key_pem(Ed25519PrivateKey.generate().public_key()))
    out = run("partners", "keys", "register", "telco", "--public-key", str(public))
    key_id = re.search(r"key id: (\S+)", out).group(1)  # type: ignore[union-attr]
    new_file = tmp_path / "new.pem"
    rotated = run("partners", "rotate", key_id, "--overlap-days", "2", "--out", str(new_file))
    assert "BEGIN PRIVATE KEY" not in rotated and new_file.stat().st_mode & 0o777 == 0o600
    load_private_key(new_file.read_text())
    now = utcnow()
    keys = db.read(list_keys, db.read(find_key, key_id).party_id)  # type: ignore[union-attr]
    assert [k.status(now) for k in keys] == ["active", "active"]
    old = next(k for k in keys if k.key_id == key_id)
    assert old.expires_at is not None and old.expires_at <= now + timedelta(days=2)
    assert [k.status(now + timedelta(days=3)) for k in keys] == ["expired", "active"]


def test_cli_errors(run, db: Database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runner = run.runner
    run("partners", "create", "dup", "--name", "Dup")
    again = runner.invoke(main, ["partners", "create", "dup", "--name", "Dup"])
    assert again.exit_code == 1 and "DUPLICATE_CODE" in again.output
    missing = runner.invoke(main, ["partners", "keys", "create", "nobody"])
    assert missing.exit_code == 1 and "no partner" in missing.output
    bad_scope = runner.invoke(main, ["partners", "keys", "create", "dup", "--scopes", "admin"])
    assert bad_scope.exit_code == 1 and "UNKNOWN_SCOPE" in bad_scope.output
    private = tmp_path / "priv.pem"
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from partners.signatures.algorithms import private_key_pem

    private.write_text(private_key_pem(Ed25519PrivateKey.generate()))
    leaked = runner.invoke(
        main, ["partners", "keys", "register", "dup", "--public-key", str(private)]
    )
    assert leaked.exit_code == 1 and "public key only" in leaked.output
    revoked = runner.invoke(main, ["partners", "keys", "revoke", "pk_nope"])
    assert revoked.exit_code == 1 and "KEY_NOT_FOUND" in revoked.output
    bad_rotation = runner.invoke(main, ["partners", "rotate", "pk_nope"])
    assert bad_rotation.exit_code == 1


def test_rotating_a_revoked_key_is_refused(db: Database) -> None:
    from decimal import Decimal

    from network.ledger.errors import InvalidInput
    from partners.contracts import Terms
    from partners.keys import create_key, revoke_key
    from partners.registry import create_partner

    now = utcnow()
    key, _ = db.write(
        lambda c: create_key(
            c,
            party_id=create_partner(c, code="p", name="P", terms=Terms(Decimal(1)), now=now).id,
            now=now,
        )
    )
    db.write(revoke_key, key.key_id, now)
    with pytest.raises(InvalidInput) as info:
        db.write(lambda c: rotate_key(c, key_id=key.key_id, now=now))
    assert info.value.code == "KEY_NOT_ACTIVE"
