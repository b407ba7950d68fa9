"""Signatures and bank results under races and mistakes."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI
from sqlalchemy import update
from sqlmodel import col

from app.clock import OffsetClock
from app.persistence.db import make_sessionmaker
from app.persistence.tables import Payment
from tests.support import Api, awaiting_payment, signed_form


async def _signed_batch(api: Api, clock: OffsetClock) -> dict[str, Any]:
    app_id = await awaiting_payment(
        api, clock, seq=81, amount="1900.00", account="6217000000008100"
    )
    await signed_form(api, [app_id])
    batch: dict[str, Any] = await api.ok(
        "POST", "/api/v1/payout-batches", who="officer1", status=201, json={}
    )
    return batch


async def test_two_leaders_signing_at_once_still_complete_the_form(
    api: Api, clock: OffsetClock
) -> None:
    app_id = await awaiting_payment(
        api, clock, seq=82, amount="1700.00", account="6217000000008200"
    )
    form = await api.ok(
        "POST",
        "/api/v1/disbursement-forms",
        who="officer1",
        status=201,
        json={"application_ids": [app_id]},
    )
    url = f"/api/v1/disbursement-forms/{form['id']}/signatures"
    body = {"payload_sha256": form["payload_sha256"]}
    await api.ok("POST", url, who="officer1", status=201, json=body)

    leaders = ("assistlead1", "financelead1")
    responses = await asyncio.gather(
        *(api.call("POST", url, who=who, json=body) for who in leaders)
    )
    for who, response in zip(leaders, responses, strict=True):
        if response.status_code == 409:
            # The loser of the race is asked to retry, and the retry completes.
            assert response.json()["code"] == "concurrent_update"
            await api.ok("POST", url, who=who, status=201, json=body)
        else:
            assert response.status_code == 201

    final = await api.ok(
        "GET", f"/api/v1/disbursement-forms/{form['id']}", who="officer1"
    )
    assert final["status"] == "signed"
    assert len(final["signatures"]) == 3
    assert [p["status"] for p in final["payments"]] == ["signed"]


async def test_a_result_file_naming_a_line_twice_is_refused_whole(
    api: Api, clock: OffsetClock
) -> None:
    batch = await _signed_batch(api, clock)
    line = batch["lines"][0]
    reference = f"P{line['payment_id']:08d}"
    url = f"/api/v1/payout-batches/{batch['id']}/results"

    response = await api.call(
        "POST",
        url,
        who="bank-demo",
        json={
            "lines": [
                {
                    "line_no": 1,
                    "reference": reference,
                    "amount": "1900.00",
                    "result": "success",
                },
                {
                    "line_no": 1,
                    "reference": reference,
                    "amount": "1900.00",
                    "result": "failed",
                    "reason_code": "account_frozen",
                    "reason": "账户冻结",
                },
            ]
        },
    )

    assert response.status_code == 422
    assert response.json()["lines"] == [
        {"line_no": 1, "error": "同一行在结果中重复出现"}
    ]
    after = await api.ok(
        "GET", f"/api/v1/payout-batches/{batch['id']}", who="bank-demo"
    )
    assert after["lines"][0]["result"] is None
    assert after["status"] == "ready"


async def test_results_imply_receipt_and_a_wrong_amount_names_its_line(
    api: Api, clock: OffsetClock
) -> None:
    batch = await _signed_batch(api, clock)
    reference = f"P{batch['lines'][0]['payment_id']:08d}"
    url = f"/api/v1/payout-batches/{batch['id']}/results"

    wrong = await api.call(
        "POST",
        url,
        who="bank-demo",
        json={
            "lines": [
                {
                    "line_no": 1,
                    "reference": reference,
                    "amount": "90.00",
                    "result": "success",
                }
            ]
        },
    )
    assert wrong.status_code == 422
    assert "第 1 行" in wrong.json()["detail"]
    assert "1900.00" in wrong.json()["detail"]

    done = await api.ok(
        "POST",
        url,
        who="bank-demo",
        json={
            "lines": [
                {
                    "line_no": 1,
                    "reference": reference,
                    "amount": "1900.00",
                    "result": "failed",
                    "reason_code": "account_closed",
                    "reason": "账户已销户",
                }
            ]
        },
    )
    assert done["failed"] == 1
    assert done["batch"]["status"] == "reconciled"
    assert done["batch"]["acknowledged_at"] is not None
    assert done["batch"]["lines"][0]["result_reason"] == "账户已销户"


async def test_a_change_after_signing_voids_the_signatures(
    app: FastAPI, api: Api, clock: OffsetClock
) -> None:
    app_id = await awaiting_payment(
        api, clock, seq=83, amount="1500.00", account="6217000000008300"
    )
    form = await signed_form(api, [app_id])

    # Someone changes the payee's account behind the service's back.
    sessionmaker = make_sessionmaker(app.state.engine)
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(Payment)
            .where(col(Payment.application_id) == app_id)
            .values(account_no="6217000000009999")
        )

    refused = await api.call("POST", "/api/v1/payout-batches", who="officer1", json={})

    assert refused.status_code == 409
    assert refused.json()["code"] == "signatures_void"
    assert refused.json()["form_id"] == form["id"]
