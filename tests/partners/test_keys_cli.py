"""`pointsnet partners …`: onboarding and the key lifecycle, against a real database."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import click
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
    manager = run("partners", "keys", "create", "bakery", "--scopes", "read campaigns")
    manager_id = re.search(r"key id: (\S+)", manager).group(1)  # type: ignore[union-attr]
    assert db.read(find_key, manager_id).scopes == {"read", "campaigns"}  # type: ignore[union-attr]
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
    assert again.exit_code == 2 and "DUPLICATE_CODE" in again.output
    missing = runner.invoke(main, ["partners", "keys", "create", "nobody"])
    assert missing.exit_code == 2 and "no partner" in missing.output
    bad_scope = runner.invoke(main, ["partners", "keys", "create", "dup", "--scopes", "admin"])
    assert bad_scope.exit_code == 2 and "UNKNOWN_SCOPE" in bad_scope.output
    private = tmp_path / "priv.pem"
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from partners.signatures.algorithms import private_key_pem

    private.write_text(private_key_pem(Ed25519PrivateKey.generate()))
    leaked = runner.invoke(
        main, ["partners", "keys", "register", "dup", "--public-key", str(private)]
    )
    assert leaked.exit_code == 2 and "public key only" in leaked.output
    revoked = runner.invoke(main, ["partners", "keys", "revoke", "pk_nope"])
    assert revoked.exit_code == 2 and "KEY_NOT_FOUND" in revoked.output
    bad_rotation = runner.invoke(main, ["partners", "rotate", "pk_nope"])
    assert bad_rotation.exit_code == 2


def test_rotating_a_revoked_key_is_refused(db: Database) -> None:
    from decimal import Decimal

    from network.ledger.errors import InvalidInput
    from partners.keys import create_key, revoke_key
    from partners.registry import create_partner
    from partners.terms import Terms

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


def test_an_empty_scope_list_is_refused_and_writes_nothing(run, db: Database,  # type: ignore[no-untyped-def]
                                                          tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    run("partners", "create", "cafe", "--name", "Cafe")
    out = tmp_path / "e.pem"
    empty = run.runner.invoke(
        main, ["partners", "keys", "create", "cafe", "--scopes", "", "--out", str(out)]
    )
    assert empty.exit_code == 2 and "at least one scope" in empty.output
    assert not out.exists()
    public = tmp_path / "pub.pem"
    public.write_text(public_key_pem(Ed25519PrivateKey.generate().public_key()))
    registered = run.runner.invoke(
        main, ["partners", "keys", "register", "cafe", "--public-key", str(public),
               "--scopes", " , "],
    )
    assert registered.exit_code == 2 and "at least one scope" in registered.output
    assert run("partners", "keys", "list", "cafe") == ""
    # Omitting --scopes still gives the documented default, every scope.
    assert "scopes: earn enrol read redeem" in run("partners", "keys", "create", "cafe")


def test_expires_in_days_must_be_positive(run, db: Database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("partners", "create", "cafe", "--name", "Cafe")
    for days in ("0", "-2"):
        out = tmp_path / f"k{days}.pem"
        refused = run.runner.invoke(main, ["partners", "keys", "create", "cafe",
                                           "--expires-in-days", days, "--out", str(out)])
        # A click usage error (exit 2), the same one-line error as for a huge number of days.
        assert refused.exit_code == 2, refused.output
        assert (f"Invalid value for '--expires-in-days': {days} is not in the range "
                "1<=x<=36500") in refused.output
        assert not out.exists()
    assert run("partners", "keys", "list", "cafe") == ""
    run("partners", "keys", "create", "cafe", "--expires-in-days", "1")
    key = db.read(find_key, _only_key_id(run, "cafe"))
    assert key is not None and key.expires_at is not None
    assert timedelta(hours=23) < key.expires_at - utcnow() <= timedelta(days=1)


def _only_key_id(run, partner: str) -> str:  # type: ignore[no-untyped-def]
    (line,) = run("partners", "keys", "list", partner).splitlines()
    return line.split()[0]


def _partner_and_key(db: Database, now, **kwargs):  # type: ignore[no-untyped-def]
    from decimal import Decimal

    from partners.keys import create_key
    from partners.registry import create_partner
    from partners.terms import Terms

    return db.write(
        lambda c: create_key(
            c,
            party_id=create_partner(c, code="p", name="P", terms=Terms(Decimal(1)), now=now).id,
            now=now,
            **kwargs,
        )
    )[0]


def test_rotating_an_expiring_key_gives_a_key_with_the_same_lifetime(db: Database) -> None:
    created = utcnow()
    key = _partner_and_key(db, created, expires_at=created + timedelta(days=3))
    later = created + timedelta(days=1)
    # The old key expires within the overlap: its successor used to be issued without expiry.
    new, _, old = db.write(
        lambda c: rotate_key(c, key_id=key.key_id, now=later, overlap=timedelta(days=7))
    )
    assert new.expires_at == later + timedelta(days=3)
    assert old.expires_at == created + timedelta(days=3)  # already sooner than the overlap


def test_rotating_a_key_that_never_expires_keeps_it_so(db: Database) -> None:
    now = utcnow()
    key = _partner_and_key(db, now)
    new, _, old = db.write(lambda c: rotate_key(c, key_id=key.key_id, now=now))
    assert new.expires_at is None
    assert old.expires_at == now + timedelta(days=7)


def test_a_negative_overlap_is_refused_and_zero_stops_the_old_key_now(
    run, db: Database, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    from network.ledger.errors import InvalidInput

    now = utcnow()
    key = _partner_and_key(db, now)
    out = tmp_path / "new.pem"
    refused = run.runner.invoke(
        main, ["partners", "rotate", key.key_id, "--overlap-days", "-3", "--out", str(out)]
    )
    assert refused.exit_code == 2, refused.output
    assert "'--overlap-days': -3 is not in the range 0<=x<=3650" in refused.output
    assert not out.exists()
    with pytest.raises(InvalidInput, match="cannot be negative"):
        db.write(lambda c: rotate_key(c, key_id=key.key_id, now=now, overlap=timedelta(-1)))
    assert db.read(list_keys, key.party_id) == [key]  # nothing written
    run("partners", "rotate", key.key_id, "--overlap-days", "0", "--out", str(out))
    old = db.read(find_key, key.key_id)
    assert old is not None and old.status(utcnow()) == "expired"


def test_registering_an_unreadable_or_protected_key_file(run, db: Database,  # type: ignore[no-untyped-def]
                                                        tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    run("partners", "create", "cafe", "--name", "Cafe")
    encrypted = tmp_path / "enc.pem"
    encrypted.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    ))
    binary = tmp_path / "key.der"
    binary.write_bytes(bytes(range(256)))
    for path, message in ((encrypted, "public key only"), (binary, "not a readable PEM")):
        result = run.runner.invoke(
            main, ["partners", "keys", "register", "cafe", "--public-key", str(path)]
        )
        assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
        assert message in result.output
    assert run("partners", "keys", "list", "cafe") == ""


def test_huge_day_counts_are_usage_errors_not_tracebacks(run, db: Database,  # type: ignore[no-untyped-def]
                                                         tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    run("partners", "create", "cafe", "--name", "Cafe")
    public = tmp_path / "pub.pem"
    public.write_text(public_key_pem(Ed25519PrivateKey.generate().public_key()))
    huge = str(10**9)
    for args in (["keys", "create", "cafe"], ["keys", "register", "cafe", "--public-key",
                                              str(public)]):
        result = run.runner.invoke(main, ["partners", *args, "--expires-in-days", huge])
        # Was an OverflowError from utcnow() + timedelta(days=10**9).
        assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
        assert f"'--expires-in-days': {huge} is not in the range 1<=x<=36500" in result.output
    assert run("partners", "keys", "list", "cafe") == ""
    # The largest allowed value still works: a key expiring in 100 years.
    run("partners", "keys", "create", "cafe", "--expires-in-days", "36500")
    key_id = _only_key_id(run, "cafe")
    rotated = run.runner.invoke(main, ["partners", "rotate", key_id, "--overlap-days", huge])
    assert rotated.exit_code == 2 and isinstance(rotated.exception, SystemExit), rotated.output
    assert f"'--overlap-days': {huge} is not in the range 0<=x<=3650" in rotated.output
    party_id = db.read(find_key, key_id).party_id  # type: ignore[union-attr]
    assert [k.key_id for k in db.read(list_keys, party_id)] == [key_id]  # nothing rotated


def test_out_never_overwrites_a_file_and_a_refusal_creates_no_key(run, db: Database,  # type: ignore[no-untyped-def]
                                                                  tmp_path: Path) -> None:
    run("partners", "create", "cafe", "--name", "Cafe")
    precious = tmp_path / "cafe-key.pem"
    precious.write_text("the only copy of an active private key\n")
    refused = run.runner.invoke(main, ["partners", "keys", "create", "cafe", "--out",
                                       str(precious)])
    # Was: the file silently replaced by a new key.
    assert refused.exit_code == 2 and isinstance(refused.exception, SystemExit), refused.output
    (line,) = refused.output.splitlines()
    assert line.startswith(f"pointsnet: error: KEY_FILE_EXISTS: {precious} already exists")
    assert "no key was created" in line
    assert precious.read_text() == "the only copy of an active private key\n"
    assert run("partners", "keys", "list", "cafe") == ""
    missing_dir = tmp_path / "no-such-dir" / "k.pem"
    unwritable = run.runner.invoke(main, ["partners", "keys", "create", "cafe", "--out",
                                          str(missing_dir)])
    assert unwritable.exit_code == 2 and "no key was created" in unwritable.output
    assert run("partners", "keys", "list", "cafe") == ""

    run("partners", "keys", "create", "cafe", "--out", str(tmp_path / "first.pem"))
    key_id = _only_key_id(run, "cafe")
    for command in (["partners", "rotate"], ["partners", "keys", "rotate"]):
        rotated = run.runner.invoke(main, [*command, key_id, "--out", str(precious)])
        assert rotated.exit_code == 2 and "already exists" in rotated.output, rotated.output
    assert precious.read_text() == "the only copy of an active private key\n"
    old = db.read(find_key, key_id)
    assert old is not None and old.expires_at is None and old.rotated_to is None  # untouched
    assert _only_key_id(run, "cafe") == key_id


def test_a_key_is_rotated_once_and_its_successor_is_listed(run, db: Database) -> None:  # type: ignore[no-untyped-def]
    from network.ledger.errors import InvalidInput

    now = utcnow()
    key = _partner_and_key(db, now)
    first, _, old = db.write(lambda c: rotate_key(c, key_id=key.key_id, now=now))
    assert first.expires_at is None and old.rotated_to == first.key_id
    later = now + timedelta(days=1)
    # Was: a second successor, given the lifetime of the already-shortened old key (7 days).
    with pytest.raises(InvalidInput) as info:
        db.write(lambda c: rotate_key(c, key_id=key.key_id, now=later))
    assert info.value.code == "KEY_ALREADY_ROTATED"
    assert f"rotate {first.key_id} instead" in info.value.message
    assert [k.key_id for k in db.read(list_keys, key.party_id)] == [key.key_id, first.key_id]
    refused = run.runner.invoke(main, ["partners", "keys", "rotate", key.key_id])
    assert refused.exit_code == 2 and "KEY_ALREADY_ROTATED" in refused.output

    second, _, _ = db.write(lambda c: rotate_key(c, key_id=first.key_id, now=later))
    assert second.expires_at is None  # the chain goes on; each link never expires
    lines = run("partners", "keys", "list", "p").splitlines()
    assert [line.split()[0] for line in lines] == [key.key_id, first.key_id, second.key_id]
    assert f"successor={first.key_id}" in lines[0] and f"successor={second.key_id}" in lines[1]
    assert "successor=-" in lines[2]


def _help(*command: str) -> str:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0, result.output
    return result.output


def test_partners_rotate_is_a_documented_alias_of_keys_rotate() -> None:
    alias = _help("partners", "rotate")
    assert "Alias of `pointsnet partners keys rotate`" in alias
    canonical = _help("partners", "keys", "rotate")
    assert "Issue a successor to KEY_ID" in canonical
    assert alias[alias.index("Options:"):] == canonical[canonical.index("Options:"):]


def test_keys_list_columns_line_up(run, db: Database) -> None:  # type: ignore[no-untyped-def]
    run("partners", "create", "cafe", "--name", "Cafe")
    run("partners", "keys", "create", "cafe", "--scopes", "read", "--label", "till 1")
    run("partners", "keys", "create", "cafe", "--expires-in-days", "30")
    lines = run("partners", "keys", "list", "cafe").splitlines()
    assert len(lines) == 2
    for column in ("scopes=", "expires=", "successor=", "label="):
        # Was: every column after a short scope list or "never" started further left.
        assert lines[0].index(column) == lines[1].index(column), lines
    assert all(line == line.rstrip() for line in lines)


def test_every_onboarding_and_serve_option_has_help() -> None:
    from infra.cli import serve
    from partners.cli import create_command

    # --name and --allow-explicit-points say what they are by their names alone.
    for command in (create_command, serve):
        undocumented = [param.name for param in command.params
                        if isinstance(param, click.Option) and not param.help
                        and param.name not in ("name", "allow_explicit_points")]
        assert undocumented == [], (command.name, undocumented)
    assert "Minor units per point this partner pays a charity" in " ".join(
        _help("partners", "create").split())
    no_workers = CliRunner().invoke(main, ["serve", "--workers", "0"])
    assert no_workers.exit_code == 2 and "0 is not in the range x>=1" in no_workers.output
