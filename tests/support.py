"""Helpers for driving the API as the demo's people do."""

from __future__ import annotations

import datetime as dt
from typing import Any

from httpx import AsyncClient, Response

from app.clock import OffsetClock
from app.domain.idnumber import compose_id_number
from app.domain.money import Money
from app.seed import DEMO_CLIENTS, DEMO_PASSWORD

COMMUNITY = "430204001001"  # 田心社区（示例）, where community1 works


def id_number(region: str, birth: str, sequence: int) -> str:
    """A checksum-valid ID number; ``birth`` is ``YYYYMMDD``."""
    born = dt.date(int(birth[:4]), int(birth[4:6]), int(birth[6:]))
    return compose_id_number(region, born, sequence)


class Api:
    """An HTTP client that logs in as demo users by name."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self._tokens: dict[str, str] = {}

    async def token(self, who: str) -> str:
        if who not in self._tokens:
            clients = {c.client_id: c for c in DEMO_CLIENTS}
            if who in clients:
                form = {
                    "grant_type": "client_credentials",
                    "client_id": who,
                    "client_secret": clients[who].secret,
                }
            else:
                form = {"username": who, "password": DEMO_PASSWORD}
            response = await self.client.post("/api/v1/auth/token", data=form)
            assert response.status_code == 200, response.text
            self._tokens[who] = response.json()["access_token"]
        return self._tokens[who]

    async def call(
        self,
        method: str,
        path: str,
        *,
        who: str,
        json: Any = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Response:
        sent = {"Authorization": f"Bearer {await self.token(who)}", **(headers or {})}
        return await self.client.request(
            method, path, json=json, headers=sent, **kwargs
        )

    async def ok(
        self, method: str, path: str, *, who: str, json: Any = None, status: int = 200
    ) -> Any:
        response = await self.call(method, path, who=who, json=json)
        assert response.status_code == status, response.text
        return response.json()

    async def household(
        self,
        *,
        members: list[tuple[str, str, str, str]],
        category: str = "none",
        region_code: str = COMMUNITY,
        account: str = "6217002870012345678",
    ) -> dict[str, Any]:
        """Register a household; ``members`` are (name, id, relation, birth)."""
        body = {
            "region_code": region_code,
            "address": "石峰区田心街道示例路 1 号",
            "category": category,
            "bank_name": "中国建设银行株洲石峰支行",
            "bank_account_name": members[0][0],
            "bank_account_no": account,
            "members": [
                {
                    "name": name,
                    "id_number": number,
                    "relation": relation,
                    **({"birth_date": birth} if birth else {}),
                    "is_applicant": index == 0,
                }
                for index, (name, number, relation, birth) in enumerate(members)
            ],
        }
        result: dict[str, Any] = await self.ok(
            "POST", "/api/v1/households", who="community1", json=body, status=201
        )
        return result


# The smallest file the upload takes for a PDF scan.
PDF_SCAN = b"%PDF-1.4\n%%EOF\n"


async def authorise_check(
    api: Api,
    app_id: int,
    *,
    signed_by: str = "申请人",
    signed_on: str = "2026-03-01",
    who: str = "community1",
) -> dict[str, Any]:
    """File the household's signed authorisation letter, which a check needs."""
    response = await api.call(
        "POST",
        f"/api/v1/applications/{app_id}/economic-check/authorisation",
        who=who,
        data={"signed_by": signed_by, "signed_on": signed_on},
        files={"file": ("授权书.pdf", PDF_SCAN, "application/pdf")},
    )
    assert response.status_code == 201, response.text
    detail: dict[str, Any] = response.json()
    return detail


FULL_MATERIALS = [
    "application_form",
    "id_card_copy",
    "household_register_copy",
    "hardship_evidence",
]


def approval(amount: str) -> tuple[str, str, dict[str, Any] | None]:
    """Who approves ``amount`` (R3.5): the street up to 1,000, else the district."""
    if Money.parse(amount) <= Money.yuan(1000):
        return ("streetlead1", "/street-approval", {})
    return ("officer1", "/district-decision", {"decision": "approve"})


