"""The member authenticator for the API: `Authorization: Bearer pns_…` from verifySignInCode.

Only bearer tokens count here, never the page's cookie, so a third-party site cannot make a
member's browser call GraphQL mutations with the member's cookie (no CSRF on the API).
"""

from __future__ import annotations

from starlette.requests import Request

from network.auth import Authenticator, AuthError, MemberPrincipal, Principal
from network.signin.service import SignIn
from network.signin.sessions import TOKEN_PREFIX


def bearer_authenticator(signin: SignIn) -> Authenticator:
    def authenticate(request: Request, body: bytes) -> Principal | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip().startswith(TOKEN_PREFIX):
            return None  # not a member token: another authenticator may know it
        session = signin.authenticate(token.strip(), "bearer")
        if session is None:
            raise AuthError(401, "SESSION_INVALID",
                            "the bearer token is unknown, expired or signed out; sign in again")
        return MemberPrincipal(member_id=session.member_id, session_id=session.id)

    return authenticate
