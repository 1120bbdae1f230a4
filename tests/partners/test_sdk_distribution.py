"""The partner SDK as partners get it: a wheel built from partners/sdk, installed into a fresh
virtual environment that has no hub, awarding points against a real hub (uvicorn, PostgreSQL).

The fresh environment gets the wheel (pip, --no-deps, --no-index) and, for its dependencies,
only the distributions the wheel declares, taken from this environment (linked, not downloaded):
so a missing dependency fails here, and so would an import of the hub.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from network.clock import utcnow
from network.db.engine import Database
from partners.keys import create_key
from partners.registry import create_partner
from partners.terms import Terms
from tests.support.hub_process import hub_process

ROOT = Path(__file__).resolve().parents[2]
SDK = ROOT / "partners" / "sdk"
# Each wheel build rewrites partners/sdk/_assembled (setup.py): one worker builds at a time.
pytestmark = pytest.mark.xdist_group("partner-sdk-build")
HUB_PACKAGES = ("partners", "network", "infra", "settlement", "graphene", "sqlalchemy",
                "starlette", "psycopg", "uvicorn")

# Runs inside the fresh environment, from an empty folder.
PARTNER_SCRIPT = """
import importlib.util, json, sys
import pointsnet_partner
from pointsnet_partner import PartnerClient, operation

base, key_id, pem_file, hub_packages = sys.argv[1:]
hub_packages = json.loads(hub_packages)
with PartnerClient(base, key_id, open(pem_file).read()) as client:
    enrolled = client.execute(operation("EnrolMember"), {"input": {"phone": "+31 20 555 0199"}})
    card = enrolled["data"]["enrolMember"]["member"]["cardNumber"]
    award = {"input": {"cardNumber": card, "amount": 1250, "currency": "EUR",
                       "reference": "till-3/receipt-981"}}
    first = client.execute(operation("AwardPoints"), award, idempotency_key="till-3/receipt-981")
    again = client.execute(operation("AwardPoints"), award, idempotency_key="till-3/receipt-981")
    redeemed = client.execute(operation("RedeemPoints"), {"input": {"cardNumber": card,
                              "points": 25}}, idempotency_key="till-3/receipt-982")
