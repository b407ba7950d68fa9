"""The procedure's other paths: refusals, the check, appraisal, street approval,
objections and stale screens."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from app.clock import OffsetClock
from tests.support import (
    FULL_MATERIALS,
    Api,
    authorise_check,
    enable_fast_relief,
    id_number,
)


async def _submitted(
    api: Api, *, seq: int, birth: str = "19760606", **extra: Any
) -> int:
    household = await api.household(
        members=[("秦一", id_number("430204", birth, seq), "本人", "1976-06-06")],
        category=extra.pop("category", "none"),
    )
    body = {
        "household_id": household["id"],
        "assistance_type": "emergency",
        "reason": "accident",
        "description": "突发事件",
        "requested_amount": "800.00",
        "materials": FULL_MATERIALS,
    }
    created = await api.ok(
        "POST", "/api/v1/applications", who="community1", status=201, json=body | extra
    )
    return int(created["id"])


async def _investigated(api: Api, *, seq: int, **investigation: Any) -> dict[str, Any]:
    app_id = await _submitted(api, seq=seq)
    base = f"/api/v1/applications/{app_id}"
    await api.ok(
        "POST", base + "/intake", who="community1", json={"decision": "accept"}
    )
    if not investigation.get("home_visit_done", True):
        await authorise_check(api, app_id)  # the check the investigation needs
    body = {"home_visit_done": True, "monthly_income_per_capita": "100.00"}
    result: dict[str, Any] = await api.ok(
        "POST", base + "/investigation", who="community1", json=body | investigation
    )
    return result


async def test_an_obviously_ineligible_application_is_refused_at_intake_in_writing(
    api: Api,
) -> None:
    app_id = await _submitted(api, seq=101)

    refused = await api.ok(
        "POST",
        f"/api/v1/applications/{app_id}/intake",
        who="community1",
        json={"decision": "refuse", "note": "申请人家庭经济状况明显不符合救助条件"},
    )
    notice = await api.ok(
        "GET", f"/api/v1/applications/{app_id}/refusal-notice", who="street1"
    )

    assert refused["status"] == "refused"
    assert refused["allowed_actions"] == []
    assert notice["title"] == "不予救助书面说明"
    assert notice["applicant_name"] == "秦一"
    assert notice["reasons"] == "申请人家庭经济状况明显不符合救助条件"
    assert notice["stage"] == "intake"
    assert notice["issued_by"] == "田心街道"
    assert notice["on_behalf_of"] == "石峰区民政局"


async def test_a_refusal_needs_reasons_and_a_live_case_has_no_notice(api: Api) -> None:
    app_id = await _submitted(api, seq=102)

    bare = await api.call(
        "POST",
        f"/api/v1/applications/{app_id}/intake",
        who="community1",
        json={"decision": "refuse"},
    )
    notice = await api.call(
        "GET", f"/api/v1/applications/{app_id}/refusal-notice", who="street1"
    )

    assert bare.status_code == 422
    assert notice.status_code == 409
    assert notice.json()["code"] == "not_refused"


async def test_the_street_refusal_cites_the_rules_not_met(api: Api) -> None:
    app_id = await _submitted(
        api, seq=103, assistance_type="expenditure", reason="medical"
    )
    base = f"/api/v1/applications/{app_id}"
    await api.ok(
        "POST", base + "/intake", who="community1", json={"decision": "accept"}
    )
    await api.ok(
        "POST",
        base + "/investigation",
        who="community1",
        json={"home_visit_done": True, "monthly_income_per_capita": "100.00"},
    )

    await api.ok(
        "POST",
        base + "/street-opinion",
        who="street1",
        json={"decision": "refused", "opinion": "不属于支出型救助的四类对象"},
    )
    notice = await api.ok("GET", base + "/refusal-notice", who="officer1")

    assert notice["stage"] == "street_opinion"
    assert len(notice["rules_not_met"]) == 1
    assert "低保" in notice["rules_not_met"][0]


async def test_without_a_home_visit_the_opinion_waits_for_the_check(api: Api) -> None:
    waiting = await _investigated(api, seq=104, home_visit_done=False)
    app_id = waiting["id"]
    base = f"/api/v1/applications/{app_id}"

    assert waiting["status"] == "awaiting_check"
    assert [c["status"] for c in waiting["economic_checks"]] == ["pending"]
    early = await api.call(
        "POST",
        base + "/street-opinion",
        who="street1",
        json={"decision": "eligible", "proposed_amount": "500.00"},
    )
    assert early.status_code == 409

    done = await api.ok("POST", base + "/economic-check/refresh", who="street1")
    assert done["status"] == "investigated"
    check = done["economic_checks"][-1]
    assert check["status"] == "completed"
    assert check["monthly_income_per_capita"] is not None
    verdict = await api.ok(
        "POST",
        "/api/v1/eligibility/evaluate",
        who="street1",
        json={"application_id": app_id},
    )
    assert verdict["eligible"] is True


async def test_a_failed_check_is_sent_again_and_keeps_its_reason(api: Api) -> None:
    # The stub platform fails households whose first ID number ends in 9.
    seq = next(
        s for s in range(105, 200) if id_number("430204", "19760606", s).endswith("9")
    )
    app_id = await _submitted(api, seq=seq)
    base = f"/api/v1/applications/{app_id}"
    await api.ok(
        "POST", base + "/intake", who="community1", json={"decision": "accept"}
    )
    await authorise_check(api, app_id)
    await api.ok(
        "POST",
        base + "/investigation",
        who="community1",
        json={
            "home_visit_done": True,
            "result_in_doubt": True,
            "monthly_income_per_capita": "100.00",
        },
    )

    failed = await api.ok("POST", base + "/economic-check/refresh", who="street1")
    again = await api.call("POST", base + "/economic-check/refresh", who="street1")
    retried = await api.ok("POST", base + "/economic-check/retry", who="street1")

    assert failed["status"] == "awaiting_check"
    assert failed["economic_checks"][-1]["status"] == "failed"
    assert failed["economic_checks"][-1]["reason"] == "数据源暂不可用"
    assert again.status_code == 409
    assert again.json()["code"] == "check_failed"
    assert [c["status"] for c in retried["economic_checks"]] == ["failed", "pending"]


async def test_a_democratic_appraisal_is_recorded_with_its_votes(api: Api) -> None:
    investigated = await _investigated(api, seq=201)
    base = f"/api/v1/applications/{investigated['id']}"

    too_many = await api.call(
        "POST",
        base + "/appraisal",
        who="community1",
        json={
            "held_on": "2026-03-02",
            "attendees": 5,
            "votes_for": 4,
            "votes_against": 2,
        },
    )
    recorded = await api.ok(
        "POST",
        base + "/appraisal",
        who="community1",
        json={
            "held_on": "2026-03-02",
            "attendees": 7,
            "votes_for": 6,
            "votes_against": 1,
            "note": "居民代表一致认为情况属实",
        },
    )

    assert too_many.status_code == 422
    assert recorded["status"] == "investigated"
    assert recorded["appraisals"][0]["result"] == "agree"


async def test_the_street_leader_approves_up_to_one_thousand_for_the_district(
    api: Api,
) -> None:
    small = await _investigated(api, seq=202)
    large = await _investigated(api, seq=203)
    for app_id, amount in ((small["id"], "1000.00"), (large["id"], "1000.01")):
        await api.ok(
            "POST",
            f"/api/v1/applications/{app_id}/street-opinion",
            who="street1",
            json={"decision": "eligible", "proposed_amount": amount},
        )

    reviewed = await api.ok(
        "GET", f"/api/v1/applications/{small['id']}", who="streetlead1"
    )
    assert [a["action"] for a in reviewed["allowed_actions"]] == [
        "street_approve",
        "street_refuse",
    ]
    approved = await api.ok(
        "POST",
        f"/api/v1/applications/{small['id']}/street-approval",
        who="streetlead1",
        json={},
    )
    too_big = await api.call(
        "POST",
        f"/api/v1/applications/{large['id']}/street-approval",
        who="streetlead1",
        json={},
    )

    assert approved["status"] == "approved"
    assert approved["approved_amount"] == "1000.00"
    assert approved["decisions"][-1]["stage"] == "street_approval"
    assert approved["decisions"][-1]["approval_level"] == "street"
    assert too_big.status_code == 409
    assert "街道审批限额 1,000.00 元" in too_big.json()["detail"]
    raised = await api.call(
        "POST",
        f"/api/v1/applications/{small['id']}/street-approval",
        who="streetlead1",
        json={},
    )
    assert raised.status_code == 409


async def _in_publicity(api: Api, *, seq: int) -> int:
    investigated = await _investigated(api, seq=seq)
    app_id = int(investigated["id"])
    base = f"/api/v1/applications/{app_id}"
    await api.ok(
        "POST",
        base + "/street-opinion",
        who="street1",
        json={"decision": "eligible", "proposed_amount": "3000.00"},
    )
    await api.ok(
        "POST",
        base + "/district-decision",
        who="officer1",
        json={"decision": "approve"},
    )
    await api.ok("POST", base + "/publicity/start", who="street1")
    return app_id


async def test_an_open_objection_holds_publicity_and_a_dismissal_releases_it(
    api: Api, clock: OffsetClock
) -> None:
    app_id = await _in_publicity(api, seq=204)
    base = f"/api/v1/applications/{app_id}"
    raised = await api.ok(
        "POST",
        base + "/objections",
        who="community1",
        status=201,
        json={
            "source": "phone",
            "content": "邻居反映其有稳定收入",
            "contact": "13800138000",
        },
    )
    objection = raised["objections"][0]
    assert objection["contact_masked"] == "*******8000"
    assert "13800138000" not in str(raised)

    clock.advance(dt.timedelta(days=7))
    held = await api.call("POST", base + "/publicity/close", who="street1")
    assert held.status_code == 409
    assert "异议尚未处理完毕" in held.json()["detail"]

    await api.ok(
        "POST",
        f"/api/v1/objections/{objection['id']}/decision",
        who="officer1",
        json={"decision": "dismiss", "note": "经核实，收入为临时性，异议不成立"},
    )
    closed = await api.ok("POST", base + "/publicity/close", who="street1")
    assert closed["status"] == "awaiting_payment"


async def test_an_objection_outside_publicity_says_what_can_be_done_instead(
    api: Api, clock: OffsetClock
) -> None:
    app_id = await _in_publicity(api, seq=206)
    base = f"/api/v1/applications/{app_id}"
    clock.advance(dt.timedelta(days=7))
    await api.ok("POST", base + "/publicity/close", who="street1")

    late = await api.call(
        "POST", base + "/objections", who="community1", json={"content": "迟到的异议"}
    )

    assert late.status_code == 409
    problem = late.json()
    assert problem["code"] == "invalid_transition"
    assert problem["current_status"] == "awaiting_payment"
    assert problem["allowed_actions"] == []
    assert "只有公示期间" in problem["detail"]
    objections = await api.ok("GET", base + "/objections", who="officer1")
    assert objections == []


async def test_a_decision_on_an_objection_from_a_stale_screen_gets_412(
    api: Api,
) -> None:
    app_id = await _in_publicity(api, seq=207)
    base = f"/api/v1/applications/{app_id}"
    seen = await api.client.get(
        base, headers={"Authorization": f"Bearer {await api.token('officer1')}"}
    )
    raised = await api.ok(
        "POST",
        base + "/objections",
        who="community1",
        status=201,
        json={"content": "申请人隐瞒了车辆"},
    )
    url = f"/api/v1/objections/{raised['objections'][0]['id']}/decision"
    body = {"decision": "uphold", "note": "经核实，异议成立"}

    stale = await api.call(
        "POST",
        url,
        who="officer1",
        json=body,
        headers={"If-Match": seen.headers["etag"]},
    )
    unchanged = await api.ok("GET", base, who="officer1")
    fresh = await api.call(
        "POST",
        url,
        who="officer1",
        json=body,
        headers={"If-Match": f'"{unchanged["version"]}"'},
    )

    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"
    assert unchanged["status"] == "in_publicity"
    assert unchanged["objections"][0]["status"] == "open"
    assert fresh.status_code == 200, fresh.text
    assert fresh.json()["status"] == "accepted"


async def test_an_upheld_objection_revokes_the_approval_and_frees_the_cap(
    api: Api,
) -> None:
    app_id = await _in_publicity(api, seq=205)
    base = f"/api/v1/applications/{app_id}"
    raised = await api.ok(
        "POST",
        base + "/objections",
        who="community1",
        status=201,
        json={"content": "申请人隐瞒了车辆"},
    )

    upheld = await api.ok(
        "POST",
        f"/api/v1/objections/{raised['objections'][0]['id']}/decision",
        who="officer1",
        json={"decision": "uphold", "note": "经核实，异议成立"},
    )

    assert upheld["status"] == "accepted"
    assert upheld["approved_amount"] is None
    assert upheld["objections"][0]["status"] == "upheld"
    again = await api.call(
        "POST",
        f"/api/v1/objections/{raised['objections'][0]['id']}/decision",
        who="officer1",
        json={"decision": "dismiss", "note": "重复处理"},
    )
    assert again.status_code == 409

    # Investigated again and approved again: the revoked grant no longer counts.
    await api.ok(
        "POST",
        base + "/investigation",
        who="community1",
        json={"home_visit_done": True, "monthly_income_per_capita": "100.00"},
    )
    await api.ok(
        "POST",
        base + "/street-opinion",
        who="street1",
        json={"decision": "eligible", "proposed_amount": "4320.00"},
    )
    reapproved = await api.ok(
        "POST",
        base + "/district-decision",
        who="officer1",
        json={"decision": "approve"},
    )
    assert reapproved["approved_amount"] == "4320.00"


async def test_objections_are_only_for_results_in_publicity(api: Api) -> None:
    investigated = await _investigated(api, seq=206)

    response = await api.call(
        "POST",
        f"/api/v1/applications/{investigated['id']}/objections",
        who="community1",
        json={"content": "异议"},
    )

    assert response.status_code == 409


async def test_a_stale_screen_gets_412_and_a_fresh_one_goes_through(api: Api) -> None:
    app_id = await _submitted(api, seq=207)
    fresh = await api.call("GET", f"/api/v1/applications/{app_id}", who="community1")
    etag = fresh.headers["etag"]
    assert etag == '"1"'

    stale = await api.call(
        "POST",
        f"/api/v1/applications/{app_id}/intake",
        who="community1",
        json={"decision": "accept"},
        headers={"If-Match": '"0"'},
    )
    ok = await api.call(
        "POST",
        f"/api/v1/applications/{app_id}/intake",
        who="community1",
        json={"decision": "accept"},
        headers={"If-Match": etag},
    )

    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"
    assert stale.json()["current_version"] == 1
    assert ok.status_code == 200
    assert ok.json()["version"] == 2


async def test_goods_in_kind_count_against_the_cap_at_their_value(
    api: Api, clock: OffsetClock
) -> None:
    # One person, S = 720: 4,320.00 per case.
    investigated = await _investigated(api, seq=208)
    base = f"/api/v1/applications/{investigated['id']}"
    over = {
        "decision": "eligible",
        "proposed_amount": "4320.01",
        "form_of_help": "in_kind",
        "items": [
            {"name": "棉被", "quantity": 1, "unit_value": "320.01"},
            {"name": "冰箱", "quantity": 2, "unit_value": "2000.00"},
        ],
    }
    refused = await api.call("POST", base + "/street-opinion", who="street1", json=over)
    assert refused.status_code == 422
    assert refused.json()["code"] == "cap_exceeded"

    mismatch = await api.call(
        "POST",
        base + "/street-opinion",
        who="street1",
        json=over | {"proposed_amount": "4000.00"},
    )
    assert mismatch.status_code == 422
    assert "物品价值合计 4,320.01 元" in mismatch.json()["detail"]

    within = over | {
        "proposed_amount": "4320.00",
        "items": [{"name": "冰箱", "quantity": 2, "unit_value": "2160.00"}],
    }
    proposed = await api.ok(
        "POST", base + "/street-opinion", who="street1", json=within
    )
    assert proposed["form_of_help"] == "in_kind"
    assert proposed["in_kind_items"][0]["value"] == "4320.00"
    await api.ok(
        "POST",
        base + "/district-decision",
        who="officer1",
        json={"decision": "approve"},
    )
    await api.ok("POST", base + "/publicity/start", who="street1")
    clock.advance(dt.timedelta(days=7))
    await api.ok("POST", base + "/publicity/close", who="street1")

    on_form = await api.call(
        "POST",
        "/api/v1/disbursement-forms",
        who="officer1",
        json={"application_ids": [investigated["id"]]},
    )
    assert on_form.status_code == 409
    assert on_form.json()["code"] == "not_cash"
    before_approval = await api.call(
        "POST",
        base + "/delivery",
        who="street1",
        json={"received_by": "秦一", "delivered_on": "2026-03-01"},
    )
    assert before_approval.status_code == 422
    assert "不能早于审批日期 2026-03-02" in before_approval.json()["detail"]
    delivered = await api.ok(
        "POST",
        base + "/delivery",
        who="street1",
        json={"received_by": "秦一", "delivered_on": "2026-03-09"},
    )
    assert delivered["status"] == "paid"
    assert delivered["delivery"]["received_by"] == "秦一"


async def test_a_referral_records_the_agency_and_its_outcome(api: Api) -> None:
    investigated = await _investigated(api, seq=209)
    base = f"/api/v1/applications/{investigated['id']}"

    referred = await api.ok(
        "POST",
        base + "/referral",
        who="street1",
        json={"agency": "区慈善总会", "programme": "大病救助", "note": "转介慈善救助"},
    )
    outcome = await api.ok(
        "POST",
        base + "/referral/outcome",
        who="community1",
        json={"outcome": "慈善总会资助 5,000 元"},
    )

    assert referred["status"] == "referred"
    assert outcome["referral"]["agency"] == "区慈善总会"
    assert outcome["referral"]["outcome"] == "慈善总会资助 5,000 元"


async def test_small_fast_relief_is_off_until_the_district_switches_it_on(
    api: Api,
) -> None:
    app_id = await _submitted(api, seq=210)
    base = f"/api/v1/applications/{app_id}"
    await api.ok(
        "POST", base + "/intake", who="community1", json={"decision": "accept"}
    )

    off = await api.call(
        "POST", base + "/fast-relief", who="streetlead1", json={"amount": "500.00"}
    )
    assert off.status_code == 409
    assert off.json()["detail"] == "本区未启用小额快救程序。"

    await enable_fast_relief(api)
    above = await api.call(
        "POST", base + "/fast-relief", who="streetlead1", json={"amount": "720.01"}
    )
    assert above.status_code == 422
    assert above.json()["code"] == "above_fast_relief_limit"
    assert "1×720.00 = 720.00 元" in above.json()["detail"]

    granted = await api.ok(
        "POST", base + "/fast-relief", who="streetlead1", json={"amount": "720.00"}
    )
    assert granted["status"] == "awaiting_payment"
    assert granted["approved_amount"] == "720.00"
    assert granted["decisions"][-1]["stage"] == "fast_relief"
    assert granted["publicity_starts_at"] is None


async def test_small_fast_relief_is_only_for_sudden_events_and_illness(
    api: Api,
) -> None:
    await enable_fast_relief(api)
    app_id = await _submitted(
        api,
        seq=211,
        reason="other_hardship",
        district_recognition="石民救认〔2026〕3号",
    )
    base = f"/api/v1/applications/{app_id}"
    await api.ok(
        "POST", base + "/intake", who="community1", json={"decision": "accept"}
    )

    response = await api.call(
        "POST", base + "/fast-relief", who="streetlead1", json={"amount": "300.00"}
    )

    assert response.status_code == 409
    assert "突发事件和重特大疾病" in response.json()["detail"]


async def test_an_objection_and_the_close_of_publicity_at_once_never_both_win(
    api: Api, clock: OffsetClock
) -> None:
    app_id = await _in_publicity(api, seq=212)
    base = f"/api/v1/applications/{app_id}"
    clock.advance(dt.timedelta(days=7))

    close, objection = await asyncio.gather(
        api.call("POST", base + "/publicity/close", who="street1"),
        api.call(
            "POST", base + "/objections", who="community1", json={"content": "异议"}
        ),
    )

    assert sorted([close.status_code, objection.status_code]) in (
        [200, 409],
        [201, 409],
    )
    final = await api.ok("GET", base, who="officer1")
    open_objections = [o for o in final["objections"] if o["status"] == "open"]
    assert final["status"] == "awaiting_payment" or open_objections
    assert not (final["status"] == "awaiting_payment" and open_objections)


async def test_an_upheld_objection_ends_the_others_and_a_dismissal_changes_the_etag(
    api: Api, clock: OffsetClock
) -> None:
    app_id = await _in_publicity(api, seq=208)
    base = f"/api/v1/applications/{app_id}"
    first = await api.ok(
        "POST",
        base + "/objections",
        who="community1",
        status=201,
        json={"content": "隐瞒收入"},
    )
    second = await api.ok(
        "POST",
        base + "/objections",
        who="community1",
        status=201,
        json={"content": "隐瞒车辆"},
    )
    ids = [o["id"] for o in second["objections"]]
    assert [o["id"] for o in first["objections"]] == ids[:1]

    upheld = await api.ok(
        "POST",
        f"/api/v1/objections/{ids[0]}/decision",
        who="officer1",
        json={"decision": "uphold", "note": "经核实，异议成立"},
    )
    late = await api.call(
        "POST",
        f"/api/v1/objections/{ids[1]}/decision",
        who="officer1",
        json={"decision": "dismiss", "note": "迟到的处理"},
    )

    assert upheld["status"] == "accepted"
    assert [o["status"] for o in upheld["objections"]] == ["upheld", "superseded"]
    assert late.status_code == 409
    assert late.json()["code"] == "objection_decided"

    # The case is investigated and approved again; its new publicity closes.
    await api.ok(
        "POST",
        base + "/investigation",
        who="community1",
        json={"home_visit_done": True, "monthly_income_per_capita": "100.00"},
    )
    await api.ok(
        "POST",
        base + "/street-opinion",
        who="street1",
        json={"decision": "eligible", "proposed_amount": "2500.00"},
    )
    await api.ok(
        "POST",
        base + "/district-decision",
        who="officer1",
        json={"decision": "approve"},
    )
    await api.ok("POST", base + "/publicity/start", who="street1")
    third = await api.ok(
        "POST",
        base + "/objections",
        who="community1",
        status=201,
        json={"content": "再次异议"},
    )
    before = third["version"]
    dismissed = await api.ok(
        "POST",
        f"/api/v1/objections/{third['objections'][-1]['id']}/decision",
        who="officer1",
        json={"decision": "dismiss", "note": "经核实，异议不成立"},
    )
    clock.advance(dt.timedelta(days=7))
    closed = await api.ok("POST", base + "/publicity/close", who="street1")

    assert dismissed["version"] == before + 1
    assert closed["status"] == "awaiting_payment"
