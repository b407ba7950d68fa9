"""Drive three temporary-assistance cases through a running service.

Start the service in one shell (``make run``), then run ``make demo`` or::

    .venv/bin/python -m scripts.demo --base-url http://127.0.0.1:8000

Every run registers new households with fresh resident ID numbers, so the
demo can be repeated against the same database as often as you like. Only
this run's applications go on the disbursement form; the payout batch takes
every signed payment of the district, as the service always does.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import io
import json
import secrets
import sys
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from app.domain.idnumber import compose_id_number
from app.domain.money import Money
from app.seed import DEMO_CLIENTS, DEMO_PASSWORD

Json = dict[str, Any]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OUTPUT_DIR = PROJECT_ROOT / "var" / "demo"

AREA_CODE = "430204"  # 石峰区, the area part of every resident ID number
COMMUNITY = "430204001001"  # 田心社区（示例）, where community1 works
ADDRESS = "石峰区田心街道示例路 1 号"
BANK_NAME = "中国建设银行株洲石峰支行"
ALL_MATERIALS = (
    "application_form",
    "id_card_copy",
    "household_register_copy",
    "hardship_evidence",
)
ID_ATTEMPTS = 3  # fresh ID numbers are drawn when one is already registered

# Who does what: the demo accounts of app/seed.py.
COMMUNITY_WORKER = "community1"
STREET_WORKER = "street1"
STREET_LEADER = "streetlead1"
OFFICER = "officer1"
SIGNERS = ("officer1", "assistlead1", "financelead1")
ADMIN = "admin1"
BANK = "bank-demo"
CLIENT_SECRETS = {client.client_id: client.secret for client in DEMO_CLIENTS}

# Columns of the bank file (generic_csv template) the results refer to.
CSV_LINE_NO = "序号"
CSV_REFERENCE = "业务编号"
CSV_AMOUNT = "金额(元)"


class DemoFailure(Exception):
    """A step got an answer the demo did not expect."""


# --- Cases ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    relation: str
    born_from: int  # born on a random day of the ten years from this one
    male: bool


@dataclass(frozen=True, slots=True)
class Case:
    title: str
    short: str
    people: tuple[Person, ...]
    category: str
    bank_account_no: str
    assistance_type: str
    reason: str
    description: str
    requested: str
    proposed: str
    late_materials: tuple[str, ...] = ()  # handed in only after a return
    probe_cap: bool = False  # first try to approve above 6 × S × N


CASES = (
    Case(
        title="案例一：住房失火的三口之家 / Case 1: family of three, home burned down",
        short="住房失火 home fire",
        people=(
            Person("张建国", "本人", 1976, male=True),
            Person("刘丽", "配偶", 1978, male=False),
            Person("张小宇", "子女", 2010, male=True),
        ),
        category="none",
        bank_account_no="6217002870012345678",
        assistance_type="emergency",
        reason="accident",
        description="住房失火，家中财物全部损毁，一家三口暂住亲戚家",
        requested="6000.00",
        proposed="5000.00",
    ),
    Case(
        title="案例二：低保家庭子女上学 / Case 2: dibao family, school costs",
        short="低保上学 dibao school",
        people=(
            Person("李伟", "本人", 1975, male=True),
            Person("王芳", "配偶", 1977, male=False),
            Person("李思雨", "子女", 2008, male=False),
        ),
        category="dibao",
        bank_account_no="0062170028700123",
        assistance_type="expenditure",
        reason="education",
        description="子女升入高中，学费、住宿费等教育支出骤增",
        requested="15000.00",
        proposed="12000.00",
        probe_cap=True,
    ),
    Case(
        title="案例三：退回补正材料后受理 / Case 3: returned for a missing document",
        short="补正材料 resubmitted",
        people=(Person("赵秀英", "本人", 1962, male=False),),
        category="none",
        bank_account_no="6222021234567890123",
        assistance_type="emergency",
        reason="accident",
        description="交通事故致伤，支付医疗费用后基本生活困难",
        requested="800.00",
        proposed="800.00",
        late_materials=("household_register_copy",),
    ),
)


# --- Resident ID numbers ---------------------------------------------------


def random_member(person: Person, *, is_applicant: bool) -> Json:
    """The person with a random birth day and sequence number (odd for men)."""
    start = dt.date(person.born_from, 1, 1)
    birth = start + dt.timedelta(days=secrets.randbelow(3652))
    sequence = 2 * secrets.randbelow(500) + (1 if person.male else 0)

    return {
        "name": person.name,
        "id_number": compose_id_number(AREA_CODE, birth, sequence),
        "relation": person.relation,
        "birth_date": birth.isoformat(),
        "is_applicant": is_applicant,
    }


# --- HTTP ------------------------------------------------------------------


def unexpected(response: httpx.Response, expected: str) -> DemoFailure:
    """The failure for an answer the step did not expect, with its body."""
    request = response.request
    try:
        body = json.dumps(response.json(), ensure_ascii=False, indent=2)
    except ValueError:
        body = response.text

    return DemoFailure(
        f"{request.method} {request.url.path} 返回 returned HTTP "
        f"{response.status_code}, expected {expected}:\n{body}"
    )


class Api:
    """The service's HTTP API, called as the demo accounts by name."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self._tokens: dict[str, str] = {}

    def token(self, who: str) -> str:
        if who not in self._tokens:
            if who in CLIENT_SECRETS:
                form = {
                    "grant_type": "client_credentials",
                    "client_id": who,
                    "client_secret": CLIENT_SECRETS[who],
                }
            else:
                form = {"username": who, "password": DEMO_PASSWORD}

            response = self.client.post("/api/v1/auth/token", data=form)
            if response.status_code != 200:
                raise unexpected(response, "200")
            self._tokens[who] = response.json()["access_token"]
        return self._tokens[who]

    def send(
        self,
        who: str,
        method: str,
        path: str,
        *,
        body: Any = None,
        expect: Collection[int] = (200,),
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token(who)}"}
        response = self.client.request(method, path, json=body, headers=headers)
        if response.status_code not in expect:
            raise unexpected(response, " or ".join(map(str, sorted(expect))))
        return response

    def ok(
        self, who: str, method: str, path: str, *, body: Any = None, expect: int = 200
    ) -> Any:
        return self.send(who, method, path, body=body, expect=(expect,)).json()