async def awaiting_payment(
    api: Api, clock: OffsetClock, *, seq: int, amount: str, account: str
) -> int:
    """A one-person household's application taken to the end of publicity."""
    household = await api.household(
        members=[("韩六", id_number("430204", "19750505", seq), "本人", "1975-05-05")],
        account=account,
    )
    created = await api.ok(
        "POST",
        "/api/v1/applications",
        who="community1",
        status=201,
        json={
            "household_id": household["id"],
            "assistance_type": "emergency",
            "reason": "accident",
            "description": "意外事故",
            "requested_amount": amount,
            "materials": FULL_MATERIALS,
        },
    )
    app_id = int(created["id"])
    base = f"/api/v1/applications/{app_id}"
    steps: list[tuple[str, str, dict[str, Any] | None]] = [
        ("community1", "/intake", {"decision": "accept"}),
        (
            "community1",
            "/investigation",
            {"home_visit_done": True, "monthly_income_per_capita": "0.00"},
        ),
        (
            "street1",
            "/street-opinion",
            {"decision": "eligible", "proposed_amount": amount},
        ),
        approval(amount),
        ("street1", "/publicity/start", None),
    ]
    for who, path, body in steps:
        await api.ok("POST", base + path, who=who, json=body)
    clock.advance(dt.timedelta(days=7))
    await api.ok("POST", base + "/publicity/close", who="street1")
    return app_id


async def signed_form(api: Api, application_ids: list[int]) -> dict[str, Any]:
    """A disbursement form for these applications, signed by all three."""
    form: dict[str, Any] = await api.ok(
        "POST",
        "/api/v1/disbursement-forms",
        who="officer1",
        status=201,
        json={"application_ids": application_ids},
    )
    for signer in ("officer1", "assistlead1", "financelead1"):
        form = await api.ok(
            "POST",
            f"/api/v1/disbursement-forms/{form['id']}/signatures",
            who=signer,
            status=201,
            json={"payload_sha256": form["payload_sha256"]},
        )
    return form


async def paid(api: Api, clock: OffsetClock, *, seq: int, amount: str) -> int:
    """An application taken to ``paid``: by the street up to 1,000 (R3.5), else
    through a signed form and a bank batch."""
    app_id = await awaiting_payment(
        api, clock, seq=seq, amount=amount, account=f"62170000{seq:08d}"
    )
    if Money.parse(amount) <= Money.yuan(1000):
        await api.ok(
            "POST",
            f"/api/v1/applications/{app_id}/street-payment",
            who="street1",
            json={"voucher_no": f"TX-{seq:04d}"},
        )
        return app_id
    await signed_form(api, [app_id])
    batch = await api.ok(
        "POST", "/api/v1/payout-batches", who="officer1", status=201, json={}
    )
    line = batch["lines"][0]
    await api.ok(
        "POST",
        f"/api/v1/payout-batches/{batch['id']}/results",
        who="bank-demo",
        json={
            "lines": [
                {
                    "line_no": line["line_no"],
                    "reference": f"P{line['payment_id']:08d}",
                    "amount": line["amount"],
                    "result": "success",
                }
            ]
        },
    )
    return app_id


async def enable_fast_relief(api: Api) -> None:
    """Shifeng district switches on 小额快救 from the start of 2026."""
    await api.ok(
        "POST",
        "/api/v1/policy/parameters",
        who="admin1",
        status=201,
        json={
            "name": "small_fast_relief",
            "region_code": "430204000000",
            "valid_from": "2026-01-01",
            "value": "on",
        },
    )


async def fund_the_street(api: Api) -> None:
    """田心街道's reserve fund, set up and filled to its cap of 20,000.00."""
    await api.ok(
        "POST",
        "/api/v1/reserve-funds",
        who="officer1",
        status=201,
        json={
            "street_code": "430204001000",
            "year": 2026,
            "last_year_spending": "300000.00",
        },
    )
    await api.ok(
        "POST",
        "/api/v1/reserve-funds/430204001000/replenishments",
        who="officer1",
        status=201,
        json={"amount": "20000.00", "note": "年初拨付"},
    )
