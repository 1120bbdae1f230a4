"""Builds pointsnet-partner from the hub's own SDK files, so there is one copy of the signing code.

The package `pointsnet_partner` is assembled into `_assembled/` from the repository (the files
use relative imports, so they work under either name), then built by setuptools as usual. An
sdist carries `_assembled/` itself, so a wheel builds from it without the repository.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent
PARTNERS = HERE.parent  # partners/ in the hub's repository
PACKAGE = "pointsnet_partner"
ASSEMBLED = "_assembled"


def sources() -> dict[str, Path]:
    """Each file of the package (path inside it) and the repository file it is copied from."""
    files = {
        "__init__.py": HERE / "sdk_init.py",
        "client.py": PARTNERS / "client.py",
        "idempotency_key.py": PARTNERS / "idempotency_key.py",
        # The webhook receiver's check; it imports nothing of the hub.
        "webhooks.py": PARTNERS / "webhooks" / "verify.py",
    }
    for path in sorted((PARTNERS / "signatures").glob("*.py")):
        files[f"signatures/{path.name}"] = path
    for path in sorted((PARTNERS.parent / "graphql" / "operations" / "partner").glob("*.graphql")):
        files[f"operations/{path.name}"] = path
    return files


def assemble() -> bool:
    """Copy the package out of the repository; False when there is none (building an sdist)."""
    if not (PARTNERS / "client.py").is_file():
        return False
    target = HERE / ASSEMBLED
    shutil.rmtree(target, ignore_errors=True)
    for inside, source in sources().items():
        destination = target / PACKAGE / inside
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
    return True


assembled_here = assemble()
build_base = tempfile.mkdtemp(prefix="pointsnet-partner-build-")
try:
    setup(
        package_dir={"": ASSEMBLED},
        packages=[PACKAGE, f"{PACKAGE}.signatures"],
        package_data={PACKAGE: ["operations/*.graphql"]},
        options={"build": {"build_base": build_base}},  # no build/ copies left in the repo
    )
finally:
    shutil.rmtree(build_base, ignore_errors=True)
    if assembled_here:  # a build from the repository leaves no copy behind
        shutil.rmtree(HERE / ASSEMBLED, ignore_errors=True)
