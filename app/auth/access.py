"""Who may call what: the one authorisation table of the API.

Every route of the application (method and path template) has exactly one
``Rule`` here. The routers do not name roles: their dependency
(``app.deps.Authorized``) finds the request's rule in ``ROUTES`` and checks
it, and ``docs/access.md`` is rendered from the same table
(``linshi export-access``). ``tests/test_access_matrix.py`` walks every
route of the app and fails on one without a rule, and drives every role
against every route, in and out of its region.

A rule says

* who: nobody needs a token (public), any authenticated caller, the listed
  roles, or the roles of named edges of the transition table (case actions
  read ``EDGES``, so the two tables cannot disagree);
* whether it is region-scoped: an object named in the path (application,
  household, attachment, form, batch, objection, spot check, recovery,
  street code, user, machine client) outside the caller's region answers
  404, exactly as an absent one, so nobody learns what exists elsewhere.

Machine clients reach only the routes whose rule names their role: the
bank its payout batches, the provincial platform reference data and the
change feed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.domain.roles import DISTRICT_ROLES, MACHINE_ROLES, ROLE_TITLES_ZH, Role
from app.errors import PermissionDenied
from app.persistence.crypto import blind_index
from app.persistence.tables import (
    Application,
    Attachment,
    DisbursementForm,
    Household,
    MachineClient,
    Objection,
    PayoutBatch,
    Recovery,
    SpotCheck,
    User,
)
from app.workflow.transitions import (
    ACTION_TITLES_ZH,
    CREATE_ROLES,
    EDGES,
    OBJECTION_DECIDERS,
    Action,
)


class SeparationOfDuties(PermissionDenied):
    """The caller holds the role, but this case is not theirs to handle."""

    code = "separation_of_duties"
    title = "Separation of duties"


def person_key(id_number: str) -> str:
    """The key a staff member's ID number is stored and compared under: the
    blind index of the normalised number, as household members' numbers are
    indexed (app/persistence/crypto.py), so the number itself is not kept."""
    return blind_index(id_number.strip().upper())


class Who(StrEnum):
    PUBLIC = "public"
    AUTHENTICATED = "authenticated"
    ROLES = "roles"
    CASE_ACTION = "case_action"


@dataclass(frozen=True, slots=True)
class Rule:
    who: Who
    roles: frozenset[Role]
    # For case actions: the edges whose roles these are.
    actions: tuple[Action, ...] = ()
    # Objects named in the path outside the caller's region answer 404.
    scoped: bool = True

    def admits(self, role: Role) -> bool:
        return self.who is Who.AUTHENTICATED or role in self.roles

    def refusal(self) -> str:
        """What a caller outside the rule reads: for a case action, the
        action, as the transition table says it."""
        if self.actions:
            titles = "、".join(dict.fromkeys(ACTION_TITLES_ZH[a] for a in self.actions))
            return f"您的角色无权执行「{titles}」。"
        return "您的角色无权访问此功能。"


PEOPLE = frozenset(role for role in Role if role not in MACHINE_ROLES)
# Everyone who reads case files: the people, never a machine client.
READERS = PEOPLE
DISTRICT_READERS = DISTRICT_ROLES | {Role.AUDITOR}
STREET_AND_DISTRICT = DISTRICT_READERS | {Role.STREET_WORKER, Role.STREET_LEADER}
ADMIN = frozenset({Role.ADMIN})
BANK = frozenset({Role.BANK})
PROVINCE = frozenset({Role.PROVINCE_PLATFORM})
REFERENCE_READERS = PEOPLE | {Role.PROVINCE_PLATFORM}
SIGNERS = frozenset(
    {
        Role.DISTRICT_OFFICER,
        Role.DISTRICT_ASSISTANCE_LEADER,
        Role.DISTRICT_FINANCE_LEADER,
    }
)
SPOT_CHECKERS = frozenset({Role.DISTRICT_OFFICER, Role.DISTRICT_ASSISTANCE_LEADER})
FUND_MANAGERS = frozenset({Role.DISTRICT_OFFICER, Role.DISTRICT_FINANCE_LEADER})
FUND_READERS = FUND_MANAGERS | {
    Role.DISTRICT_ASSISTANCE_LEADER,
    Role.AUDITOR,
    Role.STREET_WORKER,
    Role.STREET_LEADER,
}
UPLOADERS = frozenset(
    {
        Role.COMMUNITY_WORKER,
        Role.STREET_WORKER,
        Role.STREET_LEADER,
        Role.DISTRICT_OFFICER,
    }
)
OBJECTION_RAISERS = CREATE_ROLES | OBJECTION_DECIDERS | {Role.DISTRICT_OFFICER}


def public() -> Rule:
    return Rule(Who.PUBLIC, frozenset(), scoped=False)


def authenticated() -> Rule:
    return Rule(Who.AUTHENTICATED, frozenset(Role), scoped=False)


def roles(allowed: Iterable[Role], *, scoped: bool = True) -> Rule:
    return Rule(Who.ROLES, frozenset(allowed), scoped=scoped)


def case_action(*actions: Action) -> Rule:
    allowed = frozenset(
        role for edge in EDGES if edge.action in actions for role in edge.roles
    )
    return Rule(Who.CASE_ACTION, allowed, actions=actions)


_A = "/api/v1/applications/{application_id}"

ROUTES: Mapping[tuple[str, str], Rule] = {
    # --- system and sign-in
    ("GET", "/healthz"): public(),
    ("POST", "/api/v1/auth/token"): public(),
    # The refresh token is its own credential: no bearer token.
    ("POST", "/api/v1/auth/refresh"): public(),
    ("POST", "/api/v1/auth/logout"): authenticated(),
    ("GET", "/api/v1/auth/me"): authenticated(),
    ("POST", "/api/v1/demo/clock"): roles(ADMIN, scoped=False),
    # --- reference data: not personal, the province syncs it
    ("GET", "/api/v1/regions"): roles(REFERENCE_READERS, scoped=False),
    ("GET", "/api/v1/policy/parameters"): roles(REFERENCE_READERS, scoped=False),
    ("POST", "/api/v1/policy/parameters"): roles(ADMIN, scoped=False),
    ("GET", "/api/v1/policy/dibao-standards"): roles(REFERENCE_READERS, scoped=False),
    ("POST", "/api/v1/policy/dibao-standards"): roles(ADMIN, scoped=False),
    ("GET", "/api/v1/calendar/{year}"): roles(REFERENCE_READERS, scoped=False),
    ("PUT", "/api/v1/calendar/{year}"): roles(ADMIN, scoped=False),
    ("POST", "/api/v1/eligibility/evaluate"): roles(READERS),
    # --- households
    ("POST", "/api/v1/households"): roles(CREATE_ROLES),
    ("GET", "/api/v1/households"): roles(READERS),
    ("GET", "/api/v1/households/{household_id}"): roles(READERS),
    ("PUT", "/api/v1/households/{household_id}/bank-account"): roles(
        CREATE_ROLES | {Role.DISTRICT_OFFICER}
    ),
    # --- applications and their actions
    ("POST", "/api/v1/applications"): roles(CREATE_ROLES),
    ("GET", "/api/v1/applications"): roles(READERS),
    ("GET", _A): roles(READERS),
    ("POST", _A + "/intake"): case_action(
        Action.ACCEPT, Action.RETURN, Action.INTAKE_REFUSE
    ),
    ("POST", _A + "/resubmission"): case_action(Action.RESUBMIT),
    ("POST", _A + "/investigation"): case_action(Action.RECORD_INVESTIGATION),
    ("POST", _A + "/economic-check/authorisation"): case_action(Action.REQUEST_CHECK),
    ("POST", _A + "/economic-check"): case_action(Action.REQUEST_CHECK),
    ("POST", _A + "/economic-check/refresh"): case_action(Action.RECORD_CHECK_RESULT),
    ("POST", _A + "/economic-check/retry"): case_action(Action.REQUEST_CHECK),
    ("POST", _A + "/appraisal"): case_action(Action.RECORD_APPRAISAL),
    ("POST", _A + "/street-opinion"): case_action(Action.PROPOSE, Action.STREET_REFUSE),
    ("POST", _A + "/street-approval"): case_action(Action.STREET_APPROVE),
    ("POST", _A + "/district-decision"): case_action(
        Action.APPROVE, Action.DISTRICT_REFUSE
    ),
    ("POST", _A + "/fast-relief"): case_action(Action.FAST_RELIEF),
    ("POST", _A + "/publicity/start"): case_action(Action.START_PUBLICITY),
    ("POST", _A + "/publicity/close"): case_action(Action.CLOSE_PUBLICITY),
    ("POST", _A + "/advance"): case_action(Action.PAY_ADVANCE),
    ("POST", _A + "/advance/settlement"): case_action(Action.SETTLE_ADVANCE),
    ("POST", _A + "/referral"): case_action(Action.REFER),
    ("POST", _A + "/referral/outcome"): case_action(Action.RECORD_REFERRAL_OUTCOME),
    ("POST", _A + "/delivery"): case_action(Action.RECORD_DELIVERY),
    ("POST", _A + "/street-payment"): case_action(Action.STREET_PAY),
    ("POST", _A + "/close"): case_action(Action.CLOSE_FILE),
    ("POST", _A + "/recoveries"): case_action(Action.RECORD_RECOVERY),
    ("GET", _A + "/recoveries"): roles(READERS),
    ("GET", _A + "/refusal-notice"): roles(READERS),
    # --- publicity objections
    ("POST", _A + "/objections"): roles(OBJECTION_RAISERS),
    ("GET", _A + "/objections"): roles(READERS),
    ("POST", "/api/v1/objections/{objection_id}/decision"): roles(OBJECTION_DECIDERS),
    # --- the file
    ("POST", _A + "/attachments"): roles(UPLOADERS),
    ("GET", _A + "/attachments"): roles(READERS),
    ("GET", "/api/v1/attachments/{attachment_id}"): roles(READERS),
    ("GET", _A + "/file"): roles(READERS),
    # --- disbursement forms (district) and bank batches
    ("POST", "/api/v1/disbursement-forms"): roles({Role.DISTRICT_OFFICER}),
    ("GET", "/api/v1/disbursement-forms"): roles(DISTRICT_READERS),
    ("GET", "/api/v1/disbursement-forms/{form_id}"): roles(DISTRICT_READERS),
    ("POST", "/api/v1/disbursement-forms/{form_id}/signatures"): roles(SIGNERS),
    ("POST", "/api/v1/disbursement-forms/{form_id}/withdrawals"): roles(
        {Role.DISTRICT_OFFICER}
    ),
    ("POST", "/api/v1/payout-batches"): roles(FUND_MANAGERS),
    ("GET", "/api/v1/payout-batches"): roles(DISTRICT_READERS | BANK),
    ("GET", "/api/v1/payout-batches/templates"): roles(DISTRICT_READERS | BANK),
    ("GET", "/api/v1/payout-batches/{batch_id}"): roles(DISTRICT_READERS | BANK),
    ("GET", "/api/v1/payout-batches/{batch_id}/file"): roles(BANK),
    ("GET", "/api/v1/payout-batches/{batch_id}/report"): roles(DISTRICT_READERS),
    ("POST", "/api/v1/payout-batches/{batch_id}/acknowledgement"): roles(BANK),
    ("POST", "/api/v1/payout-batches/{batch_id}/results"): roles(BANK),
    ("POST", "/api/v1/payout-batches/{batch_id}/results/file"): roles(BANK),
    # --- filing and spot checks (R3.5, R3.6)
    ("GET", "/api/v1/filings"): roles(STREET_AND_DISTRICT),
    ("POST", "/api/v1/spot-checks/draws"): roles(SPOT_CHECKERS),
    ("GET", "/api/v1/spot-checks/draws"): roles(DISTRICT_READERS),
    ("GET", "/api/v1/spot-checks"): roles(DISTRICT_READERS),
    ("GET", "/api/v1/spot-checks/coverage"): roles(DISTRICT_READERS),
    ("POST", "/api/v1/spot-checks/{check_id}/result"): roles(SPOT_CHECKERS),
    # --- reserve funds and recoveries (R5.1, R5.2)
    ("POST", "/api/v1/reserve-funds"): roles(FUND_MANAGERS),
    ("GET", "/api/v1/reserve-funds/{street_code}"): roles(FUND_READERS),
    ("POST", "/api/v1/reserve-funds/{street_code}/replenishments"): roles(
        FUND_MANAGERS
    ),
    ("POST", "/api/v1/recoveries/{recovery_id}/repayments"): roles(FUND_MANAGERS),
    ("GET", "/api/v1/recoveries/report"): roles(STREET_AND_DISTRICT),
    # --- the change feed: the province's own platform reads every event of
    # the service (docs/change-feed.md); nobody else, not the bank
    ("GET", "/api/v1/sync/changes"): roles(PROVINCE, scoped=False),
    ("GET", "/api/v1/sync/changes.ndjson"): roles(PROVINCE, scoped=False),
    # --- administration: accounts, clients, regions (never a case)
    ("GET", "/api/v1/admin/roles"): roles(ADMIN, scoped=False),
    ("GET", "/api/v1/admin/users"): roles(ADMIN),
    ("POST", "/api/v1/admin/users"): roles(ADMIN),
    ("GET", "/api/v1/admin/users/{user_id}"): roles(ADMIN),
    ("PATCH", "/api/v1/admin/users/{user_id}"): roles(ADMIN),
    ("POST", "/api/v1/admin/users/{user_id}/disable"): roles(ADMIN),
    ("POST", "/api/v1/admin/users/{user_id}/enable"): roles(ADMIN),
    ("POST", "/api/v1/admin/users/{user_id}/password"): roles(ADMIN),
    ("GET", "/api/v1/admin/clients"): roles(ADMIN),
    ("POST", "/api/v1/admin/clients"): roles(ADMIN),
    ("POST", "/api/v1/admin/clients/{client_id}/secret"): roles(ADMIN),
    ("POST", "/api/v1/admin/clients/{client_id}/disable"): roles(ADMIN),
    ("GET", "/api/v1/admin/regions"): roles(ADMIN),
    ("POST", "/api/v1/admin/regions"): roles(ADMIN),
}


def rule_for(method: str, path: str) -> Rule:
    """The rule of a route; a route without one is refused to everyone."""
    rule = ROUTES.get((method.upper(), path))
    if rule is None:
        raise PermissionDenied("该接口未登记访问规则，暂不可用。")
    return rule


def endpoints_of(role: Role) -> list[tuple[str, str]]:
    """The routes a role reaches (for a machine client: its scopes)."""
    return [key for key, rule in ROUTES.items() if rule.admits(role)]


# --- Region scope of the objects a path names ----------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """Where an object named in the path lives, and whose case it is."""

    region_code: str
    household_id: int | None = None


Resolver = Callable[[AsyncSession, int], Awaitable[Target | None]]


async def _application(session: AsyncSession, key: int) -> Target | None:
    row = (
        await session.execute(
            select(Application.region_code, Application.household_id).where(
                col(Application.id) == key
            )
        )
    ).first()
    return None if row is None else Target(row[0], row[1])


def _via_application(column: object, key_column: object) -> Resolver:
    async def resolve(session: AsyncSession, key: int) -> Target | None:
        application_id = await session.scalar(
            select(column).where(key_column == key)  # type: ignore[call-overload]
        )
        if application_id is None:
            return None
        return await _application(session, int(application_id))

    return resolve


async def _household(session: AsyncSession, key: int) -> Target | None:
    code = await session.scalar(
        select(Household.region_code).where(col(Household.id) == key)
    )
    return None if code is None else Target(code, key)


def _region_column(column: object, key_column: object) -> Resolver:
    async def resolve(session: AsyncSession, key: int) -> Target | None:
        code = await session.scalar(
            select(column).where(key_column == key)  # type: ignore[call-overload]
        )
        return None if code is None else Target(str(code))

    return resolve


RESOLVERS: Mapping[str, Resolver] = {
    "application_id": _application,
    "household_id": _household,
    "attachment_id": _via_application(
        col(Attachment.application_id), col(Attachment.id)
    ),
    "objection_id": _via_application(col(Objection.application_id), col(Objection.id)),
    "check_id": _via_application(col(SpotCheck.application_id), col(SpotCheck.id)),
    "recovery_id": _via_application(col(Recovery.application_id), col(Recovery.id)),
    "form_id": _region_column(
        col(DisbursementForm.district_code), col(DisbursementForm.id)
    ),
    "batch_id": _region_column(col(PayoutBatch.district_code), col(PayoutBatch.id)),
    "user_id": _region_column(col(User.region_code), col(User.id)),
    "client_id": _region_column(col(MachineClient.region_code), col(MachineClient.id)),
}
# Path parameters that are region codes themselves.
REGION_PARAMETERS = frozenset({"street_code"})
# Path parameters that name nothing regional.
UNSCOPED_PARAMETERS = frozenset({"year"})

_MAX_KEY = 2**31 - 1


def names_object(name: str, value: str) -> bool:
    """Whether a path parameter is the key of a regional object; a value
    that is no key at all is left to the route's validation (422)."""
    if name in REGION_PARAMETERS:
        return value.isdigit() and len(value) == 12
    return name in RESOLVERS and value.isdigit() and 1 <= int(value) <= _MAX_KEY


