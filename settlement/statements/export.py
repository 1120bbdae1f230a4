"""Write a run's statements to a directory: per party CSV + HTML (+ a Persian HTML, `.fa.html`,
for a Persian-named party), each with a detached `.sig`, plus the hub's public statement key
and a VERIFY.txt saying how to check them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from network.clock import utcnow
from network.config import Settings
from network.db.engine import Database
from settlement import store
from settlement.statements import render, signing
from settlement.statements.build import Statement, build_statement, statement_parties

PUBLIC_KEY_FILE = "hub-statement-key.pem"
VERIFY_TEXT = """Statements of {period}, signed with the hub's Ed25519 statement key.

Each FILE has a detached signature FILE.sig (64 raw bytes). Check one with either:

  pointsnet settle verify-statement FILE --signature FILE.sig --public-key {key}
  openssl pkeyutl -verify -pubin -inkey {key} -rawin -in FILE -sigfile FILE.sig

Run content hash: {hash}
"""


@dataclass(frozen=True)
class RenderedStatement:
    statement: Statement
    csv: bytes
    html: bytes
    csv_signature: bytes
    html_signature: bytes
    html_fa: bytes | None = None  # only for a Persian-named party (Statement.languages)
    html_fa_signature: bytes | None = None

    def files(self) -> list[tuple[str, bytes, bytes]]:
        """(suffix, bytes, signature) of every rendering."""
        files = [(".csv", self.csv, self.csv_signature), (".html", self.html, self.html_signature)]
        if self.html_fa is not None and self.html_fa_signature is not None:
            files.append((".fa.html", self.html_fa, self.html_fa_signature))
        return files


def render_signed(statement: Statement, settings: Settings) -> RenderedStatement:
    key = signing.statement_key(settings)
    csv_bytes, html_bytes = render.to_csv(statement), render.to_html(statement)
    html_fa = render.to_html(statement, "fa") if "fa" in statement.languages else None
    return RenderedStatement(statement, csv_bytes, html_bytes, signing.sign(key, csv_bytes),
                             signing.sign(key, html_bytes), html_fa,
                             signing.sign(key, html_fa) if html_fa is not None else None)


def write_statements(db: Database, settings: Settings, run: store.StoredRun, out_dir: Path,
                     progress: Callable[[str], None] = lambda _: None) -> list[Path]:
    target = out_dir / run.period
    target.mkdir(parents=True, exist_ok=True)
    now = utcnow()
    written: list[Path] = []
    for party_id in db.read(statement_parties, run):
        statement = db.read(build_statement, run, party_id, now)
        progress(statement.party.code)
        signed = render_signed(statement, settings)
        stem = target / f"{run.period}-{statement.party.code}"
        for suffix, data, sig in signed.files():
            path = Path(f"{stem}{suffix}")  # party codes may contain dots
            path.write_bytes(data)
            Path(f"{path}.sig").write_bytes(sig)
            written.append(path)
    (target / PUBLIC_KEY_FILE).write_bytes(signing.public_pem(signing.statement_key(settings)))
    (target / "VERIFY.txt").write_text(VERIFY_TEXT.format(period=run.period, key=PUBLIC_KEY_FILE,
                                                          hash=run.content_hash))
    return written