# --- Output ----------------------------------------------------------------


def width(text: str) -> int:
    """Columns on a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, size: int) -> str:
    return text + " " * max(0, size - width(text))


def show(code: int, who: str, label: str, facts: str) -> None:
    print(f"[{code}] {pad(who, 13)}{pad(label, 36)}{facts}")


def note(text: str) -> None:
    print(f"      {text}")


def describe(application: Json) -> str:
    """Id, status and the furthest amount decided so far."""
    parts = [
        f"application #{application['id']}",
        f"status={application['status']}（{application['status_title']}）",
    ]
    for key in ("approved_amount", "proposed_amount", "requested_amount"):
        if application[key] is not None:
            parts.append(f"{key.removesuffix('_amount')}={application[key]}")
            break
    if application["missing_materials"]:
        parts.append("missing=" + ",".join(application["missing_materials"]))

    return "  ".join(parts)


# --- One application, from the household to the end of publicity -----------


def act(
    api: Api, who: str, app_id: int, action: str, label: str, body: Any = None
) -> Json:
    """Take one action of the procedure and show where the application is."""
    path = f"/api/v1/applications/{app_id}/{action}"
    application: Json = api.ok(who, "POST", path, body=body)

    show(200, who, label, describe(application))
    return application


def register_household(api: Api, case: Case) -> Json:
    """Register the case's household, drawing new ID numbers if one is taken."""
    for _ in range(ID_ATTEMPTS):
        body = {
            "region_code": COMMUNITY,
            "address": ADDRESS,
            "category": case.category,
            "bank_name": BANK_NAME,
            "bank_account_name": case.people[0].name,
            "bank_account_no": case.bank_account_no,
            "members": [
                random_member(person, is_applicant=index == 0)
                for index, person in enumerate(case.people)
            ],
        }
        response = api.send(
            COMMUNITY_WORKER,
            "POST",
            "/api/v1/households",
            body=body,
            expect=(201, 409),
        )

        if response.status_code == 201:
            household: Json = response.json()
            show(
                201,
                COMMUNITY_WORKER,
                "登记家庭 Register household",
                f"household #{household['id']}  members={household['size']}"
                f"  category={household['category']}",
            )
            return household

        if response.json().get("code") != "member_in_other_household":
            raise unexpected(response, "201")
        show(409, COMMUNITY_WORKER, "身份证号已登记 ID in use", "drawing new ones")
    raise DemoFailure(f"{ID_ATTEMPTS} 次均未能登记家庭 / household not registered")