async def target_of(session: AsyncSession, name: str, value: str) -> Target | None:
    """Where the object lives; ``None`` when there is no such object."""
    if name in REGION_PARAMETERS:
        return Target(value)
    return await RESOLVERS[name](session, int(value))


_ABSENT = {
    "application_id": "申请 {} 不存在。",
    "household_id": "家庭 {} 不存在。",
    "attachment_id": "附件 {} 不存在。",
    "objection_id": "异议 {} 不存在。",
    "check_id": "抽查记录 {} 不存在。",
    "recovery_id": "追回记录 {} 不存在。",
    "form_id": "发放审批单 {} 不存在。",
    "batch_id": "代发批次 {} 不存在。",
    "street_code": "街道 {} 不存在。",
    "user_id": "用户 {} 不存在。",
    "client_id": "客户端 {} 不存在。",
}


def absent(name: str, value: str) -> str:
    """What an absent object's 404 says; one outside the region says the same."""
    return _ABSENT[name].format(value)


# --- docs/access.md -------------------------------------------------------


def _who(rule: Rule) -> str:
    if rule.who is Who.PUBLIC:
        return "public (no token)"
    if rule.who is Who.AUTHENTICATED:
        return "any authenticated caller"
    names = ", ".join(f"`{r.value}`" for r in Role if r in rule.roles)
    if rule.who is Who.CASE_ACTION:
        actions = ", ".join(f"`{a.value}`" for a in rule.actions)
        return f"transition table, {actions}: {names}"
    if rule.roles == PEOPLE:
        return "any staff member"
    return names


