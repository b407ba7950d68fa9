"""Drive seven temporary-assistance cases through a running service.

Start the service in one shell (``make run``), then run ``make demo`` or::

    .venv/bin/python -m scripts.demo --base-url http://127.0.0.1:8000

Every run registers new households with fresh resident ID numbers, so the
demo can be repeated against the same database as often as you like; the
demo clock only moves forward. Besides the three cases paid through the
bank, the run shows a small grant filed with the district and spot-checked,
an advance from the street's reserve fund topped up later, an objection
upheld during publicity, and goods granted in kind. Only this run's cash
applications go on the disbursement form; the payout batch takes every
signed payment of the district, as the service always does.
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

from app.clock import CHINA_TZ
from app.domain.idnumber import compose_id_number
from app.domain.money import Money
from app.seed import DEMO_CLIENTS, DEMO_PASSWORD

Json = dict[str, Any]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OUTPUT_DIR = PROJECT_ROOT / "var" / "demo"

AREA_CODE = "430204"  # 石峰区, the area part of every resident ID number
COMMUNITY = "430204001001"  # 田心社区（示例）, where community1 works
STREET = "430204001000"  # 田心街道, where street1 and streetlead1 work
ADDRESS = "石峰区田心街道示例路 1 号"
BANK_NAME = "中国建设银行株洲石峰支行"
ALL_MATERIALS = (
    "application_form",
    "id_card_copy",
    "household_register_copy",
    "hardship_evidence",
)
ID_ATTEMPTS = 3  # fresh ID numbers are drawn when one is already registered

# The street's spending of last year, from which the reserve fund's cap is set.
RESERVE_LAST_YEAR_SPENDING = "300000.00"
# A fixed seed (石峰区's area code), recorded with the draw: anyone can repeat it.
SPOT_CHECK_SEED = 430204

CLOCK_PATH = "/api/v1/demo/clock"
FUND_PATH = f"/api/v1/reserve-funds/{STREET}"
FORMS_PATH = "/api/v1/disbursement-forms"

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
class Goods:
    """One line of a grant in kind (R3.10), valued in yuan."""

    name: str
    quantity: int
    unit_value: str

    @property
    def value(self) -> Money:
        return Money.parse(self.unit_value) * self.quantity

    def body(self) -> Json:
        return {
            "name": self.name,
            "quantity": self.quantity,
            "unit_value": self.unit_value,
        }


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
    proposed: str  # for goods in kind: their value
    late_materials: tuple[str, ...] = ()  # handed in only after a return
    probe_cap: bool = False  # first try to approve above 6 × S × N
    spot_check: bool = False  # shown on the filing list and spot-checked
    advance: str | None = None  # paid at once from the street's reserve fund
    objection: str | None = None  # raised during publicity and upheld
    goods: tuple[Goods, ...] = ()  # granted in kind instead of cash
    dropped_goods: tuple[Goods, ...] = ()  # asked for first, above the cap

    @property
    def outcome(self) -> str:
        """The status the case ends the run in."""
        return "accepted" if self.objection is not None else "paid"


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
    Case(
        title="案例四：小额救助报区备案并抽查 / Case 4: small grant, filed and "
        "spot-checked",
        short="备案抽查 filed, spot check",
        people=(Person("孙桂兰", "本人", 1948, male=False),),
        category="dibao",
        bank_account_no="6217002870098765432",
        assistance_type="expenditure",
        reason="medical",
        description="冬季肺炎住院，自付医疗费用后基本生活暂时困难",
        requested="700.00",
        proposed="700.00",
        spot_check=True,
    ),
    Case(
        title="案例五：山洪冲毁住房，先行救助后补足 / Case 5: flood, advance then "
        "top-up",
        short="先行救助 advance",
        people=(
            Person("周志强", "本人", 1968, male=True),
            Person("吴秀梅", "配偶", 1970, male=False),
        ),
        category="none",
        bank_account_no="6228480012345678901",
        assistance_type="emergency",
        reason="accident",
        description="暴雨引发山洪冲毁住房，夫妻二人无处栖身，当日急需救助",
        requested="5000.00",
        proposed="4000.00",
        advance="1500.00",
    ),
    Case(
        title="案例六：公示期间异议成立 / Case 6: objection upheld during publicity",
        short="异议成立 objection upheld",
        people=(
            Person("陈志明", "本人", 1980, male=True),
            Person("陈浩", "子女", 2012, male=True),
        ),
        category="none",
        bank_account_no="6230580000123456789",
        assistance_type="emergency",
        reason="accident",
        description="交通事故致伤，停工治疗期间收入中断，父子生活困难",
        requested="3000.00",
        proposed="3000.00",
        objection="群众来电反映：申请人已获保险公司事故赔付，申请时未如实申报",
    ),
    Case(
        title="案例七：独居老人实物救助 / Case 7: goods in kind for an elderly woman",
        short="实物救助 in kind",
        people=(Person("钱秀珍", "本人", 1946, male=False),),
        category="none",
        bank_account_no="6217002870055556666",
        assistance_type="emergency",
        reason="accident",
        description="屋顶漏雨，冰箱、被褥等生活用品浸水损毁，独居老人生活困难",
        requested="5300.00",
        proposed="3800.00",
        goods=(Goods("冰箱", 1, "2600.00"), Goods("棉被", 4, "300.00")),
        dropped_goods=(Goods("洗衣机", 1, "1500.00"),),
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
    """Id, status, the furthest amount decided so far and any advance."""
    parts = [
        f"application #{application['id']}",
        f"status={application['status']}（{application['status_title']}）",
    ]
    for key in ("approved_amount", "proposed_amount", "requested_amount"):
        if application[key] is not None:
            parts.append(f"{key.removesuffix('_amount')}={application[key]}")
            break
    if application["advance"] is not None:
        parts.append(f"advance={application['advance']}")
    if application["form_of_help"] != "cash":
        parts.append(f"form={application['form_of_help']}")
    if application["missing_materials"]:
        parts.append("missing=" + ",".join(application["missing_materials"]))

    return "  ".join(parts)


def expect_cap_refusal(
    response: httpx.Response, who: str, label: str, facts: str
) -> str:
    """Show a 422 cap_exceeded refusal; return the allowed maximum it names."""
    problem: Json = response.json()
    if problem.get("code") != "cap_exceeded":
        raise unexpected(response, "422 with code cap_exceeded")

    show(422, who, label, f"{facts}  code={problem['code']}")
    note(f"detail: {problem['detail']}")
    note(f"allowed_max: {problem['allowed_max']}")
    return str(problem["allowed_max"])


# --- The service's clock ---------------------------------------------------


def move_clock(
    api: Api, days: int, label: str = "时钟前进 Demo clock forward"
) -> dt.datetime:
    """Move the demo clock forward (admin only); 0 days just reads it."""
    moved: Json = api.ok(ADMIN, "POST", CLOCK_PATH, body={"days": days})
    if days:
        show(200, ADMIN, label, f"+{days} days  now={moved['now']}")
    return dt.datetime.fromisoformat(moved["now"])


def month_of(moment: dt.datetime) -> str:
    """The calendar month in China time, as the service counts months."""
    return f"{moment.astimezone(CHINA_TZ):%Y-%m}"


def next_month_start(moment: dt.datetime) -> dt.datetime:
    """Midnight in China on the first day of the month after ``moment``'s."""
    local = moment.astimezone(CHINA_TZ)
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + dt.timedelta(days=32)).replace(day=1)


