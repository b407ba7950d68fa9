"""Failed bank lines, corrected accounts, withdrawals, result files, reports."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from openpyxl import load_workbook

from app.clock import OffsetClock
from tests.support import Api, awaiting_payment, signed_form

BATCHES = "/api/v1/payout-batches"
FORMS = "/api/v1/disbursement-forms"


async def _batch(api: Api, template: str = "generic_csv") -> Any:
    return await api.ok(
        "POST", BATCHES, who="officer1", status=201, json={"template": template}
    )


def _line(batch: Any, index: int, result: str, code: str | None = None) -> Any:
    line = batch["lines"][index]
    return {
        "line_no": line["line_no"],
        "reference": f"P{line['payment_id']:08d}",
        "amount": line["amount"],
        "result": result,
        **({"reason_code": code} if code else {}),
    }


async def _correct(api: Api, household_id: int, account: str, who: str) -> Any:
    return await api.ok(
        "PUT",
        f"/api/v1/households/{household_id}/bank-account",
        who=who,
        json={
            "bank_name": "中国工商银行株洲分行",
            "bank_account_name": "韩六",
            "bank_account_no": account,
            "reason": "银行回单：账户已销户，经本人确认更正",
        },
    )


async def test_a_failed_line_is_paid_again_only_to_a_corrected_account(
    api: Api, clock: OffsetClock
) -> None:
    failing = await awaiting_payment(
        api, clock, seq=91, amount="1900.00", account="6217000000009100"
    )
    paying = await awaiting_payment(
        api, clock, seq=92, amount="2500.00", account="6217000000009200"
    )
    await signed_form(api, [failing, paying])
    first = await _batch(api)
    by_app = {line["payment_id"]: index for index, line in enumerate(first["lines"])}
    detail = await api.ok("GET", f"/api/v1/applications/{failing}", who="officer1")
    failing_index = by_app[detail["payments"][0]["id"]]

    summary = await api.ok(
        "POST",
        f"{BATCHES}/{first['id']}/results",
        who="bank-demo",
        json={
            "lines": [
                _line(first, failing_index, "failed", "account_closed"),
                _line(first, 1 - failing_index, "success"),
            ]
        },
    )
    assert (summary["applied"], summary["failed"]) == (2, 1)
    assert summary["paid_total"] == "2500.00"
    after = await api.ok("GET", f"/api/v1/applications/{failing}", who="officer1")
    assert after["status"] == "awaiting_payment"
    assert [(p["status"], p["failure_reason"]) for p in after["payments"]] == [
        ("failed", "账户已销户")
    ]

    # The same account again would fail again: the form refuses it.
    unchanged = await api.call(
        "POST", FORMS, who="officer1", json={"application_ids": [failing]}
    )
    assert unchanged.status_code == 409
    assert unchanged.json()["code"] == "account_not_corrected"

    household = await _correct(
        api, after["household_id"], "6222000000009101", who="street1"
    )
    assert household["bank_account_masked"].endswith("9101")
    second_form = await signed_form(api, [failing])
    assert [p["account_masked"][-4:] for p in second_form["payments"]] == ["9101"]
    twice = await api.call(
        "POST", FORMS, who="officer1", json={"application_ids": [failing]}
    )
    assert twice.status_code == 409  # one live payment per grant, ever

    second = await _batch(api)
    assert [line["amount"] for line in second["lines"]] == ["1900.00"]
    await api.ok(
        "POST",
        f"{BATCHES}/{second['id']}/results",
        who="bank-demo",
        json={"lines": [_line(second, 0, "success")]},
    )
    final = await api.ok("GET", f"/api/v1/applications/{failing}", who="officer1")
    assert final["status"] == "paid"
    assert [p["status"] for p in final["payments"]] == ["failed", "paid"]
    paid = [p["amount"] for p in final["payments"] if p["status"] == "paid"]
    assert paid == ["1900.00"]  # once


async def test_the_batch_report_reconciles_to_the_fen(
    api: Api, clock: OffsetClock
) -> None:
    ids = [
        await awaiting_payment(
            api, clock, seq=93 + i, amount=amount, account=f"62170000000093{i:02d}"
        )
        for i, amount in enumerate(("1000.01", "2000.02", "3000.03"))
    ]
    await signed_form(api, ids)
    batch = await _batch(api)
    await api.ok(
        "POST",
        f"{BATCHES}/{batch['id']}/results",
        who="bank-demo",
        json={
            "lines": [
                _line(batch, 0, "success"),
                _line(batch, 1, "failed", "name_mismatch"),
            ]
        },
    )

    response = await api.call(
        "GET", f"{BATCHES}/{batch['id']}/report", who="financelead1"
    )
    bank = await api.call("GET", f"{BATCHES}/{batch['id']}/report", who="bank-demo")

    assert response.status_code == 200
    assert bank.status_code == 403
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    values = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    summary = {row[0]: (row[1], row[2]) for row in values if row and row[0]}
    assert summary["批次合计"] == (3, "6000.06")
    assert summary["已成功"] == (1, "1000.01")
    assert summary["已失败"] == (1, "2000.02")
    assert summary["待回盘"] == (1, "3000.03")
    assert summary["核对"][0] == "一致"
    lines = [row for row in values if row and str(row[1]).startswith("P")]
    assert [(row[6], row[7]) for row in lines] == [
        ("1000.01", "成功"),
        ("2000.02", "失败"),
        ("3000.03", "待回盘"),
    ]
    assert lines[1][8] == "户名与账号不符"
    assert all(str(row[5]).startswith("*") for row in lines)  # masked


async def test_taking_a_payment_off_a_form_voids_the_signatures_given(
    api: Api, clock: OffsetClock
) -> None:
    kept = await awaiting_payment(
        api, clock, seq=97, amount="1500.00", account="6217000000009700"
    )
    taken = await awaiting_payment(
        api, clock, seq=98, amount="1600.00", account="6217000000009800"
    )
    form = await api.ok(
        "POST",
        FORMS,
        who="officer1",
        status=201,
        json={"application_ids": [kept, taken]},
    )
    old_digest = form["payload_sha256"]
    await api.ok(
        "POST",
        f"{FORMS}/{form['id']}/signatures",
        who="officer1",
        status=201,
        json={"payload_sha256": old_digest},
    )
    payment = next(p for p in form["payments"] if p["application_id"] == taken)

    changed = await api.ok(
        "POST",
        f"{FORMS}/{form['id']}/withdrawals",
        who="officer1",
        json={"payment_id": payment["payment_id"], "reason": "收款账户待核实"},
    )
    stale = await api.call(
        "POST",
        f"{FORMS}/{form['id']}/signatures",
        who="assistlead1",
        json={"payload_sha256": old_digest},
    )

    assert changed["signatures"] == []
    assert changed["total"] == "1500.00"
    assert changed["payload_sha256"] != old_digest
    assert [p["application_id"] for p in changed["payments"]] == [kept]
    assert stale.status_code == 409
    assert stale.json()["code"] == "payload_changed"
    signed = await api.ok("GET", f"{FORMS}/{form['id']}", who="officer1")
    for signer in ("officer1", "assistlead1", "financelead1"):
        signed = await api.ok(
            "POST",
            f"{FORMS}/{form['id']}/signatures",
            who=signer,
            status=201,
            json={"payload_sha256": signed["payload_sha256"]},
        )
    assert signed["status"] == "signed"
    too_late = await api.call(
        "POST",
        f"{FORMS}/{form['id']}/withdrawals",
        who="officer1",
        json={"payment_id": signed["payments"][0]["payment_id"], "reason": "迟了"},
    )
    assert too_late.status_code == 409
    assert too_late.json()["code"] == "form_not_open"
    again = await signed_form(api, [taken])  # the case waits for a later form
    assert again["total"] == "1600.00"
    audit = await api.ok("GET", f"/api/v1/applications/{taken}", who="officer1")
    assert audit["status"] == "awaiting_payment"


async def _result_file(api: Api, batch_id: int, content: bytes) -> Any:
    token = await api.token("bank-demo")
    return await api.client.post(
        f"{BATCHES}/{batch_id}/results/file",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("results.csv", content, "text/csv")},
    )


async def test_the_bank_may_send_its_results_as_a_gbk_or_utf8_file(
    api: Api, clock: OffsetClock
) -> None:
    ids = [
        await awaiting_payment(
            api, clock, seq=99 + i, amount="1800.00", account=f"621700000000990{i}"
        )
        for i in range(2)
    ]
    await signed_form(api, ids)
    batch = await _batch(api)
    refs = [f"P{line['payment_id']:08d}" for line in batch["lines"]]
    text = (
        "序号,业务编号,金额,结果,原因代码,原因说明\r\n"
        f"1,{refs[0]},1800.00,成功,,\r\n"
        f"2,{refs[1]},1800.00,失败,account_frozen,账户冻结\r\n"
    )
    bad_amount = text.replace("1,P", "1,P", 1).replace(",1800.00,成功", ",18.00,成功")
    bad_code = text.replace("account_frozen", "frozen")

    wrong = await _result_file(api, batch["id"], bad_amount.encode("gbk"))
    unknown = await _result_file(api, batch["id"], bad_code.encode("gbk"))
    gbk = await _result_file(api, batch["id"], text.encode("gbk"))
    utf8 = await _result_file(api, batch["id"], b"\xef\xbb\xbf" + text.encode())

    assert wrong.status_code == 422
    assert "第 1 行" in wrong.json()["detail"]
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "result_rejected"
    assert gbk.status_code == 200, gbk.text
    assert (gbk.json()["applied"], gbk.json()["failed"]) == (2, 1)
    assert gbk.json()["paid_total"] == "1800.00"
    assert utf8.status_code == 200
    assert (utf8.json()["applied"], utf8.json()["unchanged"]) == (0, 2)
    lines = utf8.json()["batch"]["lines"]
    assert [(x["result"], x["result_code"]) for x in lines] == [
        ("success", None),
        ("failed", "account_frozen"),
    ]


async def test_a_payee_the_file_encoding_cannot_hold_stops_the_batch(
    api: Api, clock: OffsetClock
) -> None:
    app_id = await awaiting_payment(
        api, clock, seq=102, amount="1200.00", account="0062170000010200"
    )
    detail = await api.ok("GET", f"/api/v1/applications/{app_id}", who="officer1")
    await api.ok(
        "PUT",
        f"/api/v1/households/{detail['household_id']}/bank-account",
        who="officer1",
        json={
            "bank_name": "中国建设银行株洲石峰支行",
            "bank_account_name": "张𠮷",
            "bank_account_no": "0062170000010200",
            "reason": "户名按身份证更正",
        },
    )
    await signed_form(api, [app_id])
    templates = await api.ok("GET", f"{BATCHES}/templates", who="officer1")

    refused = await api.call(
        "POST", BATCHES, who="officer1", json={"template": "gbk_txt"}
    )
    batches = await api.ok("GET", BATCHES, who="officer1")
    built = await _batch(api, "pipe_txt")
    file = await api.call("GET", f"{BATCHES}/{built['id']}/file", who="bank-demo")
    officer = await api.call("GET", f"{BATCHES}/{built['id']}/file", who="officer1")

    assert {"generic_csv", "pipe_txt", "gbk_txt", "generic_xlsx"} <= {
        t["name"] for t in templates
    }
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["code"] == "payee_text_unfit"
    assert problem["problems"][0]["line_no"] == 1
    assert "𠮷" in problem["detail"]
    assert batches == []  # nothing was built
    assert officer.status_code == 403  # full account numbers: the bank only
    content = file.content.decode("gb18030")
    assert "张𠮷" in content
    assert "0062170000010200" in content


async def test_two_batch_builds_at_once_never_share_a_payment(
    api: Api, clock: OffsetClock
) -> None:
    ids = [
        await awaiting_payment(
            api, clock, seq=103 + i, amount="1100.00", account=f"62170000001030{i}"
        )
        for i in range(3)
    ]
    await signed_form(api, ids)

    responses = await asyncio.gather(
        *(
            api.call("POST", BATCHES, who=who, json={})
            for who in ("officer1", "financelead1")
        )
    )

    codes = sorted(r.status_code for r in responses)
    assert codes[0] == 201
    assert codes[1] in (201, 409)
    batches = await api.ok("GET", BATCHES, who="officer1")
    payment_ids = [line["payment_id"] for b in batches for line in b["lines"]]
    assert len(payment_ids) == 3
    assert len(set(payment_ids)) == 3
