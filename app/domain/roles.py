"""Who may act: the roles of people and machine clients."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    COMMUNITY_WORKER = "community_worker"
    STREET_WORKER = "street_worker"
    STREET_LEADER = "street_leader"
    DISTRICT_OFFICER = "district_officer"
    DISTRICT_ASSISTANCE_LEADER = "district_assistance_leader"
    DISTRICT_FINANCE_LEADER = "district_finance_leader"
    AUDITOR = "auditor"
    ADMIN = "admin"
    BANK = "bank"
    PROVINCE_PLATFORM = "province_platform"


MACHINE_ROLES = frozenset({Role.BANK, Role.PROVINCE_PLATFORM})

DISTRICT_ROLES = frozenset(
    {
        Role.DISTRICT_OFFICER,
        Role.DISTRICT_ASSISTANCE_LEADER,
        Role.DISTRICT_FINANCE_LEADER,
    }
)

ROLE_TITLES_ZH: dict[Role, str] = {
    Role.COMMUNITY_WORKER: "社区/村工作人员",
    Role.STREET_WORKER: "街道社会救助经办人员",
    Role.STREET_LEADER: "街道分管领导",
    Role.DISTRICT_OFFICER: "区民政局社会救助经办人",
    Role.DISTRICT_ASSISTANCE_LEADER: "社会救助分管领导",
    Role.DISTRICT_FINANCE_LEADER: "财务分管领导",
    Role.AUDITOR: "审计人员",
    Role.ADMIN: "系统管理员",
    Role.BANK: "代发银行",
    Role.PROVINCE_PLATFORM: "省级社会救助平台",
}
