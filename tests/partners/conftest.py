"""A hub with two partners, their keys and a member, served through the real ASGI app."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

with warnings.catch_warnings():  # Starlette 1.x nudges towards httpx2; httpx is what we ship
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from infra.app import create_app
from network import cards, members
from network.clock import utcnow
from network.config import Settings
from network.db.engine import Database
from network.db.schema import journal_entries, lots, postings
from partners.client import PartnerClient
from partners.keys import create_key
from partners.registry import create_partner
from partners.signatures import HttpRequest, content_digest, load_private_key, sign_request
from partners.terms import Terms

OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations" / "partner"
BASE_URL = "http://hub.test"


def operation(name: str) -> str:
    """A documented operation, exactly as partners copy it from graphql/operations/partner."""
    return (OPERATIONS / f"{name}.graphql").read_text()


@dataclass
class PartnerSetup:
    party_id: int
    code: str
    key_id: str
    private_pem: str


@dataclass
class Hub:
    db: Database
    settings: Settings
    http: TestClient
    partners: dict[str, PartnerSetup] = field(default_factory=dict)

    def client(self, code: str = "cafe", **kwargs: object) -> PartnerClient:
        partner = self.partners[code]
        return PartnerClient(
            BASE_URL,
            partner.key_id,
            partner.private_pem,
            http_client=self.http,
            backoff=0,
            **kwargs,
        )  # type: ignore[arg-type]

    def add_partner(self, code: str, terms: Terms, scopes: str | None = None) -> PartnerSetup:
        now = utcnow()

        def setup(conn: object) -> PartnerSetup:
            partner = create_partner(conn, code=code, name=code.title(), terms=terms, now=now)
            key, pem = create_key(conn, party_id=partner.id, now=now, scopes=scopes)
            return PartnerSetup(partner.id, code, key.key_id, pem)

        self.partners[code] = self.db.write(setup)
        return self.partners[code]

    def enrol(self, *, phone: str | None = None, by: str = "cafe") -> members.Member:
        return members.enrol(
            self.db,
            secret=self.settings.secret_key,
            scope="system",
            idempotency_key=f"enrol-{cards.generate()}",
            enrolled_by=self.partners[by].party_id,
            card_number=cards.generate(),
            phone=phone,
        )

    def ledger_counts(self) -> tuple[int, int, int]:
        """Entries, postings, lots: what a rejected request must leave unchanged."""

        def count(conn: object) -> tuple[int, int, int]:
            return tuple(  # type: ignore[return-value]
                conn.execute(select(func.count()).select_from(t)).scalar_one()  # type: ignore[attr-defined]
                for t in (journal_entries, postings, lots)
            )

        return self.db.read(count)


CAFE_TERMS = Terms(earn_points_per_unit=Decimal("10"), pending_days=0, validity_months=24)
SHOP_TERMS = Terms(
    earn_points_per_unit=Decimal("1.5"),
    allow_explicit_points=True,
    pending_days=14,
    validity_months=12,
)


@pytest.fixture
def hub(pg_db: Database) -> Iterator[Hub]:
    settings = Settings(database_url=pg_db.url, env="test", secret_key="test-secret")
    app = create_app(settings, pg_db)
    with TestClient(app, base_url=BASE_URL) as http:
        hub = Hub(pg_db, settings, http)
        hub.add_partner("cafe", CAFE_TERMS)
        hub.add_partner("shop", SHOP_TERMS)
        yield hub


@pytest.fixture
def any_hub(db: Database) -> Iterator[Hub]:
    """The same hub on SQLite and PostgreSQL, for the core flows."""
    settings = Settings(database_url=db.url, env="test", secret_key="test-secret")
    with TestClient(create_app(settings, db), base_url=BASE_URL) as http:
        hub = Hub(db, settings, http)
        hub.add_partner("cafe", CAFE_TERMS)
        hub.add_partner("shop", SHOP_TERMS)
        yield hub


def signed_headers(
    hub: Hub,
    body: bytes,
    *,
    code: str = "cafe",
    idempotency_key: str | None = None,
    covered: list[str] | None = None,
    created: int | None = None,
    nonce: str | None = None,
    key_pem: str | None = None,
    key_id: str | None = None,
    alg: str | None = "ed25519",
    headers: dict[str, str] | None = None,
    path: str = "/graphql",
) -> dict[str, str]:
    """Sign like the SDK but with every knob exposed."""
    partner = hub.partners[code]
    url = f"{BASE_URL}{path}"
    fields = [
        ("Content-Type", "application/json"),
        ("Content-Digest", content_digest(body, "sha-256")),
    ]
    default = ["@method", "@authority", "@path", "@query", "content-type", "content-digest"]
    if idempotency_key is not None:
        fields.append(("Idempotency-Key", idempotency_key))
        default.append("idempotency-key")
    fields += list((headers or {}).items())
    signed = sign_request(
        HttpRequest("POST", url, fields, body),
        key=load_private_key(key_pem or partner.private_pem),
        key_id=key_id or partner.key_id,
        covered=covered if covered is not None else default,
        created=created,
        nonce=nonce,
        alg=alg,
    )
    return dict(signed.headers)


def post_signed(hub: Hub, body: bytes, *, send_body: bytes | None = None, **kwargs: Any) -> Any:
    """Sign and POST (optionally a different body than the one signed)."""
    headers = signed_headers(hub, body, **kwargs)
    return hub.http.post(
        "/graphql", content=send_body if send_body is not None else body, headers=headers
    )


def gql_body(query: str, variables: dict[str, Any] | None = None) -> bytes:
    return json.dumps({"query": query, "variables": variables or {}}).encode()


def error_code(response: Any) -> str:
    return response.json()["errors"][0]["extensions"]["code"]