# The spec's HMAC vector (see tests/partners/test_webhook_rules.py), checked by the SDK alone.
from pointsnet_partner import SeenWebhooks, verify_webhook
hook = verify_webhook({"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
                       "webhook-timestamp": "1614265330",
                       "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
                      b'{"test": 2432232314}', "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                      now=1614265330)
seen = SeenWebhooks()
print(json.dumps({
    "webhook": hook, "dedup": [seen.first_time("msg_1"), seen.first_time("msg_1")],
    "first": first["data"]["awardPoints"], "again": again["data"]["awardPoints"],
    "redeemed": redeemed["data"]["redeemPoints"],
    "sdk": pointsnet_partner.__file__,
    "hub_importable": [name for name in hub_packages if importlib.util.find_spec(name)],
    "hub_loaded": [name for name in sys.modules if name.split(".")[0] in hub_packages],
}))
"""


def _build_wheel(out: Path) -> Path:
    # Offline when this environment can build wheels (setuptools before 70.1 needs `wheel`);
    # otherwise pip fetches the build backend into an isolated environment.
    isolation = ["--no-build-isolation"] if importlib.util.find_spec("wheel") else []
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *isolation,
                    "-w", str(out), str(SDK)], check=True, capture_output=True)
    [wheel] = out.glob("pointsnet_partner-*.whl")
    return wheel


def _declared_closure(requirements: list[str]) -> list[importlib.metadata.Distribution]:
    """The installed distributions these requirements need, transitively (markers applied)."""
    found: dict[str, importlib.metadata.Distribution] = {}
    pending = [Requirement(r) for r in requirements]
    while pending:
        requirement = pending.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = requirement.name.lower().replace("_", "-")
        if name in found:
            continue
        found[name] = importlib.metadata.distribution(name)
        pending += [Requirement(r) for r in found[name].requires or []]
    return list(found.values())


def _link_dependencies(requirements: list[str], into: Path) -> None:
    """Symlink each needed distribution's top-level files and folders (code and dist-info)."""
    into.mkdir()
    for dist in _declared_closure(requirements):
        for top in {Path(str(f)).parts[0] for f in dist.files or [] if ".." not in str(f)}:
            source = Path(str(dist.locate_file(top)))
            if source.exists() and not (into / top).exists() and top != "__pycache__":
                (into / top).symlink_to(source)


def test_the_wheel_is_the_hubs_own_sdk_files() -> None:
    """One source of truth: every module and operation in the wheel is a repository file."""
    import tempfile

    with tempfile.TemporaryDirectory() as out:
        wheel = _build_wheel(Path(out))
        with zipfile.ZipFile(wheel) as archive:
            files = {name: archive.read(name) for name in archive.namelist()
                     if not name.startswith("pointsnet_partner-")}
            metadata = archive.read(next(n for n in archive.namelist()
                                         if n.endswith(".dist-info/METADATA"))).decode()
    expected = {"pointsnet_partner/__init__.py": SDK / "sdk_init.py",
                "pointsnet_partner/client.py": ROOT / "partners" / "client.py",
                "pointsnet_partner/idempotency_key.py": ROOT / "partners" / "idempotency_key.py",
                "pointsnet_partner/webhooks.py": ROOT / "partners" / "webhooks" / "verify.py"}
    for path in (ROOT / "partners" / "signatures").glob("*.py"):
        expected[f"pointsnet_partner/signatures/{path.name}"] = path
    for path in (ROOT / "graphql" / "operations" / "partner").glob("*.graphql"):
        expected[f"pointsnet_partner/operations/{path.name}"] = path
    assert sorted(files) == sorted(expected)
    for name, source in expected.items():
        assert files[name] == source.read_bytes(), name
    requires = sorted(line.split(":", 1)[1].strip().split("<")[0].split(">")[0]
                      for line in metadata.splitlines() if line.startswith("Requires-Dist:"))
    assert requires == ["cryptography", "graphql-core", "httpx"]


def test_the_sdk_installed_alone_awards_against_a_real_hub(tmp_path: Path,
                                                           pg_db: Database) -> None:
    wheel = _build_wheel(tmp_path / "dist")
    venv = tmp_path / "partner-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    str(wheel)], check=True, capture_output=True)
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(next(n for n in archive.namelist()
                                     if n.endswith(".dist-info/METADATA"))).decode()
    requirements = [line.split(":", 1)[1].strip() for line in metadata.splitlines()
                    if line.startswith("Requires-Dist:")]
    deps = tmp_path / "deps"
    _link_dependencies(requirements, deps)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; "
                                "print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "sdk-deps.pth").write_text(f"{deps}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    # Every requirement of the SDK is met in there, by what it declared alone.
    subprocess.run([str(python), "-m", "pip", "check"], check=True, capture_output=True, env=env)

    now = utcnow()

    def setup(conn: object) -> tuple[str, str]:
        partner = create_partner(conn, code="corner", name="Corner Café",
                                 terms=Terms(earn_points_per_unit=Decimal("10")), now=now)
        key, pem = create_key(conn, party_id=partner.id, now=now)
        return key.key_id, pem

    key_id, pem = pg_db.write(setup)
    pem_file = tmp_path / "corner-key.pem"
    pem_file.write_text(pem)
    work = tmp_path / "partner-app"  # not the repository: nothing of the hub on sys.path
    work.mkdir()
    with hub_process(pg_db.url, "sdk-secret", workers=1) as base:
        run = subprocess.run([str(python), "-c", PARTNER_SCRIPT, base, key_id, str(pem_file),
                              json.dumps(HUB_PACKAGES)],
                             cwd=work, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["sdk"].startswith(str(venv))
    assert result["hub_importable"] == [] and result["hub_loaded"] == []
    first, again, redeemed = result["first"], result["again"], result["redeemed"]
    assert first["userErrors"] == [] and first["transaction"]["points"] == 125  # 12.50 EUR x 10
    assert first["balanceAfter"] == 125
    assert again == first  # the same Idempotency-Key answered the first award, awarding nothing
    assert redeemed["userErrors"] == [] and redeemed["balanceAfter"] == 100
    assert result["webhook"] == {"test": 2432232314} and result["dedup"] == [True, False]
