"""POST /notifications/sms/inbound: texts members send back, for the STOP keyword.

The SMS provider forwards each inbound text with the bearer token POINTSNET_NOTIFY_SMS_INBOUND_TOKEN
(the endpoint answers 404 while it is unset), as JSON `{"from": "+98912...", "body": "STOP"}` or
as a form with `From` and `Body` (the shape most providers post). STOP and its usual synonyms,
in English or Persian, switch off programme and marketing SMS for the member with that number;
START switches programme SMS back on (marketing needs a fresh opt-in with its wording).
Sign-in codes and security notices are still sent: they are answers to the member's own
requests. Any other text is ignored. The answer never says whether the number is a member's.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.engine import Connection
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from network import phones, pii
from network.clock import utcnow
from network.config import Settings
from network.db.engine import Database
from network.db.schema import members
from network.ledger.errors import InvalidInput
from network.notifications import preferences
from network.notifications.config import NotificationSettings
from network.web.i18n import ascii_digits

log = logging.getLogger("pointsnet.notifications")

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT",
                        "لغو", "توقف", "انصراف"})
START_WORDS = frozenset({"START", "UNSTOP", "شروع"})
PATH = "/notifications/sms/inbound"


def keyword(body: str) -> str | None:
    """"stop", "start" or None: the first word, case and surrounding punctuation ignored."""
    words = body.strip().split()
    first = words[0].strip(".!،,").upper() if words else ""
    if first in STOP_WORDS:
        return "stop"
    if first in START_WORDS:
        return "start"
    return None


def _member_by_phone(conn: Connection, secret: str, phone: str) -> int | None:
    return conn.execute(select(members.c.id).where(
        members.c.phone_lookup == pii.lookup_hash(secret, phone))).scalar()


def act(conn: Connection, secret: str, country: str | None, sender: str, body: str,
        now) -> str:  # type: ignore[no-untyped-def]
    """What the text did: "stopped", "started" or "ignored"."""
    word = keyword(body)
    if word is None:
        return "ignored"
    try:
        phone = phones.normalize(ascii_digits(sender), country)
    except InvalidInput:
        return "ignored"
    member_id = _member_by_phone(conn, secret, phone)
    if word == "stop":
        if member_id is not None:
            preferences.opt_out(conn, member_id, ("programme", "marketing"), "sms",
                                source="sms_stop", now=now)
        return "stopped"
    if member_id is not None:
        preferences.change(conn, member_id, preferences.Change(programme_sms=True),
                           source="sms_start", now=now)
    return "started"


def routes(db: Database, settings: Settings,
           notify: NotificationSettings | None = None) -> list[Route]:
    config = notify or NotificationSettings.from_env()

    async def inbound(request: Request) -> Response:
        token = config.sms_inbound_token
        if not token:
            return JSONResponse({"error": "NOT_FOUND"}, status_code=404)
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return JSONResponse({"error": "UNAUTHORIZED"}, status_code=401)
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                data = await request.json()
            except ValueError:
                data = None
        else:
            data = dict(await request.form(max_files=0, max_fields=50))
        if not isinstance(data, dict):
            return JSONResponse({"error": "INVALID_BODY"}, status_code=400)
        sender = data.get("from") or data.get("From")
        body = data.get("body") or data.get("Body")
        if not isinstance(sender, str) or not isinstance(body, str):
            return JSONResponse({"error": "INVALID_BODY",
                                 "message": "give the sender's number (from) and the text "
                                            "(body)"}, status_code=400)
        action = db.write(act, settings.secret_key, settings.default_country, sender[:64],
                          body[:1000], utcnow())
        log.info("inbound SMS: %s", action)  # never the number or the text
        return JSONResponse({"action": action})

    endpoint: Callable[[Request], Awaitable[Response]] = inbound
    return [Route(PATH, endpoint, methods=["POST"])]
