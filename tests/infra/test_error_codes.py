"""The error-code contract: one error base, every mutation through one helper, each mutation's
codes published as an enum generated from the error classes it declares, and the README's
tables of codes equal to the schema's."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import graphene
import pytest

from infra.schema import Mutation, error_codes, error_codes_table, mutation_groups, schema
from network.auth import AuthError
from network.errors import HubError, codes_of
from network.gql.errors import UserErrors
from network.gql.mutation import HubMutation, run_mutation
from network.ledger.errors import (
    IdempotencyInProgress,
    InsufficientPoints,
    InvalidAmount,
    InvalidInput,
    LedgerError,
    MemberNotFound,
)
from network.wallet.errors import WalletError
from settlement.errors import SettlementError

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _all_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_all_subclasses(sub)]
    return found


def _mutation_classes() -> dict[str, type[HubMutation]]:
    """Each root mutation field -> the class whose `mutate` resolves it."""
    found = {}
    for name, field in Mutation._meta.fields.items():
        owner = getattr(field.resolver, "__self__", None)
        found[graphene.utils.str_converters.to_camel_case(name)] = owner
    return found


def test_every_domain_error_is_one_hub_error_shape() -> None:
    errors = [LedgerError("m", field="f", code="C"), WalletError("C", "m", field="f"),
              SettlementError("C", "m", "f"), MemberNotFound("m", field="f", code="C")]
    for error in errors:
        assert isinstance(error, HubError)
        assert error.as_dict() == {"field": "f", "code": "C", "message": "m"}
    auth = AuthError(401, "SIGNATURE_EXPIRED", "too old")
    assert isinstance(auth, HubError)
    assert (auth.code, auth.message, auth.field, auth.status) == (
        "SIGNATURE_EXPIRED", "too old", None, 401)


def test_every_mutation_runs_through_hub_mutation() -> None:
    classes = _mutation_classes()
    assert classes  # the schema has mutations
    for name, cls in classes.items():
        assert isinstance(cls, type) and issubclass(cls, HubMutation), name


def test_each_enum_is_generated_from_the_declared_error_classes() -> None:
    published = error_codes()
    for name, cls in _mutation_classes().items():
        enum, values = published[name]
        assert values == cls.errors.codes, name
        assert enum == (f"{cls.errors.name}ErrorCode" if values else None), name


def test_a_family_selection_names_only_codes_the_family_declares() -> None:
    assert WalletError.only("INVALID_ID").codes == ("INVALID_ID",)
    with pytest.raises(ValueError, match="WalletError declares no code NOT_A_CODE"):
        WalletError.only("INVALID_ID", "NOT_A_CODE")
    assert codes_of(InsufficientPoints, WalletError.only("INSUFFICIENT_POINTS", "RATE_LIMITED"),
                    MemberNotFound) == ("INSUFFICIENT_POINTS", "RATE_LIMITED", "MEMBER_NOT_FOUND")


class _Payload(graphene.ObjectType):
    done = graphene.Boolean()
    user_errors = graphene.List(graphene.String)


_ERRORS = UserErrors("TestOnly", InsufficientPoints, InvalidInput)


def test_run_mutation_turns_a_declared_refusal_into_user_errors() -> None:
    def refuse() -> _Payload:
        raise InsufficientPoints("only 3 points", field="idempotencyKey")

    payload = run_mutation(_Payload, _ERRORS, refuse, renamed={"idempotencyKey": "Key"},
                           refused_with=lambda error: {"done": False})
    assert payload.done is False
    [error] = payload.user_errors
    assert (error.field, error.code, error.message) == ("Key", "INSUFFICIENT_POINTS",
                                                        "only 3 points")
    # An instance's own code counts, whatever its class (raise sites that pass code=).
    payload = run_mutation(_Payload, _ERRORS, lambda: (_ for _ in ()).throw(
        LedgerError("x", code="INVALID_INPUT")))
    assert payload.user_errors[0].code == "INVALID_INPUT"


def test_run_mutation_lets_undeclared_codes_and_in_progress_through(
        caplog: pytest.LogCaptureFixture) -> None:
    def in_progress() -> _Payload:
        raise IdempotencyInProgress("still running")

    with pytest.raises(IdempotencyInProgress):
        run_mutation(_Payload, _ERRORS, in_progress)
    assert not caplog.records  # meant to reach the endpoint: HTTP 409

    def undeclared() -> _Payload:
        raise MemberNotFound("no member")

    with caplog.at_level(logging.ERROR, logger="pointsnet.graphql"), \
            pytest.raises(MemberNotFound):
        run_mutation(_Payload, _ERRORS, undeclared)
    [record] = caplog.records
    assert record.undeclared_code == "MEMBER_NOT_FOUND"  # type: ignore[attr-defined]
    caplog.clear()  # this test means it; the suite-wide check must not fail it


def test_no_mutation_has_an_empty_enum_and_wire_values_are_the_codes() -> None:
    sdl = str(schema)
    for _name, (enum, values) in error_codes().items():
        if enum is None:
            continue
        block = re.search(rf"enum {enum} {{\n(.*?)\n}}", sdl, re.S)
        assert block is not None, enum
        assert tuple(line.strip() for line in block.group(1).splitlines()) == values


@pytest.mark.parametrize("group", ["partner", "member", "staff"])
def test_readme_tables_of_codes_match_the_schema(group: str) -> None:
    block = re.search(rf"<!-- codes:{group} -->\n(.*?)<!-- /codes:{group} -->", README, re.S)
    assert block is not None, f"README has no <!-- codes:{group} --> table"
    assert block.group(1) == error_codes_table(mutation_groups()[group]), (
        f"README's {group} table of codes is out of date: `pointsnet schema codes {group}`")


def _meaning_table() -> set[str]:
    """The codes of the README's table of business refusals (code | where | meaning)."""
    start = README.index("| code | where | meaning |")
    rows = README[start:].split("\n\n", 1)[0].splitlines()[2:]
    return {code for row in rows for code in re.findall(r"`([A-Z_]+)`", row.split("|")[1])}


