"""A ready-to-run signed request for the demo: a key on disk and the command that signs and sends.

A pre-signed curl line would expire after 300 s (the `created` window), so the demo prints a
command that signs at the moment it runs: `pointsnet signature sign … | sh`.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

from network.clock import utcnow
from network.db.engine import Database
from partners.keys import create_key, list_keys
from partners.registry import get_partner

DEMO_LABEL = "demo"
LOOKUP = "query PartnerInfo { partner { code name contract { earnPointsPerUnit } } }"


def demo_key(db: Database, party_id: int, key_dir: Path) -> tuple[str, Path]:
    """Reuse the partner's active demo key if its private half is on disk, else make one."""
    partner = db.read(get_partner, party_id)
    if partner is None:
        raise ValueError(f"no partner with id {party_id}")
    path = key_dir / f"{partner.code}-demo-key.pem"
    now = utcnow()
    for key in db.read(list_keys, party_id):
        if key.label == DEMO_LABEL and key.status(now) == "active" and path.exists():
            return key.key_id, path
    key, pem = db.write(lambda conn: create_key(conn, party_id=party_id, now=now,
                                                label=DEMO_LABEL))
    key_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(pem)
    return key.key_id, path


def signed_example(db: Database, party_id: int, base_url: str, key_dir: Path) -> str:
    """The shell command that signs a PartnerInfo query with a demo key and runs it with curl."""
    key_id, path = demo_key(db, party_id, key_dir)
    body = json.dumps({"query": LOOKUP})
    command = ["pointsnet", "signature", "sign", "--private-key", str(path), "--key-id", key_id,
               "--url", f"{base_url.rstrip('/')}/graphql", "--data", body]
    return " ".join(shlex.quote(part) for part in command) + " | sh"