def create_application(api: Api, case: Case, household_id: int) -> int:
    materials = [m for m in ALL_MATERIALS if m not in case.late_materials]
    body = {
        "household_id": household_id,
        "assistance_type": case.assistance_type,
        "reason": case.reason,
        "description": case.description,
        "requested_amount": case.requested,
        "materials": materials,
    }
    application: Json = api.ok(
        COMMUNITY_WORKER, "POST", "/api/v1/applications", body=body, expect=201
    )

    show(201, COMMUNITY_WORKER, "登记申请 Create application", describe(application))
    return int(application["id"])


def take_in(api: Api, case: Case, app_id: int) -> None:
    """Intake; a case with late materials is returned and resubmitted first."""

    def step(action: str, label: str, body: Json) -> None:
        act(api, COMMUNITY_WORKER, app_id, action, label, body)

    if case.late_materials:
        missing = list(case.late_materials)
        step(
            "intake",
            "退回补正 Intake: return",
            {"decision": "return", "missing_materials": missing},
        )
        step("resubmission", "补齐材料 Resubmission", {"materials": missing})

    step("intake", "受理 Intake: accept", {"decision": "accept"})


def investigate(api: Api, app_id: int) -> None:
    body = {
        "home_visit_done": True,
        "home_visit_note": "入户查看，情况属实",
        "neighbour_interviews": 2,
        "monthly_income_per_capita": "300.00",
        "findings": "家庭困难情况属实",
    }
    act(api, COMMUNITY_WORKER, app_id, "investigation", "调查核实 Investigation", body)


def propose(api: Api, case: Case, app_id: int) -> Json:
    body = {
        "decision": "eligible",
        "proposed_amount": case.proposed,
        "opinion": "经调查核实，符合临时救助条件，拟予救助",
    }
    return act(
        api, STREET_WORKER, app_id, "street-opinion", "街道意见 Street opinion", body
    )


def refused_over_cap(api: Api, app_id: int, proposal: Json) -> str:
    """Try one fen above 6 × S × N; return the allowed maximum the refusal names."""
    rules = proposal["decisions"][-1]["explanation"]["rules"]
    limit = next(r for r in rules if r["rule"] == "R2.2")["inputs"]["per_case_limit"]
    over = str(Money.parse(limit) + Money(1))
    path = f"/api/v1/applications/{app_id}/district-decision"
    body = {"decision": "approve", "amount": over}

    response = api.send(OFFICER, "POST", path, body=body, expect=(422,))
    problem: Json = response.json()
    if problem.get("code") != "cap_exceeded":
        raise unexpected(response, "422 with code cap_exceeded")

    show(
        422,
        OFFICER,
        "超过上限被拒 Approval above cap",
        f"amount={over}  per-case limit={limit}  code={problem['code']}",
    )
    note(f"detail: {problem['detail']}")
    note(f"allowed_max: {problem['allowed_max']}")
    return str(problem["allowed_max"])


def approve(api: Api, case: Case, app_id: int, proposal: Json) -> None:
    """The district approves; a proposal the rules route to the street (R3.5,
    at most 1,000 yuan) is approved by the street leader for the district."""
    if proposal["decisions"][-1]["approval_level"] == "street":
        body = {"amount": case.proposed, "opinion": "同意救助，报区备案"}
        title = "街道审批 Street approval (R3.5)"
        act(api, STREET_LEADER, app_id, "street-approval", title, body)
        return

    amount = (
        refused_over_cap(api, app_id, proposal) if case.probe_cap else case.proposed
    )
    body = {"decision": "approve", "amount": amount, "opinion": "同意救助"}

    act(api, OFFICER, app_id, "district-decision", "区级审批 District approval", body)


