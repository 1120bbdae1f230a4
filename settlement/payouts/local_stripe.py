"""A local stand-in for Stripe: a small stateful Stripe-compatible HTTP server. It is NOT Stripe
(and not localstripe): no money moves, nothing leaves this machine, state lives in memory.

It serves the tests and the offline demo (`pointsnet stripe-standin`, see settlement/cli.py).
Why it exists: `localstripe` (PyPI) speaks customers, payment methods and payment intents well
enough for the official `stripe` library, but it has no Connect accounts, no Transfers, no
Idempotency-Key replay, and its invoices predate `collection_method` and `finalize`. This server
implements exactly what the payouts module calls, the way api.stripe.com answers it:
- /v1/accounts, /v1/transfers (with transfer_group and list filtering), /v1/invoices (draft ->
  finalize -> send -> pay or void; list by customer; /lines), /v1/invoiceitems attached to an
  invoice; the `customer` filter of GET /v1/payment_intents, which localstripe lacks;
- form-encoded bodies with bracketed nesting (`metadata[run]=7`), Bearer secret keys;
- Idempotency-Key: a POST replays the first response for the same key and parameters (with
  `Idempotent-Replayed: true`), 400 `idempotency_error` for other parameters, and nothing is
  stored when the request failed before executing (5xx), as Stripe documents;
- Stripe's error JSON `{"error": {"type", "code", "message", "param"}}`;
- injectable failures (`fail_next`): fail before executing (e.g. 500 api_error, 429), or
  execute and then drop the connection so the client never sees the answer ("lose_response");
- /v1/account_links (Connect onboarding, https://docs.stripe.com/api/account_links): the link's
  `url` is a page of this server that marks the account onboarded and redirects to `return_url`;
  finalized invoices get a `hosted_invoice_url` page here that pays them (the customer's side);
- customers, payment_methods and payment_intents are forwarded to an upstream localstripe when
  `upstream` is given (tests), still under this server's idempotency handling; without one (the
  demo) customers are served here (create, retrieve, update), with no payment methods, so
  parties that owe are invoiced.
Events it would send are kept in `events` so tests can deliver them, signed, to our webhook.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from network.money import Money


class StripeHTTPError(Exception):
    def __init__(self, status: int, type_: str, message: str, code: str | None = None,
                 param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.body = status, {"error": {
            "type": type_, "message": message, **({"code": code} if code else {}),
            **({"param": param} if param else {})}}


@dataclass
class Failure:
    method: str
    path_prefix: str
    mode: str  # "before" (error, nothing executed) | "lose_response" (executed, no answer)
    status: int = 500
    type: str = "api_error"
    message: str = "An unknown error occurred"
    code: str | None = None
    remaining: int = 1


@dataclass
class State:
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    idempotency: dict[str, tuple[str, int, bytes]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    links: dict[str, dict[str, Any]] = field(default_factory=dict)
    available_balance: dict[str, int] = field(default_factory=dict)


def unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """'metadata[run]=7&expand[0]=x' -> {'metadata': {'run': '7'}, 'expand': {'0': 'x'}}."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def _int(data: dict[str, Any], name: str) -> int:
    try:
        value = int(data[name])
    except KeyError:
        raise StripeHTTPError(400, "invalid_request_error", f"Missing required param: {name}.",
                              "parameter_missing", name) from None
    except ValueError:
        raise StripeHTTPError(400, "invalid_request_error", f"Invalid integer: {data[name]}",
                              "parameter_invalid_integer", name) from None
    return value


