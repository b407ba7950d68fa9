"""Tokens of the province's identity provider (统一身份认证), optional.

When ``IDP_ISSUER`` is set, a bearer token signed RS256 by the IdP is
accepted as well as the service's own HS256 tokens. Which verifier runs is
chosen by the token's ``alg`` header, and each verifier pins its own
algorithm: the local HS256 key never checks an RS256 token, and no IdP key
ever checks an HS256 one (so the IdP's public key cannot be used as an HMAC
secret). Without ``IDP_ISSUER`` an RS256 token is refused outright.

Checks: the key named by ``kid`` from the IdP's JWKS (RSA, for signing),
``iss`` = ``IDP_ISSUER``, ``aud`` = ``IDP_AUDIENCE``, ``exp``, ``iat`` and
``sub`` present, and a lifetime (``exp - iat``) of at most
``IDP_MAX_TOKEN_MINUTES``.

Mapping to a principal:

- subject ``idp:<sub>``; ``sub`` must be the IdP's opaque account id (at
  most 60 characters of ``[A-Za-z0-9._@-]``), never a resident ID number,
  since the subject is what audit entries record;
- role: the claim ``IDP_ROLE_CLAIM`` (a string, or a list holding exactly
  one value that ``IDP_ROLE_MAP`` knows), mapped through ``IDP_ROLE_MAP`` to
  a staff role; machine roles never come from the IdP;
- region: the claim ``IDP_REGION_CLAIM``, a 12-digit division code that must
  exist in ``regions`` (checked per request by the caller);
- display name: the claim ``IDP_NAME_CLAIM``, if any.

The JWKS is fetched with httpx and cached for ``IDP_JWKS_CACHE_SECONDS``; a
``kid`` it does not hold triggers one refetch (at most every
``_MIN_REFETCH_SECONDS``, so random ``kid`` values cannot make the service
hammer the IdP). ``IDP_JWKS`` holds the set inline instead (tests, or an
IdP that publishes its keys out of band).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import Any

import httpx
from jose import JWTError, jwk, jwt
from jose.backends.base import Key

from app.auth.principal import Principal
from app.auth.tokens import AccessClaims, check_lifetime, decode_options
from app.domain.roles import MACHINE_ROLES, Role
from app.errors import AuthenticationFailed
from app.settings import Settings

log = logging.getLogger(__name__)

ALGORITHM = "RS256"
ALGORITHMS = [ALGORITHM]
SUBJECT_PREFIX = "idp:"
_SUB = re.compile(r"[A-Za-z0-9._@-]{1,60}")
_REGION = re.compile(r"\d{12}")
_MIN_REFETCH_SECONDS = 30.0
_FETCH_TIMEOUT = httpx.Timeout(5.0)


class JwksCache:
    """The IdP's signing keys by ``kid``."""

    def __init__(
        self,
        *,
        url: str,
        inline: str,
        ttl_seconds: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._url = url
        self._inline = inline
        self._ttl = ttl_seconds
        self._transport = transport
        self._keys: dict[str, dict[str, Any]] | None = None
        self._fetched_at = -float("inf")
        self._lock = asyncio.Lock()
        self.fetches = 0  # how often the set was loaded (for tests and metrics)

    async def key(self, kid: str) -> dict[str, Any] | None:
        async with self._lock:
            age = time.monotonic() - self._fetched_at
            if self._keys is None or age >= self._ttl:
                await self._load()
            elif kid not in self._keys and age >= _MIN_REFETCH_SECONDS:
                await self._load()  # the IdP may have rotated its keys
            return (self._keys or {}).get(kid)

    async def _load(self) -> None:
        self._fetched_at = time.monotonic()
        self.fetches += 1
        try:
            document = json.loads(self._inline) if self._inline else await self._get()
            self._keys = _signing_keys(document)
        except (httpx.HTTPError, ValueError, TypeError) as exc:
            # Keep the keys we had: the IdP being briefly down should not
            # log everyone out. The token itself is never logged.
            log.warning("IdP JWKS could not be loaded: %s", type(exc).__name__)
            if self._keys is None:
                self._keys = {}

    async def _get(self) -> Any:
        async with httpx.AsyncClient(
            timeout=_FETCH_TIMEOUT, transport=self._transport
        ) as client:
            response = await client.get(self._url)
            response.raise_for_status()
            return response.json()


def _signing_keys(document: Any) -> dict[str, dict[str, Any]]:
    """RSA signing keys with a ``kid``; anything else in the set is ignored."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWKS")
    keys: dict[str, dict[str, Any]] = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA":
            continue
        if entry.get("use", "sig") != "sig":
            continue
        if entry.get("alg", ALGORITHM) != ALGORITHM:
            continue
        if isinstance(entry.get("kid"), str):
            keys[entry["kid"]] = entry
    return keys


class IdpVerifier:
    def __init__(
        self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._settings = settings
        self._role_map = {
            name: Role(value) for name, value in settings.idp_role_map.items()
        }
        self.jwks = JwksCache(
            url=settings.idp_jwks_url,
            inline=settings.idp_jwks,
            ttl_seconds=settings.idp_jwks_cache_seconds,
            transport=transport,
        )

    async def verify(self, token: str) -> AccessClaims:
        settings = self._settings
        try:
            header = jwt.get_unverified_header(token)
        except JWTError as exc:
            raise AuthenticationFailed() from exc
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str):
            raise AuthenticationFailed()
        data = await self.jwks.key(kid)
        if data is None:
            raise AuthenticationFailed()
        try:
            # The key object is built for RS256 alone; decode pins it again.
            key: Key = jwk.construct(data, algorithm=ALGORITHM)
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=settings.idp_audience,
                issuer=settings.idp_issuer,
                options=decode_options(),
            )
        except JWTError as exc:
            raise AuthenticationFailed() from exc
        check_lifetime(claims, max_minutes=settings.idp_max_token_minutes)
        return AccessClaims(principal=self._principal(claims), session_id=None)

    def _principal(self, claims: dict[str, Any]) -> Principal:
        settings = self._settings
        sub = claims.get("sub")
        region = claims.get(settings.idp_region_claim)
        role = self._role(claims.get(settings.idp_role_claim))
        name = claims.get(settings.idp_name_claim, "")
        if (
            not isinstance(sub, str)
            or not _SUB.fullmatch(sub)
            or not isinstance(region, str)
            or not _REGION.fullmatch(region)
            or role is None
        ):
            raise AuthenticationFailed()
        return Principal(
            subject=SUBJECT_PREFIX + sub,
            role=role,
            region_code=region,
            display_name=name[:64] if isinstance(name, str) else "",
        )

    def _role(self, value: Any) -> Role | None:
        values = value if isinstance(value, list) else [value]
        known = [v for v in values if isinstance(v, str) and v in self._role_map]
        mapped = {self._role_map[v] for v in known}
        if len(mapped) != 1:
            return None  # none, or ambiguous: refused rather than guessed
        (role,) = mapped
        return None if role in MACHINE_ROLES else role


def verifier_for(state: Any, settings: Settings) -> IdpVerifier | None:
    """The app's verifier (and its JWKS cache), made on first use; ``None``
    when no IdP is configured. ``state`` is ``app.state``; a test may put its
    own verifier there as ``idp_verifier``."""
    if not settings.idp_enabled:
        return None
    verifier: IdpVerifier | None = getattr(state, "idp_verifier", None)
    if verifier is None:
        verifier = IdpVerifier(settings)
        state.idp_verifier = verifier
    return verifier