def publicity_days(application: Json) -> int:
    """Whole days of the publicity window (7 under the default parameter)."""
    starts = dt.datetime.fromisoformat(application["publicity_starts_at"])
    ends = dt.datetime.fromisoformat(application["publicity_ends_at"])
    return -((starts - ends) // dt.timedelta(days=1))


def publicise(api: Api, app_id: int) -> Json:
    """Start publicity, move the demo clock past its end and close it."""
    started = act(
        api, STREET_WORKER, app_id, "publicity/start", "开始公示 Publicity start"
    )

    days = publicity_days(started)
    moved: Json = api.ok(ADMIN, "POST", "/api/v1/demo/clock", body={"days": days})
    show(200, ADMIN, "时钟前进 Demo clock forward", f"+{days} days  now={moved['now']}")

    return act(
        api, STREET_WORKER, app_id, "publicity/close", "结束公示 Publicity close"
    )


def drive_case(api: Api, case: Case) -> int:
    """One application from the household's registration to publicity closed."""
    print(f"\n== {case.title} ==")
    household = register_household(api, case)
    app_id = create_application(api, case, household["id"])

    take_in(api, case, app_id)
    investigate(api, app_id)

    proposal = propose(api, case, app_id)
    approve(api, case, app_id, proposal)

    publicise(api, app_id)
    return app_id


# --- Money out: form, signatures, batch, bank ------------------------------


def sign_disbursement_form(api: Api, app_ids: Sequence[int]) -> Json:
    """Draw up the form for these applications; the three signers sign it."""
    print("\n== 发放审批 / Disbursement form ==")
    form: Json = api.ok(
        OFFICER,
        "POST",
        "/api/v1/disbursement-forms",
        body={"application_ids": list(app_ids)},
        expect=201,
    )
    digest = form["payload_sha256"]
    show(
        201,
        OFFICER,
        "制作发放审批单 Create form",
        f"form #{form['id']}  payments={len(form['payments'])}"
        f"  total={form['total']}  sha256={digest[:16]}…",
    )

    for signer in SIGNERS:
        form = api.ok(
            signer,
            "POST",
            f"/api/v1/disbursement-forms/{form['id']}/signatures",
            body={"payload_sha256": digest},
            expect=201,
        )
        signature = form["signatures"][-1]
        show(
            201,
            signer,
            "签批 Sign form",
            f"form #{form['id']}  {signature['signer_role_title']}"
            f"  status={form['status']}  missing={len(form['missing_roles'])}",
        )
    return form


def download_bank_file(api: Api, batch: Json) -> bytes:
    """The bank fetches the file, checks its digest; a copy goes to var/demo."""
    batch_id = batch["id"]
    response = api.send(BANK, "GET", f"/api/v1/payout-batches/{batch_id}/file")
    content = response.content

    if hashlib.sha256(content).hexdigest() != batch["file_sha256"]:
        raise DemoFailure(f"代发文件摘要不符 / bank file #{batch_id} digest mismatch")

    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    saved = OUTPUT_DIR / f"payout-batch-{batch_id}.csv"
    saved.write_bytes(content)
    show(200, BANK, "下载代发文件 Download file", f"{len(content)} bytes  sha256 ok")
    note(f"saved: {saved}")
    return content


def success_results(content: bytes) -> list[Json]:
    """One success per line of the bank file, echoing number, reference, amount."""
    rows = csv.DictReader(io.StringIO(content.decode("utf-8-sig")))
    return [
        {
            "line_no": int(row[CSV_LINE_NO]),
            "reference": row[CSV_REFERENCE],
            "amount": row[CSV_AMOUNT],
            "result": "success",
        }
        for row in rows
    ]


def pay_out(api: Api) -> None:
    """Build the batch; the bank lists, downloads, acknowledges and reports."""
    print("\n== 银行代发 / Bank payout ==")
    batch: Json = api.ok(OFFICER, "POST", "/api/v1/payout-batches", body={}, expect=201)
    batch_path = f"/api/v1/payout-batches/{batch['id']}"
    show(
        201,
        OFFICER,
        "生成代发批次 Build payout batch",
        f"batch #{batch['id']}  lines={batch['line_count']}  total={batch['total']}",
    )

    ready: list[Json] = api.ok(BANK, "GET", "/api/v1/payout-batches?status=ready")
    ready_ids = [b["id"] for b in ready]
    if batch["id"] not in ready_ids:
        raise DemoFailure(f"批次 #{batch['id']} 不在待发列表中 / not listed as ready")
    show(200, BANK, "待发批次 Ready batches", f"ready={ready_ids}")

    content = download_bank_file(api, batch)

    acknowledged: Json = api.ok(BANK, "POST", f"{batch_path}/acknowledgement")
    show(200, BANK, "确认收到 Acknowledge", f"status={acknowledged['status']}")

    results = {"lines": success_results(content)}
    summary: Json = api.ok(BANK, "POST", f"{batch_path}/results", body=results)
    show(
        200,
        BANK,
        "回传结果 Upload results",
        f"applied={summary['applied']}  failed={summary['failed']}"
        f"  paid_total={summary['paid_total']}"
        f"  status={summary['batch']['status']}",
    )


# --- The run ---------------------------------------------------------------


def final_state(api: Api, app_ids: Sequence[int]) -> list[Json]:
    """Each application as the district sees it now; all must be paid."""
    print("\n== 结果 / Outcome ==")
    finals: list[Json] = []
    for app_id in app_ids:
        application: Json = api.ok(OFFICER, "GET", f"/api/v1/applications/{app_id}")
        show(200, OFFICER, "查看申请 Application", describe(application))
        if application["status"] != "paid":
            raise DemoFailure(f"申请 #{app_id} 未到账 / not paid")
        finals.append(application)
    return finals


def print_summary(finals: Sequence[Json]) -> None:
    """A table of this run's cases and their total, amounts right-aligned."""
    header = ("案例 Case", "申请 Application", "状态 Status", "批准金额 Approved")
    rows = [
        (
            case.short,
            f"#{application['id']}",
            f"{application['status']}（{application['status_title']}）",
            application["approved_amount"],
        )
        for case, application in zip(CASES, finals, strict=True)
    ]
    total = sum((Money.parse(a["approved_amount"]) for a in finals), Money.zero())
    table = [header, *rows, ("合计 Total", "", "", str(total))]
    sizes = [max(width(row[i]) for row in table) for i in range(len(header))]

    print("\n== 汇总 / Summary ==")
    for name, app_id, status, amount in table:
        cells = (pad(name, sizes[0]), pad(app_id, sizes[1]), pad(status, sizes[2]))
        print("  ".join((*cells, " " * (sizes[3] - width(amount)) + amount)))


def run(api: Api) -> None:
    app_ids = [drive_case(api, case) for case in CASES]

    sign_disbursement_form(api, app_ids)
    pay_out(api)

    print_summary(final_state(api, app_ids))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Drive three temporary-assistance cases through a running service."
    )
    parser.add_argument(
        "--base-url",
        default="http://127.0.0.1:8000",
        help="where the service answers (default: %(default)s)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with httpx.Client(base_url=args.base_url, timeout=30.0) as client:
        try:
            health = client.get("/healthz")
            if health.status_code != 200:
                raise unexpected(health, "200")
            print(f"服务已就绪 Service at {args.base_url} is up")

            run(Api(client))
        except httpx.ConnectError as exc:
            print(
                f"无法连接 Cannot reach {args.base_url} ({exc}).\n"
                "请先启动服务 start the service first with `make run` "
                "in another shell",
                file=sys.stderr,
            )
            return 2
        except httpx.HTTPError as exc:
            print(f"演示失败 Demo failed: HTTP error {exc!r}", file=sys.stderr)
            return 1
        except DemoFailure as exc:
            print(f"演示失败 Demo failed: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
