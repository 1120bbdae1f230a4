"""`pointsnet signature sign|verify`: the signing scheme from a shell, no database involved.

`verify` is the tool a partner runs when the hub says SIGNATURE_INVALID: it prints the signature
base line by line, valid or not, so they can diff it against what their own code signed.
It is a general RFC 9421 verifier; `--as-hub` adds the hub's own requirements on top, by calling
the authenticator's `check_shape` so that the CLI and the hub cannot drift apart.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
import uuid
from pathlib import Path

import click
from click.core import ParameterSource

from network.auth import AuthError
from network.cli_errors import EXIT_CHECK_FAILED, HubGroup, fail
from partners.authenticator import MAX_SKEW_SECONDS, check_shape
from partners.client import check_idempotency_key, is_mutation, sign_graphql
from partners.idempotency_key import MAX_LENGTH as MAX_KEY_LENGTH
from partners.signatures import (
    DigestError,
    MessageError,
    ParsedSignature,
    SignatureError,
    check_time,
    load_private_key,
    load_public_key,
    parse_raw_request,
    parse_signatures,
    verify_content_digest,
    verify_parsed,
)
from partners.signatures.components import ComponentError
from partners.signatures.message import HttpRequest
from partners.signatures.raw_http import render_raw_request
from partners.signatures.signature_base import build_signature_base
from partners.signatures.structured_fields import serialize_bare_item


@click.group("signature", cls=HubGroup)
def signature_group() -> None:
    """Sign and verify RFC 9421 HTTP message signatures (Ed25519)."""


def _read_body(data: str) -> bytes:
    if data.startswith("@"):
        try:
            return Path(data[1:]).read_bytes()
        except OSError as exc:
            fail("INPUT_UNREADABLE", f"--data {data}: {exc.strerror}")
    return data.encode()


def _is_mutation_body(body: bytes) -> bool:
    """Whether the GraphQL body holds a mutation, decided as the SDK decides (`is_mutation`)."""
    try:
        payload = json.loads(body)
    except ValueError:
        return False  # not JSON: the hub reports it
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return False
    name = payload.get("operationName")
    return is_mutation(payload["query"], name if isinstance(name, str) else None)


def _idempotency_key(ctx: click.Context, param: click.Parameter, key: str | None) -> str | None:
    try:
        return None if key is None else check_idempotency_key(key)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


def _curl(url: str, headers: dict[str, str], body: bytes, data: str) -> str:
    parts = ["curl", "-sS", "-X", "POST", url]
    for name, value in headers.items():
        parts += ["-H", f"{name}: {value}"]
    # A body from @FILE stays in the file: inline, a large one (a 1,000-line batch is ~155 KB)
    # overflows the shell's argument limit ("Argument list too long").
    parts += ["--data-binary", data if data.startswith("@") else body.decode()]
    return " ".join(shlex.quote(part) for part in parts)


@signature_group.command("sign")
@click.option("--private-key", "key_file", required=True, type=click.Path(exists=True),
              help="PEM file with the partner's Ed25519 private key.")
@click.option("--key-id", required=True, help="The key id the hub gave when the key was created.")
@click.option("--url", default="http://127.0.0.1:8000/graphql", show_default=True,
              help="The whole endpoint URL the request is sent to, /graphql included.")
@click.option("--data", required=True,
              help="JSON body, or @FILE to read it from a file (the curl command then reads the "
                   "same file).")
@click.option("--idempotency-key", callback=_idempotency_key,
              help=f"Printable ASCII, at most {MAX_KEY_LENGTH} characters; a fresh UUID "
                   "by default when the body is a mutation.")
@click.option("--mutation", is_flag=True,
              help="Send an Idempotency-Key even if the body is not a mutation (mutations are "
                   "detected from the body; this flag is not needed for them).")
@click.option("--format", "fmt", type=click.Choice(["curl", "raw", "headers"]), default="curl",
              show_default=True,
              help="curl: a ready-to-run command; raw: the HTTP request (what `signature verify "
                   "--request` reads); headers: only the headers to add.")
def sign_command(key_file: str, key_id: str, url: str, data: str,
                 idempotency_key: str | None, mutation: bool, fmt: str) -> None:
    """Sign a POST of a GraphQL body and print it as a curl command, raw HTTP or headers.

    A mutation gets an Idempotency-Key, as the hub requires (a fresh UUID unless given).
    """
    body = _read_body(data)
    if idempotency_key is None and (mutation or _is_mutation_body(body)):
        idempotency_key = str(uuid.uuid4())
    try:
        key = load_private_key(Path(key_file).read_bytes())
    except ValueError as exc:
        fail("INPUT_UNREADABLE", f"--private-key {key_file}: {exc}")
    signed = sign_graphql(url, body, key=key, key_id=key_id, idempotency_key=idempotency_key)
    if fmt == "headers":
        for name, value in signed.headers.items():
            click.echo(f"{name}: {value}")
    elif fmt == "raw":
        request = HttpRequest("POST", url, list(signed.headers.items()), body)
        sys.stdout.buffer.write(render_raw_request(request))
        sys.stdout.flush()
    else:
        click.echo(_curl(url, signed.headers, body, data))


def _print_base(request: HttpRequest, parsed: ParsedSignature) -> None:
    """The base rebuilt from the request as received, printed whether or not the signature
    verifies: a partner whose signature is refused diffs it against what their code signed."""
    try:
        base = build_signature_base(request, parsed.covered, parsed.params)
    except ComponentError as exc:
        click.echo(f"  signature base: cannot be built: {exc}")
        return
    click.echo("  signature base:")
    for line in base.text.split("\n"):
        click.echo(f"    {line}")


def _check_hub(request: HttpRequest, parsed: ParsedSignature, now: int) -> bool:
    try:
        check_shape(parsed, request, now)
    except AuthError as exc:
        click.echo(f"  hub requirements: FAILED {exc.code}: {exc.message}")
        return False
    click.echo("  hub requirements: OK")
    return True


def _describe(request: HttpRequest, key: object, now: int, max_skew: int, as_hub: bool) -> bool:
    try:
        signatures = parse_signatures(request)
    except SignatureError as exc:
        click.echo(f"verdict: INVALID {exc.code}: {exc.message}")
        return False
    all_valid = True
    for parsed in signatures:
        click.echo(f"signature {parsed.label!r}")
        for name in ("keyid", "alg", "created", "expires", "nonce", "tag"):
            if name in parsed.params:
                click.echo(f"  {name}: {serialize_bare_item(parsed.params[name])}")
        if parsed.created is not None:
            click.echo(f"  age: {now - parsed.created} s (now={now})")
        click.echo("  covered components:")
        for identifier in parsed.covered_identifiers:
            click.echo(f"    {identifier}")
        _print_base(request, parsed)
        # Both checks run even when the first fails, so a signature refused for its time alone
        # is seen to be otherwise correct (and the clock, not the code, is what to fix).
        failures = []
        try:
            check_time(parsed, now, max_skew)
        except SignatureError as exc:
            failures.append(exc)
        try:
            verify_parsed(request, parsed, key)
        except SignatureError as exc:
            failures.append(exc)
            click.echo(f"  cryptographic check: FAILED {exc.code}: {exc.message}")
        else:
            click.echo("  cryptographic check: the signature matches the base above")
        if failures:
            click.echo(f"  verdict: INVALID {failures[0].code}: {failures[0].message}")
            all_valid = False
        else:
            click.echo("  verdict: VALID")
        # Separate from the verdict: a signature can be valid RFC 9421 (the B.2.6 vector is)
        # and still be refused by the hub for what it does not cover.
        if as_hub and not _check_hub(request, parsed, now):
            all_valid = False
    return all_valid


def _check_digest(request: HttpRequest) -> bool:
    field = request.header("content-digest")
    if field is None:
        click.echo("content-digest: absent (the body is not protected)")
        return True
    try:
        checked = verify_content_digest(field, request.body)
    except DigestError as exc:
        click.echo(f"content-digest: INVALID {exc.code}: {exc.message}")
        return False
    click.echo(f"content-digest: matches the body ({', '.join(checked)})")
    return True


@signature_group.command("verify")
@click.option("--public-key", "key_file", required=True, type=click.Path(exists=True),
              help="PEM file with the Ed25519 public key (a private key PEM also works).")
@click.option("--request", "request_file", required=True, type=click.Path(exists=True),
              help="File holding the raw HTTP/1.1 request, headers and body.")
@click.option("--now", type=int, help="Unix time to check 'created' against (default: now).")
@click.option("--scheme", default="https", show_default=True,
              help="Scheme for origin-form request targets (affects @target-uri, @scheme).")
@click.option("--max-skew", default=MAX_SKEW_SECONDS, show_default=True,
              help="Seconds 'created' may differ from now, as the hub enforces. Not with "
                   "--as-hub, which applies the hub's own window.")
@click.option("--as-hub", is_flag=True,
              help=f"Also apply the hub's checks that need no database: covered components, "
                   f"created/keyid/nonce, nonce length, alg and the {MAX_SKEW_SECONDS} s window. "
                   "Key status, scopes and nonce replay need the hub's database and are not "
                   "checked.")
@click.pass_context
def verify_command(ctx: click.Context, key_file: str, request_file: str, now: int | None,
                   scheme: str, max_skew: int, as_hub: bool) -> None:
    """Verify every signature on a raw request; exit 0 only if all of them are valid
    (and, with --as-hub, meet the hub's requirements)."""
    # The hub's window is not a choice: a --max-skew beside --as-hub would be silently ignored.
    if as_hub and ctx.get_parameter_source("max_skew") is not ParameterSource.DEFAULT:
        raise click.UsageError(f"--max-skew cannot be combined with --as-hub, which applies "
                               f"the hub's own {MAX_SKEW_SECONDS} s window")
    try:
        key = load_public_key(Path(key_file).read_bytes())
        request = parse_raw_request(Path(request_file).read_bytes(), scheme=scheme)
    except (ValueError, MessageError) as exc:
        fail("INPUT_UNREADABLE", str(exc))
    current = int(time.time()) if now is None else now
    valid = _describe(request, key, current, max_skew, as_hub)
    digest_ok = _check_digest(request)
    if as_hub:
        click.echo("hub requirements not checked here (they need the hub's database): "
                   "key status (UNKNOWN_KEY, KEY_REVOKED, KEY_EXPIRED), scopes, nonce replay")
    ok = valid and digest_ok
    click.echo(f"result: {'VALID' if ok else 'INVALID'}")
    sys.exit(0 if ok else EXIT_CHECK_FAILED)
