"""Reference data every installation needs, and the demo's people.

``seed_reference`` loads the region tree of Shifeng district (石峰区), the
policy parameters of the 2019 notice and the minimum-living-guarantee
standards. ``seed_demo_users`` adds one account per role; it runs only in
demo and test mode, so demo passwords never reach production.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import func, select

from app.auth.passwords import hash_secret
from app.domain.parameters import SPECS
from app.domain.regions import level_of
from app.domain.roles import Role
from app.persistence.tables import (
    DibaoStandard,
    MachineClient,
    PolicyParameter,
    Region,
    User,
)

PROVINCE = "430000000000"  # 湖南省
CITY = "430200000000"  # 株洲市
DISTRICT = "430204000000"  # 石峰区

# The streets and town of Shifeng district, 2022 statistical division codes.
STREETS: dict[str, str] = {
    "430204001000": "田心街道",
    "430204002000": "响石岭街道",
    "430204003000": "清水塘街道",
    "430204004000": "铜塘湾街道",
    "430204005000": "井龙街道",
    "430204008000": "学林街道",
    "430204009000": "龙头铺街道",
    "430204102000": "云田镇",
}

# Sample communities (示例数据): names and codes follow the 12-digit pattern
# but are not the official list; replace them with the statistical bureau's.
SAMPLE_COMMUNITIES: dict[str, str] = {
    "430204001001": "田心社区（示例）",
    "430204001002": "东门社区（示例）",
    "430204001003": "北门社区（示例）",
    "430204002001": "响石社区（示例）",
    "430204002002": "岭上社区（示例）",
    "430204003001": "清水社区（示例）",
    "430204003002": "霞湾社区（示例）",
    "430204004001": "铜塘社区（示例）",
    "430204004002": "湾塘社区（示例）",
    "430204005001": "井墈社区（示例）",
    "430204005002": "龙塘社区（示例）",
    "430204008001": "学林社区（示例）",
    "430204008002": "雷打石社区（示例）",
    "430204009001": "龙头铺社区（示例）",
    "430204009002": "长塘社区（示例）",
    "430204102201": "云田村（示例）",
    "430204102202": "喻家坊村（示例）",
    "430204102203": "仙庾岭村（示例）",
}

# Parameters take effect from the notice (株石民字〔2019〕2号).
NOTICE_EFFECTIVE = dt.date(2019, 1, 1)


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    display_name: str
    role: Role
    region_code: str


DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 (demo mode only)
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("community1", "田心社区 王社工", Role.COMMUNITY_WORKER, "430204001001"),
    DemoAccount("street1", "田心街道 李经办", Role.STREET_WORKER, "430204001000"),
    DemoAccount("streetlead1", "田心街道 赵主任", Role.STREET_LEADER, "430204001000"),
    DemoAccount("officer1", "石峰区民政局 陈经办", Role.DISTRICT_OFFICER, DISTRICT),
    DemoAccount(
        "assistlead1", "石峰区民政局 周局长", Role.DISTRICT_ASSISTANCE_LEADER, DISTRICT
    ),
    DemoAccount(
        "financelead1", "石峰区民政局 吴科长", Role.DISTRICT_FINANCE_LEADER, DISTRICT
    ),
    DemoAccount("auditor1", "石峰区审计 郑审计", Role.AUDITOR, DISTRICT),
    DemoAccount("admin1", "系统管理员", Role.ADMIN, DISTRICT),
)


@dataclass(frozen=True, slots=True)
class DemoClient:
    client_id: str
    secret: str
    display_name: str
    role: Role
    region_code: str


DEMO_CLIENTS: tuple[DemoClient, ...] = (
    DemoClient(
        "bank-demo", "demo-bank-secret", "代发银行（演示）", Role.BANK, DISTRICT
    ),
    DemoClient(
        "province-demo",
        "demo-province-secret",
        "省级平台（演示）",
        Role.PROVINCE_PLATFORM,
        PROVINCE,
    ),
)


async def seed_reference(session: AsyncSession, *, now: dt.datetime) -> bool:
    """Load regions, parameters and standards once; return whether it did."""
    if await session.scalar(select(func.count()).select_from(Region)):
        return False

    regions = [
        Region(code=PROVINCE, name="湖南省", level="province"),
        Region(code=CITY, name="株洲市", level="city", parent_code=PROVINCE),
        Region(code=DISTRICT, name="石峰区", level="district", parent_code=CITY),
    ]
    regions += [
        Region(code=code, name=name, level="street", parent_code=DISTRICT)
        for code, name in STREETS.items()
    ]
    regions += [
        Region(
            code=code,
            name=name,
            level=level_of(code).value,
            parent_code=code[:9] + "000",
            is_sample=True,
        )
        for code, name in SAMPLE_COMMUNITIES.items()
    ]
    # Parents before children, so the foreign keys hold at every flush.
    for region in regions:
        session.add(region)
        await session.flush()

    for spec in SPECS.values():
        session.add(
            PolicyParameter(
                name=spec.name.value,
                region_code=PROVINCE,
                valid_from=NOTICE_EFFECTIVE,
                value=spec.default,
                note=f"默认值（{spec.rule}，株石民字〔2019〕2号）",
                created_by="seed",
                created_at=now,
            )
        )

    session.add_all(
        [
            DibaoStandard(
                region_code=DISTRICT,
                area_type="urban",
                valid_from=dt.date(2022, 1, 1),
                monthly_fen=65000,
                note="株洲市五区城市低保标准 650 元/人·月（2022 年 1 月 1 日起）",
                created_by="seed",
                created_at=now,
            ),
            DibaoStandard(
                region_code=DISTRICT,
                area_type="rural",
                valid_from=dt.date(2022, 1, 1),
                monthly_fen=45000,
                is_sample=True,
                note="示例值：农村低保标准，请管理员按正式文件替换",
                created_by="seed",
                created_at=now,
            ),
            DibaoStandard(
                region_code=DISTRICT,
                area_type="urban",
                valid_from=dt.date(2026, 1, 1),
                monthly_fen=72000,
                is_sample=True,
                note="示例值：2026 年城市低保标准，请管理员按正式文件替换",
                created_by="seed",
                created_at=now,
            ),
        ]
    )
    await session.flush()
    return True


@lru_cache(maxsize=8)
def _demo_hash(secret: str) -> str:
    # Argon2 is slow on purpose; the demo's few secrets are hashed once per process.
    return hash_secret(secret)


async def seed_demo_users(session: AsyncSession, *, now: dt.datetime) -> bool:
    if await session.scalar(select(func.count()).select_from(User)):
        return False
    password_hash = _demo_hash(DEMO_PASSWORD)
    session.add_all(
        User(
            username=a.username,
            display_name=a.display_name,
            password_hash=password_hash,
            role=a.role.value,
            region_code=a.region_code,
            created_at=now,
        )
        for a in DEMO_ACCOUNTS
    )
    session.add_all(
        MachineClient(
            client_id=c.client_id,
            display_name=c.display_name,
            secret_hash=_demo_hash(c.secret),
            role=c.role.value,
            region_code=c.region_code,
            created_at=now,
        )
        for c in DEMO_CLIENTS
    )
    await session.flush()
    return True
