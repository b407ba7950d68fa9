"""Access tokens (JWT, HS256, python-jose).

A token carries the caller's role and region so that every request can be
scoped without trusting anything the client sends besides the signature.
Decoding pins the algorithm and requires ``exp``, ``iat``, ``iss``, ``aud``
and ``sub``.

Token lifetimes run on the real clock, never on the service's business clock:
the demo and the tests move business time forward (a seven-day publicity)
without making anyone's login expire or live longer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from jose import JWTError, jwt

from app.auth.principal import Principal
from app.domain.roles import Role
from app.errors import AuthenticationFailed
from app.settings import Settings

ALGORITHM = "HS256"


def issue_access_token(
    principal: Principal, *, settings: Settings, now: dt.datetime | None = None
) -> tuple[str, int]:
    """Return the token and its lifetime in seconds."""
    now = now or dt.datetime.now(dt.UTC)
    lifetime = dt.timedelta(minutes=settings.access_token_minutes)
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
    }
    token = jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)
    return token, int(lifetime.total_seconds())


def decode_access_token(token: str, *, settings: Settings) -> Principal:
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={
                "require_exp": True,
                "require_iat": True,
                "require_aud": True,
                "require_iss": True,
                "require_sub": True,
            },
        )
    except JWTError as exc:
        raise AuthenticationFailed() from exc

    if claims.get("typ") != "access":
        raise AuthenticationFailed()
    try:
        role = Role(claims["role"])
        return Principal(
            subject=str(claims["sub"]),
            role=role,
            region_code=str(claims["region"]),
            display_name=str(claims.get("name", "")),
        )
    except (KeyError, ValueError) as exc:
        raise AuthenticationFailed() from exc
