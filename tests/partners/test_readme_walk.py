"""Defects found by following the README's "Partner integration" section as a new partner."""

from __future__ import annotations

import contextlib
import io
import re
import sys
import types
import warnings
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

import partners.client
from infra.app import create_app
from infra.demo import build_demo
from network.clock import utcnow
from network.config import Settings
from network.db.engine import Database
from partners.keys import create_key
from partners.registry import create_partner
from partners.signature_cli import signature_group
from partners.terms import Terms
from tests.partners import rfc9421_vectors as v
from tests.partners.conftest import Hub, operation

REPO = Path(__file__).resolve().parents[2]


def _award(card: str, reference: str) -> dict[str, object]:
    return {"input": {"cardNumber": card, "amount": 1250, "currency": "EUR",
                      "reference": reference}}


def test_sdk_sends_a_key_with_spaces_around_it_as_the_hub_reads_it(any_hub: Hub) -> None:
    """README: "Leading and trailing spaces are not part of a key (HTTP drops them)". Was: the
    SDK put " till-3/receipt-1 " in the header as given, httpx refused to send it, the client
    retried that four times and raised httpx.LocalProtocolError."""
    member = any_hub.enrol()
    with any_hub.client() as client:
        first = client.execute(operation("AwardPoints"), _award(member.card_number, "r-1"),
                               idempotency_key="  till-3/receipt-1 ")
        again = client.execute(operation("AwardPoints"), _award(member.card_number, "r-1"),
                               idempotency_key="till-3/receipt-1")
    booked = first["data"]["awardPoints"]
    assert booked["userErrors"] == [] and booked["transaction"]["points"] == 125
    # The same key with and without the spaces is one key: the retry is the first answer.
    assert again["data"]["awardPoints"] == booked
    assert partners.client.check_idempotency_key("\tk-1 ") == "k-1"


def test_signature_sign_requires_data(tmp_path: Path) -> None:
    """Was: without --data it printed a curl command posting an empty body, which the hub
    refuses with 400 BAD_REQUEST "the body is not JSON"."""
    private = tmp_path / "key.pem"
    private.write_text(v.TEST_KEY_ED25519_PRIVATE)
    result = CliRunner().invoke(signature_group,
                                ["sign", "--private-key", str(private), "--key-id", "pk_1"])
    assert result.exit_code == 2, result.output
    assert "Missing option '--data'" in result.output
    assert "curl" not in result.output


def _readme_python_snippet() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme.split("### 2. First integration (Python)", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None
    return match.group(1)


def test_readme_first_integration_runs_as_written_against_the_demo(
        sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Was: the snippet's card 7012345678901232 belonged to no demo member (the demo issued
    random cards), so the snippet copied as written answered MEMBER_NOT_FOUND."""
    settings = Settings(database_url=sqlite_db.url, env="test", secret_key="test-secret")
    demo = build_demo(sqlite_db, settings)
    assert "7012345678901232" in [m.card_number for m in demo.members]
    # Step 1 of the README: `partners create cafe --earn-rate 10 --pending-days 0`, a key.
    now = utcnow()

    def step_one(conn: object) -> tuple[str, str]:
        cafe = create_partner(conn, code="cafe", name="Corner Café", now=now,
                              terms=Terms(earn_points_per_unit=Decimal("10"), pending_days=0,
                                          validity_months=24))
        key, pem = create_key(conn, party_id=cafe.id, now=now, scopes=None)
        return key.key_id, pem

    key_id, pem = sqlite_db.write(step_one)
    (tmp_path / "cafe-key.pem").write_text(pem)
    monkeypatch.chdir(tmp_path)  # the key file's folder, outside the repository
    snippet = _readme_python_snippet()
    assert 'key_id="pk_…"' in snippet
    snippet = snippet.replace('key_id="pk_…"', f'key_id="{key_id}"')
    with TestClient(create_app(settings, sqlite_db), base_url="https://hub.example") as http:
        # The snippet imports the separately installed SDK (pointsnet_partner, the same files:
        # tests/partners/test_sdk_distribution.py installs the real one); here it is
        # partners.client, with its HTTP going into the app.
        real = partners.client.PartnerClient
        sdk = types.ModuleType("pointsnet_partner")
        sdk.PartnerClient = lambda *a, **kw: real(*a, http_client=http, **kw)  # type: ignore[attr-defined]
        sdk.operation = partners.client.operation  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "pointsnet_partner", sdk)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(snippet, "README.md", "exec"), {})  # noqa: S102
    printed = out.getvalue()
    award, redeem = printed.splitlines()
    assert "'points': 125" in award and "'userErrors': []" in award, printed
    assert "'kind': 'REDEEM'" in redeem and "'points': 40" in redeem, printed
    assert "'userErrors': []" in redeem, printed