def test_readme_explains_every_partner_code_and_only_real_codes() -> None:
    explained = _meaning_table()
    published = error_codes()
    partner_codes = {code for name in mutation_groups()["partner"]
                     for code in published[name][1]}
    assert partner_codes - explained == set(), "codes a partner can get that README lacks"
    declared = {code for cls in _all_subclasses(HubError) for code in cls.codes}
    assert explained - declared == set(), "README explains codes no error class declares"


ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("family", [WalletError, SettlementError], ids=lambda f: f.__name__)
def test_a_family_declares_every_code_its_raise_sites_name(family: type[HubError]) -> None:
    """WalletError and SettlementError take their code at the raise site: each such literal
    must be one the family lists, or the mutations' enums could not select it."""
    call = re.compile(rf"\b{family.__name__}\(\s*(f?)\"([^\"]+)\"")
    named: set[str] = set()
    for package in ("network", "partners", "settlement", "infra"):
        for path in (ROOT / package).rglob("*.py"):
            for is_f, code in call.findall(path.read_text()):
                # f"{kind.upper()}_TAKEN" names one code per kind of contact
                named |= ({f"{kind}{code.split('}', 1)[1]}" for kind in ("EMAIL", "PHONE")}
                          if is_f else {code})
    assert len(named) > 10  # the raise sites were found
    assert named - set(family.codes) == set()


def test_a_batch_line_with_an_undeclared_code_keeps_it_in_the_message(
        caplog: pytest.LogCaptureFixture) -> None:
    """Other lines may be booked by then, so the line cannot propagate; it is still answered,
    under a code of the enum, and logged (which fails any other test it happens in)."""
    from partners.gql.earn import _line_errors

    [error] = _line_errors(3, LedgerError("odd", field="amount", code="NOT_DECLARED"))
    assert (error.field, error.code, error.message) == ("lines.3.amount", "INVALID_INPUT",
                                                        "NOT_DECLARED: odd")
    assert [r.undeclared_code for r in caplog.records] == ["NOT_DECLARED"]  # type: ignore[attr-defined]
    caplog.clear()
    [error] = _line_errors(3, InvalidAmount("zero", field="points"))
    assert (error.field, error.code) == ("lines.3.points", "INVALID_AMOUNT")
