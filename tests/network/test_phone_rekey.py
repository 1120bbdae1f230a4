"""Phones stored before they were read as E.164 are rewritten once (members.rekey_phones)."""

from __future__ import annotations

from sqlalchemy import select, update

from network import members, pii
from network.db.engine import Database
from network.db.schema import members as members_table
from tests.network import wallet_world as ww


def _store_as_typed(db: Database, member_id: int, typed: str) -> None:
    """What the hub stored before: the digits as typed, hashed as typed."""
    db.write(lambda c: c.execute(update(members_table).where(members_table.c.id == member_id)
                                 .values(phone_cipher=pii.encrypt(ww.SECRET, typed),
                                         phone_lookup=pii.lookup_hash(ww.SECRET, typed))))


def test_a_national_number_stored_as_typed_is_found_again_after_the_rekey(db):
    sara = ww.enrol(db, email="sara@example.com", phone="+989121234567", name="Sara")
    ali = ww.enrol(db, email="ali@example.com", phone="+989120000001", name="Ali")
    maryam = ww.enrol(db, email="maryam@example.com", phone="+989351112233", name="Maryam")
    twin = ww.enrol(db, email="twin@example.com", phone="+989350000000", name="Twin")
    _store_as_typed(db, sara, "09121234567")
    _store_as_typed(db, twin, "09351112233")  # Maryam's number, typed the other way
    assert db.read(members.find, ww.SECRET, phone="0912 123 4567", country="IR") is None

    report = members.rekey_phones(db, secret=ww.SECRET, country="IR")
    assert (report.checked, report.rekeyed, report.conflicts, report.invalid) == \
        (4, 1, [(twin, maryam)], [])
    found = db.read(members.find, ww.SECRET, phone="0912 123 4567", country="IR")
    assert found is not None and found.id == sara and found.phone == "+989121234567"
    assert db.read(members.find, ww.SECRET, phone="+989120000001", country="IR").id == ali
    again = members.rekey_phones(db, secret=ww.SECRET, country="IR")
    assert (again.rekeyed, again.conflicts) == (0, [(twin, maryam)])
    lookups = db.read(lambda c: c.execute(select(members_table.c.phone_lookup)).scalars().all())
    assert len(lookups) == len(set(lookups)) == 4


def test_the_command_rewrites_and_reports_by_member_id(db, monkeypatch):
    from click.testing import CliRunner

    from infra.cli import main
    from network import config

    sara = ww.enrol(db, email="sara@example.com", phone="+989121234567", name="Sara")
    _store_as_typed(db, sara, "09121234567")
    for name, value in {"DATABASE_URL": db.url, "SECRET_KEY": ww.SECRET,
                        "DEFAULT_COUNTRY": "IR"}.items():
        monkeypatch.setenv(config.PREFIX + name, value)
    config.get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["members", "rekey-phones"])
    finally:
        config.get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["checked 1 phones, rewrote 1"]
    found = db.read(members.find, ww.SECRET, phone="09121234567", country="IR")
    assert found is not None and found.id == sara
