"""The service's own access tokens (JWT, HS256, python-jose).

A token carries the caller's role and region so that every request can be
scoped without trusting anything the client sends besides the signature, and
the id of its login session (``sid``) so that every request can check the
session is still open: logout and a disabled account end a token at once.

Decoding pins the algorithm to HS256 (``alg: none``, HS512, RS256 and any
other are refused before a key is looked at) and requires ``exp``, ``iat``,
``iss``, ``aud``, ``sub`` and ``sid``. A token whose own claims say it lives
longer than ``MAX_ACCESS_MINUTES`` is refused too, whatever key signed it.

Token lifetimes run on the real clock, never on the service's business clock:
the demo and the tests move business time forward (a seven-day publicity)
without making anyone's login expire or live longer.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from jose import JWTError, jwt

from app.auth.principal import Principal
from app.domain.roles import Role
from app.errors import AuthenticationFailed
from app.settings import Settings

ALGORITHM = "HS256"
# The allow-list passed to every decode of our own tokens.
ALGORITHMS = [ALGORITHM]
MAX_ACCESS_MINUTES = 30

_REQUIRED = ("exp", "iat", "iss", "aud", "sub")


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """What a verified access token says: who, and under which session.

    ``session_id`` is ``None`` only for tokens of the province's IdP, whose
    sessions live at the IdP.
    """

    principal: Principal
    session_id: int | None


def issue_access_token(
    principal: Principal,
    *,
    settings: Settings,
    session_id: int | None = None,
    now: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> tuple[str, int]:
    """Return the token and its lifetime in seconds.

    ``not_after`` (the session's end) shortens the token so that it never
    outlives its session. A token without ``session_id`` is refused by
    ``decode_access_token``: every login goes through a session.
    """
    now = now or dt.datetime.now(dt.UTC)
    lifetime = dt.timedelta(
        minutes=min(settings.access_token_minutes, MAX_ACCESS_MINUTES)
    )
    if not_after is not None:
        lifetime = max(min(lifetime, not_after - now), dt.timedelta(seconds=1))
    claims: dict[str, Any] = {
        "sub": principal.subject,
        "role": principal.role.value,
        "region": principal.region_code,
        "name": principal.display_name,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "typ": "access",
        # Unique per token, so two tokens of one session minted in the same
        # second still differ (and can be told apart in a log of token ids).
        "jti": secrets.token_urlsafe(12),
    }
    if session_id is not None:
        claims["sid"] = str(session_id)
    token = jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)
    return token, int(lifetime.total_seconds())


def decode_options() -> dict[str, Any]:
    """python-jose's checks, all on, and the registered claims all required."""
    return {
        "verify_signature": True,
        "verify_aud": True,
        "verify_iat": True,
        "verify_exp": True,
        "verify_nbf": True,
        "verify_iss": True,
        "verify_sub": True,
        "leeway": 0,
        **{f"require_{claim}": True for claim in _REQUIRED},
    }


def check_lifetime(claims: dict[str, Any], *, max_minutes: int) -> None:
    """Refuse a token whose ``exp - iat`` is longer than allowed."""
    try:
        lifetime = int(claims["exp"]) - int(claims["iat"])
    except (KeyError, TypeError, ValueError) as exc:
        raise AuthenticationFailed() from exc
    if lifetime <= 0 or lifetime > max_minutes * 60:
        raise AuthenticationFailed()


def decode_access_token(token: str, *, settings: Settings) -> AccessClaims:
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=ALGORITHMS,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options=decode_options(),
        )
    except JWTError as exc:
        raise AuthenticationFailed() from exc

    if claims.get("typ") != "access":
        raise AuthenticationFailed()
    check_lifetime(claims, max_minutes=MAX_ACCESS_MINUTES)
    sid = claims.get("sid")
    if not isinstance(sid, str) or not sid.isdigit() or int(sid) > 2**31 - 1:
        raise AuthenticationFailed()
    try:
        principal = Principal(
            subject=str(claims["sub"]),
            role=Role(claims["role"]),
            region_code=str(claims["region"]),
            display_name=str(claims.get("name", "")),
        )
    except (KeyError, ValueError) as exc:
        raise AuthenticationFailed() from exc
    return AccessClaims(principal=principal, session_id=int(sid))