class StripeConnectServer:
    """Start with `with StripeConnectServer() as s:`; point StripeClient at `s.url`."""

    def __init__(self, upstream: str | None = None, balance: int = 10**12,
                 currency: str = "eur", host: str = "127.0.0.1", port: int = 0) -> None:
        self.upstream = upstream
        self.state = State(available_balance={currency: balance})
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer((host, port), self._handler())
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> StripeConnectServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- test controls ----------------------------------------------------------------------
    def fail_next(self, method: str, path_prefix: str, mode: str = "before", **kw: Any) -> None:
        with self.lock:
            self.state.failures.append(Failure(method, path_prefix, mode, **kw))

    def create_account(self, **metadata: str) -> str:
        """An Express account that has finished onboarding (transfers enabled)."""
        with self.lock:
            account = self._account({"type": "express", "metadata": metadata})
            _onboarded(account)
            return account["id"]

    def pay_invoice(self, invoice_id: str) -> dict[str, Any]:
        """The customer pays an open invoice (what its hosted page does)."""
        with self.lock:
            return self._invoice_action(self._get(invoice_id, "invoice"), "pay")

    def objects(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return [o for o in self.state.objects.values() if o["object"] == kind]

    def posts(self, path_prefix: str) -> int:
        """How many POSTs reached `path_prefix` (replays included)."""
        return sum(1 for method, path, _ in self.state.requests
                   if method == "POST" and path.startswith(path_prefix))

    # -- resources --------------------------------------------------------------------------
    def _create(self, prefix: str, kind: str, fields: dict[str, Any]) -> dict[str, Any]:
        obj = {"id": f"{prefix}_{secrets.token_hex(8)}", "object": kind,
               "created": int(time.time()), "livemode": False, "metadata": {}, **fields}
        self.state.objects[obj["id"]] = obj
        return obj

    def _get(self, object_id: str, kind: str) -> dict[str, Any]:
        obj = self.state.objects.get(object_id)
        if obj is None or obj["object"] != kind:
            raise StripeHTTPError(404, "invalid_request_error", f"No such {kind}: '{object_id}'",
                                  "resource_missing", "id")
        return obj

    def _event(self, type_: str, obj: dict[str, Any]) -> None:
        self.state.events.append({"id": f"evt_{secrets.token_hex(8)}", "object": "event",
                                  "type": type_, "created": int(time.time()),
                                  "data": {"object": json.loads(json.dumps(obj))}})

    def _route(self, method: str, path: str, data: dict[str, Any]) -> dict[str, Any] | None:
        if path == "/v1/account_links" and method == "POST":
            return self._account_link(data)
        resources = "accounts|transfers|invoices|invoiceitems" + ("" if self.upstream
                                                                   else "|customers")
        m = re.fullmatch(rf"/v1/({resources})(?:/([^/]+))?(?:/(\w+))?", path)
        if not m:
            return None
        resource, object_id, action = m.groups()
        kind = {"accounts": "account", "transfers": "transfer", "invoices": "invoice",
                "invoiceitems": "invoiceitem", "customers": "customer"}[resource]
        if resource == "customers" and method == "POST":
            return self._customer(data, object_id)
        if method == "GET" and kind == "invoice" and action == "lines":
            # GET /v1/invoices/:id/lines lists every line (the Invoice embeds the first 10).
            return {**self._get(object_id, kind)["lines"], "url": path}
        if method == "GET" and object_id:
            return self._get(object_id, kind)
        if method == "GET":
            items = [o for o in self.state.objects.values() if o["object"] == kind and all(
                str(o.get(k)) == v for k, v in data.items() if k not in ("limit", "expand"))]
            return {"object": "list", "url": path, "has_more": False, "data": items}
        if resource == "accounts" and not object_id:
            return self._account({"type": data.get("type", "express"),
                                  "email": data.get("email"),
                                  "tos_acceptance": data.get("tos_acceptance", {}),
                                  "metadata": data.get("metadata", {})})
        if resource == "transfers" and not object_id:
            return self._transfer(data)
        if resource == "invoices" and not object_id:
            return self._invoice(data)
        if resource == "invoiceitems" and not object_id:
            return self._invoice_item(data)
        if resource == "invoices" and action in ("finalize", "send", "pay", "void"):
            return self._invoice_action(self._get(object_id, "invoice"), action)
        raise StripeHTTPError(404, "invalid_request_error", f"Unrecognized request URL ({path})")

    def _account(self, fields: dict[str, Any]) -> dict[str, Any]:
        """A new connected account has not onboarded: it cannot receive transfers yet."""
        return self._create("acct", "account", {
            **fields, "details_submitted": False, "charges_enabled": False,
            "payouts_enabled": False, "capabilities": {"transfers": "inactive"}})

    def _account_link(self, data: dict[str, Any]) -> dict[str, Any]:
        """POST /v1/account_links: a single-use onboarding URL that expires after 300 s."""
        account_id = str(data.get("account", ""))
        self._get_param(account_id, "account", "account")
        if not data.get("type"):
            raise StripeHTTPError(400, "invalid_request_error", "Missing required param: type.",
                                  "parameter_missing", "type")
        if data["type"] not in ("account_onboarding", "account_update"):
            raise StripeHTTPError(400, "invalid_request_error", "Invalid type: must be one of "
                                  "account_onboarding or account_update", param="type")
        for name in ("refresh_url", "return_url"):
            if not str(data.get(name, "")).startswith(("http://", "https://")):
                raise StripeHTTPError(400, "invalid_request_error",
                                      f"Missing required param: {name}.", "parameter_missing",
                                      name)
        token = secrets.token_urlsafe(12)
        now = int(time.time())
        self.state.links[token] = {"account": account_id, "expires_at": now + 300,
                                   "refresh_url": data["refresh_url"],
                                   "return_url": data["return_url"], "used": False}
        return {"object": "account_link", "created": now, "expires_at": now + 300,
                "url": f"{self.url}/standin/connect/{account_id}/{token}"}

    def _customer(self, data: dict[str, Any], customer_id: str | None) -> dict[str, Any]:
        """POST /v1/customers[/:id] when there is no upstream localstripe (the demo)."""
        fields = {k: data[k] for k in ("name", "email", "description") if k in data}
        if customer_id is None:
            return self._create("cus", "customer", {
                "name": None, "email": None, "description": None, **fields,
                "metadata": data.get("metadata", {}),
                "invoice_settings": {"default_payment_method": None}})
        customer = self._get(customer_id, "customer")
        customer.update(fields)
        customer["metadata"].update(data.get("metadata", {}))
        return customer

    def _get_param(self, object_id: str, kind: str, param: str) -> dict[str, Any]:
        obj = self.state.objects.get(object_id)
        if obj is None or obj["object"] != kind:
            raise StripeHTTPError(400, "invalid_request_error",
                                  f"No such {kind}: '{object_id}'", "resource_missing", param)
        return obj

    def _transfer(self, data: dict[str, Any]) -> dict[str, Any]:
        amount, currency = _int(data, "amount"), str(data.get("currency", "")).lower()
        if amount <= 0:
            raise StripeHTTPError(400, "invalid_request_error",
                                  "This value must be greater than or equal to 1.",
                                  "parameter_invalid_integer", "amount")
        destination = data.get("destination", "")
        if self.state.objects.get(destination, {}).get("object") != "account":
            raise StripeHTTPError(400, "invalid_request_error",
                                  f"No such destination: '{destination}'", "resource_missing",
                                  "destination")
        if self.state.objects[destination]["capabilities"].get("transfers") != "active":
            raise StripeHTTPError(400, "invalid_request_error",
                                  "Your destination account needs to have at least one of the "
                                  "following capabilities enabled: transfers, crypto_transfers, "
                                  "legacy_payments", "insufficient_capabilities_for_transfer",
                                  "destination")
        if self.state.available_balance.get(currency, 0) < amount:
            raise StripeHTTPError(400, "invalid_request_error",
                                  "You have insufficient available funds in your Stripe account.",
                                  "balance_insufficient")
        self.state.available_balance[currency] -= amount
        obj = self._create("tr", "transfer", {
            "amount": amount, "currency": currency, "destination": destination,
            "transfer_group": data.get("transfer_group"), "description": data.get("description"),
            "metadata": data.get("metadata", {}), "reversed": False, "amount_reversed": 0})
        self._event("transfer.created", obj)
        return obj

    def _invoice(self, data: dict[str, Any]) -> dict[str, Any]:
        customer = str(data.get("customer", ""))
        if not customer.startswith("cus_"):
            raise StripeHTTPError(400, "invalid_request_error", f"No such customer: '{customer}'",
                                  "resource_missing", "customer")
        return self._create("in", "invoice", {
            "customer": customer, "status": "draft", "currency": data.get("currency", "eur"),
            "collection_method": data.get("collection_method", "charge_automatically"),
            "days_until_due": data.get("days_until_due"), "description": data.get("description"),
            "metadata": data.get("metadata", {}), "amount_due": 0, "amount_paid": 0,
            "lines": {"object": "list", "data": [], "has_more": False}})

    def _invoice_item(self, data: dict[str, Any]) -> dict[str, Any]:
        invoice = self._get(str(data.get("invoice", "")), "invoice")
        if invoice["status"] != "draft":
            raise StripeHTTPError(400, "invalid_request_error",
                                  "You can only add invoice items to draft invoices.",
                                  "invoice_not_editable", "invoice")
        item = self._create("ii", "invoiceitem", {
            "amount": _int(data, "amount"), "currency": data.get("currency"),
            "customer": data.get("customer"), "invoice": invoice["id"],
            "description": data.get("description"), "metadata": data.get("metadata", {})})
        invoice["lines"]["data"].append(item)
        invoice["amount_due"] += item["amount"]
        return item

    def _invoice_action(self, invoice: dict[str, Any], action: str) -> dict[str, Any]:
        # Stripe voids finalized invoices that are open or uncollectible (both can still be
        # paid); https://docs.stripe.com/api/invoices/void
        allowed = {"finalize": ("draft",), "send": ("open",), "pay": ("open", "uncollectible"),
                   "void": ("open", "uncollectible")}[action]
        if invoice["status"] not in allowed:
            raise StripeHTTPError(400, "invalid_request_error",
                                  f"This invoice is {invoice['status']}; cannot {action} it.",
                                  "invoice_unexpected_state")
        if action == "finalize":
            invoice.update(status="open",
                           hosted_invoice_url=f"{self.url}/standin/invoices/{invoice['id']}")
            self._event("invoice.finalized", invoice)
        elif action == "pay":
            invoice.update(status="paid", amount_paid=invoice["amount_due"])
            self._event("invoice.paid", invoice)
        elif action == "void":
            invoice["status"] = "void"
            self._event("invoice.voided", invoice)
        else:
            self._event("invoice.sent", invoice)
        return invoice

    # -- HTTP plumbing ----------------------------------------------------------------------
    def _forward(self, method: str, path: str, query: str, body: bytes,
                 headers: dict[str, str]) -> tuple[int, bytes]:
        if not self.upstream:
            raise StripeHTTPError(404, "invalid_request_error",
                                  f"Unrecognized request URL ({path})")
        up = urlsplit(self.upstream)
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=30)
        try:
            conn.request(method, path + (f"?{query}" if query else ""), body=body or None,
                         headers={k: v for k, v in headers.items()
                                  if k.lower() in ("authorization", "content-type")})
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def _payment_intents_of(self, data: dict[str, Any], headers: dict[str, str]
                            ) -> tuple[int, bytes]:
        """GET /v1/payment_intents?customer=…: Stripe documents the `customer` filter
        (https://docs.stripe.com/api/payment_intents/list) but localstripe refuses it, so read
        all of localstripe's pages, keep the customer's, and page them as Stripe does
        (`limit`, `starting_after`, `has_more`)."""
        intents: list[dict[str, Any]] = []
        after: str | None = None
        while self.upstream:  # without localstripe (the demo) there are no payment intents
            query = urlencode({"limit": 100, **({"starting_after": after} if after else {})})
            status, body = self._forward("GET", "/v1/payment_intents", query, b"", headers)
            if status != 200:
                return status, body
            page = json.loads(body)
            intents += page["data"]
            if not page["has_more"] or not page["data"]:
                break
            after = page["data"][-1]["id"]
        mine = [pi for pi in intents if pi.get("customer") == data["customer"]]
        ids = [pi["id"] for pi in mine]
        if data.get("starting_after") in ids:
            mine = mine[ids.index(data["starting_after"]) + 1:]
        limit = int(data.get("limit", 10))
        return 200, json.dumps({"object": "list", "url": "/v1/payment_intents",
                                "has_more": len(mine) > limit, "data": mine[:limit]}).encode()

    def handle(self, method: str, raw_path: str, body: bytes, headers: dict[str, str]
               ) -> tuple[int, bytes, dict[str, str]] | None:
        """Return (status, body, extra headers), or None to drop the connection unanswered."""
        path, _, query = raw_path.partition("?")
        key = headers.get("idempotency-key") if method == "POST" else None
        auth = headers.get("authorization", "")
        with self.lock:
            self.state.requests.append((method, path, key))
            if not auth.startswith("Bearer sk_"):
                err = StripeHTTPError(401, "invalid_request_error",
                                      "You did not provide an API key.")
                return err.status, json.dumps(err.body).encode(), {}
            fingerprint = f"{method} {path} {body.decode()}"
            if key and f"{auth}|{key}" in self.state.idempotency:
                first_fp, status, payload = self.state.idempotency[f"{auth}|{key}"]
                if first_fp != fingerprint:
                    err = StripeHTTPError(
                        400, "idempotency_error",
                        "Keys for idempotent requests can only be used with the same parameters "
                        f"they were first used with. Try using a key other than '{key}' if you "
                        "meant to execute a different request.")
                    return err.status, json.dumps(err.body).encode(), {}
                return status, payload, {"Idempotent-Replayed": "true"}
            failure = self._take_failure(method, path)
            if failure and failure.mode == "before":
                err = StripeHTTPError(failure.status, failure.type, failure.message, failure.code)
                return err.status, json.dumps(err.body).encode(), {}
            data = unflatten(parse_qsl(body.decode() if method == "POST" else query,
                                       keep_blank_values=True))
            status: int | None = None
            payload = b""
            try:
                result = self._route(method, path, data)
                if result is not None:
                    status, payload = 200, json.dumps(result).encode()
            except StripeHTTPError as err:
                status, payload = err.status, json.dumps(err.body).encode()
        if status is None and method == "GET" and path == "/v1/payment_intents" \
                and "customer" in data:
            status, payload = self._payment_intents_of(data, headers)
        elif status is None:
            status, payload = self._forward(method, path, query, body, headers)
        if key and status < 500:
            with self.lock:
                self.state.idempotency[f"{auth}|{key}"] = (fingerprint, status, payload)
        if failure and failure.mode == "lose_response":
            return None
        return status, payload, {}

    def page(self, method: str, path: str) -> tuple[int, bytes, dict[str, str]]:
        """The pages a person opens in a browser (Stripe hosts these; so does the stand-in):
        Connect onboarding (GET /standin/connect/<account>/<token>: the account is onboarded
        at once and the browser sent to `return_url`; an expired or used link goes to
        `refresh_url`, as Stripe does) and an invoice's hosted page (GET shows it, POST pays)."""
        m = re.fullmatch(r"/standin/connect/(acct_\w+)/([\w-]+)", path)
        if m and method == "GET":
            with self.lock:
                link = self.state.links.get(m.group(2))
                if link is None or link["account"] != m.group(1):
                    return _html(404, "Unknown onboarding link.")
                if link["used"] or link["expires_at"] < time.time():
                    return 302, b"", {"Location": link["refresh_url"]}
                link["used"] = True
                account = self.state.objects[m.group(1)]
                _onboarded(account)
                self._event("account.updated", account)
            return 302, b"", {"Location": link["return_url"]}
        m = re.fullmatch(r"/standin/invoices/(in_\w+)", path)
        if m:
            with self.lock:
                invoice = self.state.objects.get(m.group(1))
                if invoice is None or invoice["object"] != "invoice":
                    return _html(404, "Unknown invoice.")
                if method == "POST" and invoice["status"] in ("open", "uncollectible"):
                    self._invoice_action(invoice, "pay")
                amount = Money(invoice["amount_due"], invoice["currency"].upper()).format()
                button = ('<form method="post"><button>Pay (stand-in)</button></form>'
                          if invoice["status"] == "open" else "")
                return _html(200, f"Invoice {invoice['id']}: {amount}, {invoice['status']}."
                             f"{button}")
        return _html(404, "Not a stand-in page.")

    def _take_failure(self, method: str, path: str) -> Failure | None:
        for failure in self.state.failures:
            if failure.method == method and path.startswith(failure.path_prefix):
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self.state.failures.remove(failure)
                return failure
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                if self.path.startswith("/standin/"):
                    answer: tuple[int, bytes, dict[str, str]] | None = server.page(
                        self.command, self.path.partition("?")[0])
                else:
                    answer = server.handle(self.command, self.path, body, headers)
                if answer is None:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                status, payload, extra = answer
                self.send_response(status)
                if "Content-Type" not in extra:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Request-Id", f"req_{secrets.token_hex(6)}")
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = _serve

        return Handler