def whole_days_until(start: dt.datetime, end: dt.datetime) -> int:
    """Days to move from ``start`` to reach ``end``, rounded up; 0 if past."""
    return max(0, -((start - end) // dt.timedelta(days=1)))


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


def opinion(amount: str, goods: Sequence[Goods] = ()) -> Json:
    """The street's opinion: eligible, in cash or in the goods given."""
    if not goods:
        return {
            "decision": "eligible",
            "proposed_amount": amount,
            "opinion": "经调查核实，符合临时救助条件，拟予救助",
        }
    return {
        "decision": "eligible",
        "proposed_amount": amount,
        "opinion": "经调查核实，符合临时救助条件，拟予实物救助",
        "form_of_help": "in_kind",
        "items": [item.body() for item in goods],
    }


def refused_goods_over_cap(api: Api, case: Case, app_id: int) -> None:
    """Goods in kind count against 6 × S × N at their value: all the goods
    first asked for are worth more, and the street's opinion is refused."""
    asked = (*case.goods, *case.dropped_goods)
    value = sum((item.value for item in asked), Money.zero())
    path = f"/api/v1/applications/{app_id}/street-opinion"
    body = opinion(str(value), asked)

    response = api.send(STREET_WORKER, "POST", path, body=body, expect=(422,))
    names = "、".join(item.name for item in asked)
    expect_cap_refusal(
        response,
        STREET_WORKER,
        "实物超过上限被拒 In kind above cap",
        f"goods={names}  value={value}",
    )
    dropped = "、".join(item.name for item in case.dropped_goods)
    note(f"去掉 dropping: {dropped}")


def show_goods(proposal: Json) -> None:
    """The goods of an in-kind proposal, each with its value, and their total."""
    lines = [
        f"{item['name']} {item['quantity']} × {item['unit_value']} = {item['value']}"
        for item in proposal["in_kind_items"]
    ]
    note(f"实物 goods: {'；'.join(lines)}  value={proposal['proposed_amount']}")


def propose(api: Api, case: Case, app_id: int) -> Json:
    if case.dropped_goods:
        refused_goods_over_cap(api, case, app_id)
    label = "街道意见 Street opinion"
    if case.goods:
        label = "街道意见（实物）Opinion in kind"

    proposal = act(
        api,
        STREET_WORKER,
        app_id,
        "street-opinion",
        label,
        opinion(case.proposed, case.goods),
    )
    if case.goods:
        show_goods(proposal)
    return proposal


def refused_over_cap(api: Api, app_id: int, proposal: Json) -> str:
    """Try one fen above 6 × S × N; return the allowed maximum the refusal names."""
    rules = proposal["decisions"][-1]["explanation"]["rules"]
    limit = next(r for r in rules if r["rule"] == "R2.2")["inputs"]["per_case_limit"]
    over = str(Money.parse(limit) + Money(1))
    path = f"/api/v1/applications/{app_id}/district-decision"
    body = {"decision": "approve", "amount": over}

    response = api.send(OFFICER, "POST", path, body=body, expect=(422,))
    return expect_cap_refusal(
        response,
        OFFICER,
        "超过上限被拒 Approval above cap",
        f"amount={over}  per-case limit={limit}",
    )


def approve(api: Api, case: Case, app_id: int, proposal: Json) -> Json:
    """The district approves; a proposal the rules route to the street (R3.5,
    at most 1,000 yuan) is approved by the street leader for the district."""
    if proposal["decisions"][-1]["approval_level"] == "street":
        body = {"amount": case.proposed, "opinion": "同意救助，报区备案"}
        title = "街道审批 Street approval (R3.5)"
        return act(api, STREET_LEADER, app_id, "street-approval", title, body)

    amount = (
        refused_over_cap(api, app_id, proposal) if case.probe_cap else case.proposed
    )
    body = {"decision": "approve", "amount": amount, "opinion": "同意救助"}

    return act(
        api, OFFICER, app_id, "district-decision", "区级审批 District approval", body
    )


def publicity_days(application: Json) -> int:
    """Whole days of the publicity window (7 under the default parameter)."""
    starts = dt.datetime.fromisoformat(application["publicity_starts_at"])
    ends = dt.datetime.fromisoformat(application["publicity_ends_at"])
    return whole_days_until(starts, ends)


def start_publicity(api: Api, app_id: int) -> Json:
    return act(
        api, STREET_WORKER, app_id, "publicity/start", "开始公示 Publicity start"
    )


def publicise(api: Api, app_id: int) -> Json:
    """Start publicity, move the demo clock past its end and close it."""
    started = start_publicity(api, app_id)
    move_clock(api, publicity_days(started))

    return act(
        api, STREET_WORKER, app_id, "publicity/close", "结束公示 Publicity close"
    )


# --- Story 4: the filing list and the spot check (R3.5, R3.6) --------------


def approved_at(application: Json) -> dt.datetime:
    """When the approval in force was decided."""
    decision = next(
        d for d in reversed(application["decisions"]) if d["outcome"] == "approved"
    )
    return dt.datetime.fromisoformat(decision["decided_at"])


def show_filing(api: Api, app_id: int, month: str) -> None:
    """The district's filing list of the month holds the street's approval."""
    filings: Json = api.ok(OFFICER, "GET", f"/api/v1/filings?month={month}")
    show(
        200,
        OFFICER,
        "区备案清单 Filing list",
        f"month={month}  entries={filings['count']}  total={filings['total']}",
    )

    entry = next((e for e in filings["entries"] if e["application_id"] == app_id), None)
    if entry is None:
        raise DemoFailure(f"申请 #{app_id} 不在 {month} 备案清单上 / not filed")
    note(
        f"application #{app_id}  amount={entry['amount']}"
        f"  approved_on={entry['approved_on']}  by={entry['approver_name']}"
        f"  in_force={entry['in_force']}"
    )


def clock_past_month(api: Api, month_moment: dt.datetime) -> None:
    """Draws wait until the month is over: move the clock into the next one."""
    now = move_clock(api, 0)
    days = whole_days_until(now, next_month_start(month_moment))
    if days == 0:
        note(
            f"{month_of(month_moment)} 已结束 the month is over  now={now.isoformat()}"
        )
        return
    move_clock(api, days, "时钟进入次月 Clock into next month")


def existing_draw(api: Api, month: str) -> Json:
    """The draw already made for the street and month."""
    query = f"month={month}&street_code={STREET}"
    draws: list[Json] = api.ok(OFFICER, "GET", f"/api/v1/spot-checks/draws?{query}")
    if not draws:
        raise DemoFailure(f"{month} 无抽查记录 / no draw found")
    show(200, OFFICER, "已有抽查 Existing draw", f"draw #{draws[0]['id']}")
    return draws[0]


def draw_spot_checks(api: Api, month: str) -> Json:
    """Draw the street's checks of the month; once drawn, show that draw."""
    body = {"street_code": STREET, "month": month, "seed": SPOT_CHECK_SEED}
    response = api.send(
        OFFICER, "POST", "/api/v1/spot-checks/draws", body=body, expect=(201, 409)
    )
    if response.status_code == 409:
        if response.json().get("code") != "spot_check_already_drawn":
            raise unexpected(response, "201 or 409 spot_check_already_drawn")
        show(409, OFFICER, "本月已抽取 Already drawn", "code=spot_check_already_drawn")
        return existing_draw(api, month)

    draw: Json = response.json()
    show(201, OFFICER, "抽取抽查 Spot-check draw", f"draw #{draw['id']}")
    return draw


def show_draw(draw: Json, app_id: int) -> None:
    drawn = [c["application_id"] for c in draw["checks"]]
    note(
        f"month={draw['month']}  seed={draw['seed']}  ratio={draw['ratio']}"
        f"  drawn {draw['drawn_count']} of {draw['population_count']}"
    )
    note(f"population: {draw['population_ids']}  drawn: {drawn}")
    picked = "本案被抽中 this case was drawn"
    note(picked if app_id in drawn else "本案未被抽中 this case was not drawn")


def pass_one_check(api: Api, draw: Json, app_id: int) -> None:
    """Record a pass for a pending check, this run's case first if drawn."""
    pending = [c for c in draw["checks"] if c["status"] == "pending"]
    if not pending:
        note("无待登记的抽查 no check left to record")
        return

    check = min(pending, key=lambda c: c["application_id"] != app_id)
    body = {"result": "passed", "findings": "入户复核，家庭情况与申请材料一致"}
    result: Json = api.ok(
        OFFICER, "POST", f"/api/v1/spot-checks/{check['id']}/result", body=body
    )
    show(
        200,
        OFFICER,
        "抽查合格 Spot check passed",
        f"check #{result['id']}  application #{result['application_id']}"
        f"  amount={result['approved_amount']}  status={result['status']}",
    )


def show_coverage(api: Api, month: str) -> None:
    report: Json = api.ok(OFFICER, "GET", f"/api/v1/spot-checks/coverage?month={month}")
    street = next(s for s in report["streets"] if s["street_code"] == STREET)
    show(
        200,
        OFFICER,
        "抽查覆盖 Spot-check coverage",
        f"{street['street_name']}  population={street['population']}"
        f"  drawn={street['drawn']}  checked={street['checked']}"
        f"  ratio={street['ratio']}  required={street['required_ratio']}"
        f"  meets={street['meets_ratio']}",
    )


def file_and_spot_check(api: Api, approval: Json) -> None:
    """The street's approval on the district's filing list, then the month's
    spot-check draw, one check passed and the street's coverage."""
    app_id = int(approval["id"])
    decided = approved_at(approval)
    month = month_of(decided)

    show_filing(api, app_id, month)
    clock_past_month(api, decided)
    draw = draw_spot_checks(api, month)
    show_draw(draw, app_id)
    pass_one_check(api, draw, app_id)
    show_coverage(api, month)


# --- Story 5: the street's reserve fund and the advance (R3.9, R5.1) --------


def fund_facts(fund: Json) -> str:
    return (
        f"{fund['street_name']} {fund['year']}  balance={fund['balance']}"
        f"  cap={fund['cap']}"
    )


def set_up_fund(api: Api, year: int) -> Json:
    """Set the year's cap from last year's spending; a 409 means it is set."""
    body = {
        "street_code": STREET,
        "year": year,
        "last_year_spending": RESERVE_LAST_YEAR_SPENDING,
    }
    response = api.send(
        OFFICER, "POST", "/api/v1/reserve-funds", body=body, expect=(201, 409)
    )
    if response.status_code == 409:
        fund: Json = api.ok(OFFICER, "GET", FUND_PATH)
        show(409, OFFICER, "备用金已设立 Fund already set up", fund_facts(fund))
        return fund

    fund = response.json()
    show(201, OFFICER, "设立备用金 Set up reserve fund", fund_facts(fund))
    note(f"cap: {fund['explanation']}")
    return fund


def reserve_fund(api: Api) -> Json:
    """田心街道's fund for this year, set up on the first run of the year."""
    year = move_clock(api, 0).astimezone(CHINA_TZ).year
    response = api.send(OFFICER, "GET", FUND_PATH, expect=(200, 404))
    if response.status_code == 404 or response.json()["year"] < year:
        return set_up_fund(api, year)

    fund: Json = response.json()
    show(200, OFFICER, "备用金已设立 Reserve fund exists", fund_facts(fund))
    return fund


def replenish_to_cap(api: Api, fund: Json) -> Json:
    """Transfer only what is missing up to the cap: more would be refused."""
    room = Money.parse(fund["room"])
    if room.fen <= 0:
        note("备用金已满 the fund is at its cap")
        return fund

    body = {"amount": str(room), "note": "区民政局拨付，补足至上限"}
    filled: Json = api.ok(
        OFFICER, "POST", f"{FUND_PATH}/replenishments", body=body, expect=201
    )
    show(201, OFFICER, "补充备用金 Replenish to cap", f"+{room}  {fund_facts(filled)}")
    return filled


def pay_advance(api: Api, case: Case, app_id: int) -> None:
    """Pay the urgent part at once from the reserve fund, before investigation."""
    before = replenish_to_cap(api, reserve_fund(api))
    body = {"amount": case.advance, "note": "山洪当日先行救助"}
    act(api, STREET_LEADER, app_id, "advance", "先行救助 Advance from reserve", body)

    after: Json = api.ok(OFFICER, "GET", FUND_PATH)
    show(
        200,
        OFFICER,
        "备用金余额 Reserve balance",
        f"before={before['balance']}  after={after['balance']}"
        f"  (-{after['movements'][-1]['amount']})",
    )


# --- Story 6: an objection upheld during publicity (R3.7) ------------------


def object_and_uphold(api: Api, case: Case, app_id: int) -> Json:
    """Someone objects during publicity; the district upholds the objection
    and the case goes back to investigation with its approval revoked."""
    start_publicity(api, app_id)
    body = {"source": "phone", "content": case.objection, "contact": "13800138000"}
    raised: Json = api.ok(
        COMMUNITY_WORKER,
        "POST",
        f"/api/v1/applications/{app_id}/objections",
        body=body,
        expect=201,
    )
    objection = raised["objections"][-1]
    show(
        201,
        COMMUNITY_WORKER,
        "登记异议 Objection recorded",
        f"objection #{objection['id']}  source={objection['source']}"
        f"  contact={objection['contact_masked']}  status={objection['status']}",
    )
    note(f"content: {objection['content']}")

    decision = {"decision": "uphold", "note": "经核实，申请人隐瞒保险赔付，异议成立"}
    path = f"/api/v1/objections/{objection['id']}/decision"
    upheld: Json = api.ok(OFFICER, "POST", path, body=decision)
    show(200, OFFICER, "异议成立 Objection upheld", describe(upheld))
    if upheld["status"] != "accepted" or upheld["approved_amount"] is not None:
        raise DemoFailure(f"申请 #{app_id} 审批未撤销 / approval not revoked")
    note(
        f"approved_amount={upheld['approved_amount']}（审批已撤销 approval revoked）"
        f"  objection={upheld['objections'][-1]['status']}"
    )
    return upheld


# --- Story 7: goods in kind (R3.10) ----------------------------------------


def refused_on_form(api: Api, app_id: int) -> None:
    """Goods in kind are handed over, never put on the disbursement form."""
    body = {"application_ids": [app_id]}
    response = api.send(OFFICER, "POST", FORMS_PATH, body=body, expect=(409,))
    show(
        409,
        OFFICER,
        "实物不列入审批单 Not on the form",
        f"application #{app_id}  code={response.json()['code']}",
    )
    note(f"detail: {response.json()['detail']}")


def deliver(api: Api, case: Case, closed: Json) -> Json:
    """The street hands the goods over: the case is complete, like a paid one."""
    app_id = int(closed["id"])
    refused_on_form(api, app_id)

    today = dt.datetime.fromisoformat(closed["updated_at"]).astimezone(CHINA_TZ)
    body = {
        "received_by": case.people[0].name,
        "delivered_on": today.date().isoformat(),
        "note": "物品送至家中，本人签收",
    }
    delivered = act(
        api, STREET_WORKER, app_id, "delivery", "登记实物发放 Delivery recorded", body
    )
    note(
        f"received_by={delivered['delivery']['received_by']}  on {body['delivered_on']}"
    )
    return delivered


# --- The street pays what it approved (R3.5) --------------------------------


def pay_by_street(api: Api, closed: Json) -> Json:
    """A delegated approval is paid by the street, not on the district's form."""
    app_id = int(closed["id"])
    body = {"application_ids": [app_id]}
    response = api.send(OFFICER, "POST", FORMS_PATH, body=body, expect=(409,))
    show(
        409,
        OFFICER,
        "街道审批不列入区审批单 Not on the form",
        f"application #{app_id}  code={response.json()['code']}",
    )
    voucher = f"TX-{app_id:06d}"
    paid = act(
        api,
        STREET_WORKER,
        app_id,
        "street-payment",
        "街道发放 Street pays (R3.5)",
        {"voucher_no": voucher},
    )
    payment = paid["payments"][-1]
    note(f"payer={payment['payer']}  voucher={payment['voucher_no']}")
    return paid


# --- One case's story -------------------------------------------------------


def conclude(api: Api, case: Case, approval: Json) -> Json:
    """Publicity and what follows it in the case's story."""
    app_id = int(approval["id"])
    if case.objection is not None:
        return object_and_uphold(api, case, app_id)

    closed = publicise(api, app_id)
    if case.spot_check:
        file_and_spot_check(api, approval)
    if case.goods:
        return deliver(api, case, closed)
    if approval["decisions"][-1]["stage"] == "street_approval":
        return pay_by_street(api, closed)
    return closed


def drive_case(api: Api, case: Case) -> Json:
    """One application from the household's registration to the end of its
    story in this run; returns the application as it then stands."""
    print(f"\n== {case.title} ==")
    household = register_household(api, case)
    app_id = create_application(api, case, household["id"])

    take_in(api, case, app_id)
    if case.advance is not None:
        pay_advance(api, case, app_id)
    investigate(api, app_id)

    proposal = propose(api, case, app_id)
    approval = approve(api, case, app_id, proposal)
    return conclude(api, case, approval)


# --- Money out: form, signatures, batch, bank ------------------------------


def show_top_ups(form: Json, applications: Sequence[Json]) -> None:
    """An advanced case is paid the rest: approved − advance (补足)."""
    amounts = {p["application_id"]: p["amount"] for p in form["payments"]}
    for application in applications:
        if application["advance"] is None:
            continue
        approved = Money.parse(application["approved_amount"])
        top_up = approved - Money.parse(application["advance"])
        paid = amounts[application["id"]]
        if Money.parse(paid) != top_up:
            raise DemoFailure(f"补足金额 {paid} ≠ top-up {top_up}")
        note(
            f"补足 top-up: application #{application['id']}  approved {approved}"
            f" − advance {application['advance']} = {paid}"
        )


def sign_disbursement_form(api: Api, applications: Sequence[Json]) -> Json:
    """Draw up the form for these applications; the three signers sign it."""
    print("\n== 发放审批 / Disbursement form ==")
    form: Json = api.ok(
        OFFICER,
        "POST",
        FORMS_PATH,
        body={"application_ids": [a["id"] for a in applications]},
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
    show_top_ups(form, applications)

    for signer in SIGNERS:
        form = api.ok(
            signer,
            "POST",
            f"{FORMS_PATH}/{form['id']}/signatures",
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
    """Each application as the district sees it now; each must have reached
    its case's outcome (paid, or back to investigation after the objection)."""
    print("\n== 结果 / Outcome ==")
    finals: list[Json] = []
    for case, app_id in zip(CASES, app_ids, strict=True):
        application: Json = api.ok(OFFICER, "GET", f"/api/v1/applications/{app_id}")
        show(200, OFFICER, "查看申请 Application", describe(application))
        if application["status"] != case.outcome:
            raise DemoFailure(
                f"申请 #{app_id} 状态为 {application['status']}"
                f" / expected {case.outcome}"
            )
        finals.append(application)
    return finals


def paid_as(case: Case, application: Json) -> str:
    """How the money reached the household, if it did."""
    if case.objection is not None:
        return "撤销 revoked"
    if case.goods:
        return "实物 in kind"
    street = application["payments"][-1]["payer"] == "street"
    if application["advance"] is not None:
        return "备用金+街道 reserve+street" if street else "备用金+银行 reserve+bank"
    return "街道 street" if street else "银行 bank"


def print_summary(finals: Sequence[Json]) -> None:
    """A table of this run's cases and their total, amounts right-aligned."""
    header = (
        "案例 Case",
        "申请 Application",
        "状态 Status",
        "方式 Paid as",
        "批准金额 Approved",
    )
    rows = [
        (
            case.short,
            f"#{application['id']}",
            f"{application['status']}（{application['status_title']}）",
            paid_as(case, application),
            application["approved_amount"] or "-",
        )
        for case, application in zip(CASES, finals, strict=True)
    ]
    approved = [a["approved_amount"] for a in finals if a["approved_amount"]]
    total = sum((Money.parse(amount) for amount in approved), Money.zero())
    table = [header, *rows, ("合计 Total", "", "", "", str(total))]
    sizes = [max(width(row[i]) for row in table) for i in range(len(header))]

    print("\n== 汇总 / Summary ==")
    for row in table:
        cells = [pad(c, size) for c, size in zip(row[:-1], sizes[:-1], strict=True)]
        amount = row[-1]
        print("  ".join((*cells, " " * (sizes[-1] - width(amount)) + amount)))


def run(api: Api) -> None:
    driven = [drive_case(api, case) for case in CASES]

    # What is still to pay goes through the district's form and the bank.
    cash = [a for a in driven if a["status"] == "awaiting_payment"]
    sign_disbursement_form(api, cash)
    pay_out(api)

    print_summary(final_state(api, [int(a["id"]) for a in driven]))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Drive seven temporary-assistance cases through a running service."
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
