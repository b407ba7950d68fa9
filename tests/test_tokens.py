"""Bearer tokens: what is refused, and the province IdP's tokens.

Every forged token below is built from a real login's claims, changing one
thing, and a control re-signs the same claims unchanged and is accepted: the
401s come from the one change, not from a broken test token.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from functools import cache
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from jose import jwk, jwt
from pydantic import ValidationError

from app.auth.idp import IdpVerifier
from app.auth.principal import Principal
from app.auth.tokens import issue_access_token
from app.domain.roles import Role
from app.errors import AuthenticationFailed
from app.main import create_app
from app.seed import DEMO_PASSWORD
from app.settings import Settings

IDP_ISSUER = "https://idp.hunan.example/realms/mz"
IDP_AUDIENCE = "linshi-jiuzhu"
STREET = "430204001000"  # 田心街道
ROLE_MAP = {"mz_street_worker": "street_worker", "mz_officer": "district_officer"}


# --- helpers ---------------------------------------------------------------


@cache
def rsa_key(label: str) -> rsa.RSAPrivateKey:
    """One RSA key per label, made once per run (key generation is slow)."""
    del label
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(label: str) -> bytes:
    return rsa_key(label).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_pem(label: str) -> bytes:
    return (
        rsa_key(label)
        .public_key()
        .public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def public_jwk(label: str, kid: str) -> dict[str, Any]:
    data: dict[str, Any] = jwk.construct(public_pem(label), "RS256").to_dict()
    return {**data, "kid": kid, "use": "sig"}


def jwks(*keys: tuple[str, str]) -> str:
    return json.dumps({"keys": [public_jwk(label, kid) for label, kid in keys]})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_signed(header: dict[str, Any], claims: dict[str, Any], key: bytes) -> str:
    """An HMAC-SHA256 JWT built by hand: python-jose refuses to use a PEM key
    as an HMAC secret, which is exactly what a key-confusion attack does."""
    signing_input = (
        f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    )
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def idp_claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": IDP_ISSUER,
        "aud": IDP_AUDIENCE,
        "sub": "a1b2c3d4-0001",
        "iat": now,
        "exp": now + 600,
        "role": "mz_street_worker",
        "region": STREET,
        "name": "省平台用户",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def idp_token(label: str = "idp", kid: str = "k1", **changes: Any) -> str:
    return jwt.encode(
        idp_claims(**changes),
        private_pem(label),
        algorithm="RS256",
        headers={"kid": kid},
    )


def idp_settings(base: Settings, **extra: Any) -> Settings:
    fields: dict[str, Any] = {
        "idp_issuer": IDP_ISSUER,
        "idp_audience": IDP_AUDIENCE,
        "idp_jwks": jwks(("idp", "k1")),
        "idp_role_map": ROLE_MAP,
        **extra,
    }
    return base.model_copy(update=fields)


@contextlib.asynccontextmanager
async def serve(settings: Settings, app: FastAPI) -> AsyncIterator[AsyncClient]:
    """Another instance of the service on the same database and clock."""
    other = create_app(settings, clock=app.state.clock)
    async with other.router.lifespan_context(other):
        transport = ASGITransport(app=other)
        async with AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def login(client: AsyncClient, who: str = "street1") -> dict[str, Any]:
    response = await client.post(
        "/api/v1/auth/token", data={"username": who, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def resign(
    token: str,
    key: str,
    *,
    algorithm: str = "HS256",
    drop: tuple[str, ...] = (),
    **changes: Any,
) -> str:
    claims = {**jwt.get_unverified_claims(token), **changes}
    for name in drop:
        del claims[name]
    return jwt.encode(claims, key, algorithm=algorithm)


async def me(client: AsyncClient, token: str) -> httpx.Response:
    return await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}
    )


@pytest.fixture
def secret(app: FastAPI) -> str:
    value: str = app.state.settings.jwt_secret
    return value


# --- our own tokens --------------------------------------------------------


async def test_a_login_token_is_hs256_with_every_required_claim(
    client: AsyncClient, secret: str
) -> None:
    body = await login(client)

    header = jwt.get_unverified_header(body["access_token"])
    claims = jwt.get_unverified_claims(body["access_token"])
    assert header["alg"] == "HS256"
    assert {"exp", "iat", "iss", "aud", "sub", "sid"} <= claims.keys()
    assert claims["iss"] == "linshi-jiuzhu"
    assert claims["aud"] == "linshi-jiuzhu-api"
    assert claims["exp"] - claims["iat"] == 1800
    assert body["expires_in"] == 1800
    # The control for the refusals below: the same claims re-signed pass.
    assert (await me(client, resign(body["access_token"], secret))).status_code == 200


def test_the_access_token_lifetime_setting_is_capped_at_30_minutes(
    app: FastAPI,
) -> None:
    with pytest.raises(ValidationError):
        Settings(access_token_minutes=31)
    short = app.state.settings.model_copy(update={"access_token_minutes": 5})
    principal = Principal("user:1", Role.ADMIN, "430204000000", "x")

    token, lifetime = issue_access_token(principal, settings=short, session_id=1)

    claims = jwt.get_unverified_claims(token)
    assert lifetime == 300
    assert claims["exp"] - claims["iat"] == 300


async def test_alg_none_is_refused(client: AsyncClient) -> None:
    token = (await login(client))["access_token"]
    claims = jwt.get_unverified_claims(token)
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    unsigned = f"{header}.{b64(json.dumps(claims).encode())}."

    response = await me(client, unsigned)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


async def test_hs512_is_refused_where_hs256_is_issued(
    client: AsyncClient, secret: str
) -> None:
    token = (await login(client))["access_token"]

    response = await me(client, resign(token, secret, algorithm="HS512"))

    assert response.status_code == 401


@pytest.mark.parametrize("claim", ["aud", "exp", "iat", "iss", "sub", "sid"])
async def test_a_token_missing_a_required_claim_is_refused(
    client: AsyncClient, secret: str, claim: str
) -> None:
    token = (await login(client))["access_token"]

    response = await me(client, resign(token, secret, drop=(claim,)))

    assert response.status_code == 401


async def test_a_token_expired_by_one_second_is_refused(
    client: AsyncClient, secret: str
) -> None:
    token = (await login(client))["access_token"]
    now = int(time.time())

    response = await me(client, resign(token, secret, iat=now - 600, exp=now - 1))

    assert response.status_code == 401


async def test_a_token_that_says_it_lives_longer_than_30_minutes_is_refused(
    client: AsyncClient, secret: str
) -> None:
    token = (await login(client))["access_token"]
    now = int(time.time())

    response = await me(client, resign(token, secret, iat=now, exp=now + 1801))

    assert response.status_code == 401


async def test_a_token_signed_by_another_key_is_refused(client: AsyncClient) -> None:
    token = (await login(client))["access_token"]

    response = await me(client, resign(token, "another-key-" + "y" * 32))

    assert response.status_code == 401


async def test_a_forged_role_signed_with_another_key_is_refused(
    client: AsyncClient,
) -> None:
    token = (await login(client))["access_token"]

    forged = resign(token, "another-key-" + "y" * 32, role="admin")

    assert (await me(client, forged)).status_code == 401


async def test_a_forged_role_or_region_signed_with_the_real_key_is_refused(
    client: AsyncClient, secret: str
) -> None:
    # The real key and an open session: only the database's role and region
    # differ from the token's. (Someone who holds the key could do anything;
    # this is the re-check that a role or region change takes effect at once.)
    token = (await login(client))["access_token"]

    assert (await me(client, resign(token, secret, role="admin"))).status_code == 401
    other_street = resign(token, secret, region="430204002000")
    assert (await me(client, other_street)).status_code == 401


async def test_a_token_of_another_accounts_session_is_refused(
    client: AsyncClient, secret: str
) -> None:
    mine = (await login(client, "street1"))["access_token"]
    theirs = jwt.get_unverified_claims(
        (await login(client, "officer1"))["access_token"]
    )

    # street1's claims under officer1's session id.
    response = await me(client, resign(mine, secret, sid=theirs["sid"]))

    assert response.status_code == 401


# --- the province's identity provider --------------------------------------


async def test_an_idp_token_is_accepted_with_its_role_and_region_mapped(
    app: FastAPI,
) -> None:
    async with serve(idp_settings(app.state.settings), app) as client:
        response = await me(client, idp_token())

    assert response.status_code == 200, response.text
    assert response.json() == {
        "subject": "idp:a1b2c3d4-0001",
        "display_name": "省平台用户",
        "role": "street_worker",
        "role_title": "街道社会救助经办人员",
        "region_code": STREET,
    }


async def test_an_idp_role_given_as_a_list_maps_when_one_value_is_known(
    app: FastAPI,
) -> None:
    token = idp_token(role=["uma_authorization", "mz_officer"], region="430204000000")

    async with serve(idp_settings(app.state.settings), app) as client:
        response = await me(client, token)

    assert response.status_code == 200, response.text
    assert response.json()["role"] == "district_officer"


async def test_an_idp_token_is_refused_when_no_idp_is_configured(
    client: AsyncClient,
) -> None:
    response = await me(client, idp_token())

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("reason", "token"),
    [
        ("another RSA key, same kid", lambda: idp_token(label="stranger")),
        ("unknown kid", lambda: idp_token(kid="k9")),
        ("wrong issuer", lambda: idp_token(iss="https://evil.example/")),
        ("wrong audience", lambda: idp_token(aud="someone-else")),
        ("no audience", lambda: idp_token(aud=None)),
        ("no expiry", lambda: idp_token(exp=None)),
        (
            "expired",
            lambda: idp_token(iat=int(time.time()) - 60, exp=int(time.time()) - 1),
        ),
        ("lives too long", lambda: idp_token(exp=int(time.time()) + 3600)),
        ("unmapped role", lambda: idp_token(role="mz_admin")),
        (
            "two mapped roles",
            lambda: idp_token(role=["mz_officer", "mz_street_worker"]),
        ),
        ("region not in the tree", lambda: idp_token(region="110101001000")),
        ("region not a code", lambda: idp_token(region="田心街道")),
        ("subject too long", lambda: idp_token(sub="x" * 61)),
    ],
)
async def test_an_idp_token_is_refused_when(
    app: FastAPI, reason: str, token: Any
) -> None:
    async with serve(idp_settings(app.state.settings), app) as client:
        response = await me(client, token())

    assert response.status_code == 401, reason


async def test_an_hs256_token_signed_with_the_idps_public_key_is_refused(
    app: FastAPI,
) -> None:
    # Key confusion: the IdP's public key is public, so an attacker can use
    # it as an HMAC secret and hope the verifier does the same.
    claims = idp_claims(role="mz_officer", region="430204000000")
    forged = hand_signed(
        {"alg": "HS256", "typ": "JWT", "kid": "k1"}, claims, public_pem("idp")
    )

    async with serve(idp_settings(app.state.settings), app) as client:
        response = await me(client, forged)

    assert response.status_code == 401


async def test_an_rs256_token_is_never_checked_with_the_local_key(
    app: FastAPI, client: AsyncClient
) -> None:
    token = (await login(client))["access_token"]
    claims = jwt.get_unverified_claims(token)
    # Our own claims, signed RS256 by a key the IdP publishes: still refused,
    # since only the IdP's issuer and audience are accepted on that path.
    forged = jwt.encode(
        claims, private_pem("idp"), algorithm="RS256", headers={"kid": "k1"}
    )

    async with serve(idp_settings(app.state.settings), app) as other:
        response = await me(other, forged)

    assert response.status_code == 401


def test_a_half_configured_idp_does_not_start() -> None:
    with pytest.raises(ValidationError, match="IDP_AUDIENCE"):
        Settings(IDP_ISSUER=IDP_ISSUER)
    with pytest.raises(ValidationError, match="IDP_ROLE_MAP"):
        Settings(IDP_ISSUER=IDP_ISSUER, IDP_AUDIENCE="a", IDP_JWKS=jwks())
    with pytest.raises(ValidationError, match="IDP_ROLE_MAP"):
        Settings(
            IDP_ISSUER=IDP_ISSUER,
            IDP_AUDIENCE="a",
            IDP_JWKS=jwks(),
            IDP_ROLE_MAP={"bank": "bank"},
        )


async def test_the_jwks_is_cached_and_fetched_again_for_an_unknown_kid(
    app: FastAPI,
) -> None:
    served = [jwks(("idp", "k1"))]
    requests: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(str(request.url))
        return httpx.Response(200, text=served[-1])

    settings = idp_settings(
        app.state.settings,
        idp_jwks="",
        idp_jwks_url="https://idp.hunan.example/certs",
    )
    verifier = IdpVerifier(settings, transport=httpx.MockTransport(handler))

    first = await verifier.verify(idp_token())
    again = await verifier.verify(idp_token(sub="second-user"))
    assert len(requests) == 1  # cached
    # The IdP rotates to a new key: the unknown kid fetches the set again.
    served.append(jwks(("idp", "k1"), ("idp2", "k2")))
    verifier.jwks._fetched_at -= 31  # past the minimum pause between fetches
    rotated = await verifier.verify(idp_token(label="idp2", kid="k2"))

    assert first.principal.subject == "idp:a1b2c3d4-0001"
    assert again.principal.subject == "idp:second-user"
    assert rotated.principal.role is Role.STREET_WORKER
    assert requests == ["https://idp.hunan.example/certs"] * 2
    # Random kids do not make it fetch again straight away.
    with pytest.raises(AuthenticationFailed):
        await verifier.verify(idp_token(kid="k-random"))
    assert len(requests) == 2


async def test_an_unreachable_jwks_refuses_idp_tokens(app: FastAPI) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    settings = idp_settings(
        app.state.settings, idp_jwks="", idp_jwks_url="https://idp.hunan.example/certs"
    )
    verifier = IdpVerifier(settings, transport=httpx.MockTransport(handler))

    with pytest.raises(AuthenticationFailed):
        await verifier.verify(idp_token())