def render_markdown() -> str:
    """``docs/access.md``: the table above, as people read it."""
    lines = [
        "# Who may call what",
        "",
        "Generated from `app/auth/access.py` by `linshi export-access`;"
        " do not edit by hand",
        "(`tests/test_access_matrix.py` fails when this page is stale).",
        "",
        "A caller whose role is not listed gets 403. *Scoped*: an object the"
        " path names",
        "(application, household, attachment, form, batch, objection, spot check,",
        "recovery, street code, user, client) outside the caller's region answers 404,",
        "as if absent; list filters only narrow the caller's region. Case actions take",
        "their roles from the transition table (`app/workflow/transitions.py`);"
        " the edge",
        "then decides by the case's status. Any action on an application or household",
        "of which the caller is a member (by ID number) is refused with 403",
        "`separation_of_duties`; so is an approval by whoever proposed the amount.",
        "",
        "| method | path | who | scoped |",
        "|---|---|---|---|",
    ]
    for (method, path), rule in sorted(ROUTES.items(), key=lambda i: i[0][::-1]):
        scoped = "yes" if rule.scoped else ""
        lines.append(f"| {method} | `{path}` | {_who(rule)} | {scoped} |")
    lines += ["", "## Roles", "", "| role | title | routes |", "|---|---|---|"]
    for role in Role:
        lines.append(
            f"| `{role.value}` | {ROLE_TITLES_ZH[role]} | {len(endpoints_of(role))} |"
        )
    lines += ["", "## Machine clients: their only endpoints", ""]
    for role in sorted(MACHINE_ROLES):
        lines.append(f"`{role.value}` ({ROLE_TITLES_ZH[role]}):")
        lines.append("")
        lines += [f"- {m} `{p}`" for m, p in endpoints_of(role)]
        lines.append("")
    return "\n".join(lines)