def _onboarded(account: dict[str, Any]) -> None:
    account.update(details_submitted=True, charges_enabled=True, payouts_enabled=True,
                   capabilities={"transfers": "active"})


def _html(status: int, text: str) -> tuple[int, bytes, dict[str, str]]:
    """A bare page that says what it is on every view: a local stand-in, not Stripe."""
    page = (f"<!doctype html><meta charset=utf-8><title>Stripe stand-in</title>"
            f"<p><strong>Local stand-in, not Stripe: no money moves.</strong></p><p>{text}</p>")
    return status, page.encode(), {"Content-Type": "text/html; charset=utf-8"}


def signature_header(payload: bytes, secret: str, timestamp: int) -> str:
    """`Stripe-Signature` as Stripe computes it: t=<unix time>,v1=HMAC-SHA256(secret,
    "<t>.<payload>") (https://docs.stripe.com/webhooks#verify-manually)."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def deliver_events(server: StripeConnectServer, url: str, secret: str, start: int = 0) -> int:
    """POST the events from index `start` on, signed, to a webhook endpoint (what Stripe does
    after each change); returns the index to start from next time. A delivery that fails is
    tried again next time, as Stripe retries (at least once, possibly twice)."""
    with server.lock:
        pending = server.state.events[start:]
    target = urlsplit(url)
    for event in pending:
        payload = json.dumps(event).encode()
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        try:
            conn.request("POST", target.path or "/", body=payload, headers={
                "Content-Type": "application/json",
                "Stripe-Signature": signature_header(payload, secret, int(time.time()))})
            if conn.getresponse().status >= 300:
                return start
        except OSError:
            return start
        finally:
            conn.close()
        start += 1
    return start
