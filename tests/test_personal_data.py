"""Personal data at rest: ID, account and phone numbers encrypted, found by
their blind index, readable across key rotation, absent from dumps and logs."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import logging
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import col
from typer.testing import CliRunner

from app.cli import cli
from app.clock import OffsetClock
from app.persistence import crypto
from app.persistence.crypto import KeyRing, PiiKeyError
from app.persistence.db import make_sessionmaker
from app.persistence.migrate import alembic_config
from app.persistence.tables import Household, HouseholdMember
from app.settings import (
    DEMO_PII_INDEX_KEY,
    DEMO_PII_KEY,
    Environment,
    Settings,
    UnsafeSettings,
    get_settings,
)
from tests.support import Api, awaiting_payment, id_number, paid, signed_form

ACCOUNT = "6217002870099887766"
ID_HEAD = id_number("430204", "19800101", 731)
ID_SPOUSE = id_number("430204", "19820202", 732)

# Fixed keys for the rotation tests (base64 of 32 bytes each).
KEY_B = base64.b64encode(bytes(range(32))).decode()
KEY_C = base64.b64encode(bytes(range(100, 132))).decode()
INDEX_B = base64.b64encode(bytes(range(50, 82))).decode()


@pytest.fixture(autouse=True)
def _keyring_restored() -> Iterator[None]:
    """Tests here swap the process's key ring; the next test gets it back."""
    before = crypto.active_keyring()
    yield
    crypto.configure(before)


def ring(keys: str, current: str, index_key: str = DEMO_PII_INDEX_KEY) -> KeyRing:
    return KeyRing.parse(keys=keys, current=current, index_key=index_key)


DEMO_KEYS = f"demo1:{DEMO_PII_KEY}"


async def register(api: Api, *, seq: int = 731, account: str = ACCOUNT) -> Any:
    head = id_number("430204", "19800101", seq)
    spouse = id_number("430204", "19820202", seq + 1)
    return await api.household(
        members=[("周七", head, "本人", ""), ("吴八", spouse, "配偶", "")],
        account=account,
    )


async def raw(engine: AsyncEngine, sql: str, **params: Any) -> list[Any]:
    async with engine.connect() as connection:
        return list((await connection.execute(text(sql), params)).all())


def expected_index(value: str, key: str = DEMO_PII_INDEX_KEY) -> str:
    return hmac.new(base64.b64decode(key), value.encode(), hashlib.sha256).hexdigest()


# --- Round trip and what the database holds --------------------------------


async def test_values_round_trip_through_the_api_unchanged(
    app: FastAPI, api: Api, clock: OffsetClock
) -> None:
    household = await register(api)
    shown = await api.ok("GET", f"/api/v1/households/{household['id']}", who="street1")

    assert shown["bank_account_masked"] == "***************7766"
    assert [m["id_number_masked"] for m in shown["members"]] == [
        ID_HEAD[:6] + "********" + ID_HEAD[-4:],
        ID_SPOUSE[:6] + "********" + ID_SPOUSE[-4:],
    ]
    async with make_sessionmaker(app.state.engine)() as session:
        row = await session.get(Household, household["id"])
        members = await session.get(HouseholdMember, shown["members"][0]["id"])
    assert row is not None
    assert members is not None
    assert row.bank_account_no == ACCOUNT
    assert members.id_number == ID_HEAD

    # The bank's file carries the full account number, decrypted exactly.
    app_id = await awaiting_payment(
        api, clock, seq=741, amount="1500.00", account="6217000000074100"
    )
    await signed_form(api, [app_id])
    batch = await api.ok(
        "POST", "/api/v1/payout-batches", who="officer1", status=201, json={}
    )
    file = await api.call(
        "GET", f"/api/v1/payout-batches/{batch['id']}/file", who="bank-demo"
    )
    assert file.status_code == 200
    assert "6217000000074100" in file.text


async def test_the_columns_hold_ciphertext_random_per_value_and_an_equal_index(
    app: FastAPI, api: Api, engine: AsyncEngine
) -> None:
    first = await register(api, seq=751, account=ACCOUNT)
    second = await register(api, seq=761, account=ACCOUNT)

    accounts = await raw(
        engine,
        "SELECT bank_account_no FROM households WHERE id IN (:a, :b) ORDER BY id",
        a=first["id"],
        b=second["id"],
    )
    stored = [a for (a,) in accounts]
    assert len(stored) == 2
    assert stored[0] != stored[1]  # the same number, two random nonces
    for value in stored:
        assert value.startswith("v1:demo1:")
        assert ACCOUNT not in value
        sealed = base64.b64decode(value.split(":", 2)[2])
        assert len(sealed) == 12 + len(ACCOUNT) + 16  # nonce, ciphertext, tag
        assert crypto.active_keyring().decrypt(value) == ACCOUNT

    head = id_number("430204", "19800101", 751)
    member_id = first["members"][0]["id"]
    [(before, index_before)] = await raw(
        engine,
        "SELECT id_number, id_number_index FROM household_members WHERE id = :i",
        i=member_id,
    )
    assert head not in before
    assert before.startswith("v1:demo1:")
    assert index_before == expected_index(head)

    # The same number written again: new ciphertext, the same blind index.
    async with make_sessionmaker(engine)() as session, session.begin():
        member = await session.get(HouseholdMember, member_id)
        assert member is not None
        member.id_number = head
        flag_modified(member, "id_number")  # written again, unchanged
    [(after, index_after)] = await raw(
        engine,
        "SELECT id_number, id_number_index FROM household_members WHERE id = :i",
        i=member_id,
    )
    assert after != before
    assert index_after == index_before
    assert crypto.active_keyring().decrypt(after) == head


async def test_one_person_in_two_households_is_found_through_the_blind_index(
    app: FastAPI, api: Api, engine: AsyncEngine
) -> None:
    await register(api, seq=771)
    twice = id_number("430204", "19820202", 772)

    refused = await api.call(
        "POST",
        "/api/v1/households",
        who="community1",
        json={
            "region_code": "430204001001",
            "address": "石峰区田心街道示例路 2 号",
            "bank_name": "中国建设银行株洲石峰支行",
            "bank_account_name": "郑九",
            "bank_account_no": "6217002870000000001",
            "members": [
                {
                    "name": "郑九",
                    "id_number": twice.lower(),  # normalised before indexing
                    "relation": "本人",
                    "is_applicant": True,
                }
            ],
        },
    )

    assert refused.status_code == 409
    assert refused.json()["code"] == "member_in_other_household"
    assert twice not in refused.text
    # The database itself refuses a second row with the same index (a race).
    async with make_sessionmaker(engine)() as session:
        [(household_id,)] = await raw(engine, "SELECT min(id) FROM households")
        session.add(
            HouseholdMember(
                household_id=household_id,
                name="郑九",
                id_number=twice,
                id_number_index=crypto.blind_index(twice),
                relation="本人",
                birth_date=dt.date(1982, 2, 2),
            )
        )
        with pytest.raises(IntegrityError):
            await session.flush()
        await session.rollback()


async def test_an_objection_contact_is_encrypted_and_shown_masked(
    api: Api, clock: OffsetClock, engine: AsyncEngine
) -> None:
    phone = "13912345678"
    case = await _in_publicity(api, clock, seq=791)
    raised = await api.ok(
        "POST",
        f"/api/v1/applications/{case}/objections",
        who="community1",
        status=201,
        json={"source": "phone", "content": "邻居反映情况", "contact": phone},
    )

    assert raised["objections"][0]["contact_masked"] == "*******5678"
    [(stored,)] = await raw(engine, "SELECT contact FROM objections")
    assert phone not in stored
    assert stored.startswith("v1:demo1:")


async def _in_publicity(api: Api, clock: OffsetClock, *, seq: int) -> int:
    household = await register(api, seq=seq, account=f"62170000{seq:08d}")
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
            "requested_amount": "1500.00",
            "materials": [
                "application_form",
                "id_card_copy",
                "household_register_copy",
                "hardship_evidence",
            ],
        },
    )
    base = f"/api/v1/applications/{created['id']}"
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
            {"decision": "eligible", "proposed_amount": "1500.00"},
        ),
        ("officer1", "/district-decision", {"decision": "approve"}),
        ("street1", "/publicity/start", None),
    ]
    for who, path, body in steps:
        await api.ok("POST", base + path, who=who, json=body)
    return int(created["id"])


# --- Keys: rotation, wrong and missing keys, settings ------------------------


async def test_rows_under_an_old_key_read_after_rotation_and_are_rewritten(
    app: FastAPI, api: Api, engine: AsyncEngine
) -> None:
    old = await register(api, seq=801)
    # Key B becomes current; the demo key stays to read the old rows.
    crypto.configure(ring(f"demo1:{DEMO_PII_KEY},kb:{KEY_B}", "kb"))

    shown = await api.ok("GET", f"/api/v1/households/{old['id']}", who="street1")
    assert shown["bank_account_masked"].endswith("7766")
    new = await register(api, seq=811)
    kids = await raw(engine, "SELECT id, bank_account_no FROM households ORDER BY id")
    assert [(i, crypto.key_id_of(v)) for i, v in kids] == [
        (old["id"], "demo1"),
        (new["id"], "kb"),
    ]

    async with engine.begin() as connection:
        counts = await connection.run_sync(
            crypto.reencrypt_columns,
            crypto.active_keyring(),
            crypto.encrypted_columns(Household.metadata),
        )

    assert counts == {
        "households.bank_account_no": 1,
        "household_members.id_number": 2,
        "objections.contact": 0,
        "payments.account_no": 0,
    }
    stored = await raw(
        engine,
        "SELECT bank_account_no FROM households UNION ALL "
        "SELECT id_number FROM household_members",
    )
    assert {crypto.key_id_of(v) for (v,) in stored} == {"kb"}
    # The demo key can go now: everything reads under B alone.
    crypto.configure(ring(f"kb:{KEY_B}", "kb"))
    again = await api.ok("GET", f"/api/v1/households/{old['id']}", who="street1")
    assert again["members"] == shown["members"]
    # Duplicate detection still works: the blind index did not change.
    twice = await api.call(
        "POST",
        "/api/v1/households",
        who="community1",
        json={
            "region_code": "430204001001",
            "address": "石峰区田心街道示例路 3 号",
            "bank_name": "中国建设银行株洲石峰支行",
            "bank_account_name": "周七",
            "bank_account_no": ACCOUNT,
            "members": [
                {
                    "name": "周七",
                    "id_number": id_number("430204", "19800101", 801),
                    "relation": "本人",
                    "is_applicant": True,
                }
            ],
        },
    )
    assert twice.json()["code"] == "member_in_other_household"


async def test_the_cli_rotates_to_the_current_key_and_a_new_index_key(
    app: FastAPI,
    api: Api,
    engine: AsyncEngine,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    household = await register(api, seq=821)
    head = id_number("430204", "19800101", 821)
    env = {
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "PII_KEYS": f"demo1:{DEMO_PII_KEY},kc:{KEY_C}",
        "PII_CURRENT_KEY": "kc",
        "PII_INDEX_KEY": INDEX_B,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        result = await asyncio.to_thread(
            CliRunner().invoke, cli, ["rotate-pii-key"], catch_exceptions=False
        )
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 0, result.output
    assert "households.bank_account_no: 1 rewritten" in result.output
    assert "household_members.id_number: 2 rewritten" in result.output
    assert "personal data under key 'kc'" in result.output
    assert KEY_C not in result.output
    assert INDEX_B not in result.output
    [(stored, index)] = await raw(
        engine,
        "SELECT id_number, id_number_index FROM household_members WHERE id = :i",
        i=household["members"][0]["id"],
    )
    assert crypto.key_id_of(stored) == "kc"
    assert index == expected_index(head, INDEX_B)
    # Run again: nothing left to rewrite.
    get_settings.cache_clear()
    try:
        rerun = await asyncio.to_thread(CliRunner().invoke, cli, ["rotate-pii-key"])
    finally:
        get_settings.cache_clear()
    assert "households.bank_account_no: 0 rewritten" in rerun.output


async def test_a_wrong_key_fails_clearly_without_secrets_or_plaintext(
    app: FastAPI, api: Api
) -> None:
    household = await register(api, seq=831)
    path = f"/api/v1/households/{household['id']}"

    # The same key id, another key: the GCM tag does not verify.
    crypto.configure(ring(f"demo1:{KEY_B}", "demo1"))
    with pytest.raises(PiiKeyError) as wrong:
        await api.call("GET", path, who="street1")
    message = str(wrong.value)
    assert message == (
        "personal data under key 'demo1' cannot be decrypted: "
        "the key is wrong or the stored value was altered"
    )
    assert wrong.value.__cause__ is None

    # The key the rows were written under is not configured at all.
    crypto.configure(ring(f"kb:{KEY_B}", "kb"))
    with pytest.raises(PiiKeyError) as missing:
        await api.call("GET", path, who="street1")
    assert str(missing.value) == (
        "personal data is encrypted under key 'demo1', which PII_KEYS does not hold"
    )
    for text_ in (str(wrong.value), str(missing.value)):
        for secret in (KEY_B, DEMO_PII_KEY, ACCOUNT, ID_HEAD, "v1:demo1:"):
            assert secret not in text_


def test_malformed_keys_are_refused_without_echoing_them() -> None:
    secret = "c2VjcmV0LWJ1dC1zaG9ydA=="  # base64, but not 32 bytes
    cases = {
        f"k1:{secret}": "PII_KEYS key 'k1' must be 32 bytes (base64 of 32 bytes)",
        "k1-no-colon": "PII_KEYS entry 1 is not kid:base64key",
        f"k1:{KEY_B},k1:{KEY_C}": "PII_KEYS names key 'k1' twice",
        "k1:not base64!": "PII_KEYS key 'k1' is not valid base64",
    }
    for keys, expected in cases.items():
        with pytest.raises(PiiKeyError) as caught:
            ring(keys, "k1")
        assert str(caught.value).startswith(expected)
        assert secret not in str(caught.value)
    with pytest.raises(PiiKeyError, match="PII_CURRENT_KEY 'k2' is not among"):
        ring(f"k1:{KEY_B}", "k2")
    with pytest.raises(PiiKeyError, match="must differ from every PII_KEYS key"):
        ring(f"k1:{KEY_B}", "k1", index_key=KEY_B)


def test_production_refuses_the_demo_keys_and_accepts_real_ones() -> None:
    base: dict[str, Any] = {
        "APP_ENV": Environment.PRODUCTION,
        "JWT_SECRET": "p" * 40,
        "DATABASE_URL": "postgresql+asyncpg://linshi@db:5432/linshi",
        "VERIFICATION_BASE_URL": "https://platform.example",
    }
    with pytest.raises(UnsafeSettings, match="PII_KEYS must not hold the demo key"):
        Settings(**base).check_pii_keys()
    with pytest.raises(UnsafeSettings, match="PII_INDEX_KEY must be set"):
        Settings(**base, PII_KEYS=f"p1:{KEY_B}", PII_CURRENT_KEY="p1").check_pii_keys()
    with pytest.raises(UnsafeSettings, match="PII_KEYS must not hold the demo key"):
        Settings(**base).check_production()

    real = Settings(
        **base, PII_KEYS=f"p1:{KEY_B}", PII_CURRENT_KEY="p1", PII_INDEX_KEY=INDEX_B
    )
    real.check_pii_keys()
    assert KEY_B not in repr(real)
    assert INDEX_B not in repr(real)
    # Demo and test runs keep working with the derived demo keys.
    Settings(APP_ENV=Environment.TEST).check_pii_keys()


def test_an_encrypted_column_cannot_be_compared_with_a_value_in_sql() -> None:
    with pytest.raises(TypeError, match="compare its blind index"):
        _ = HouseholdMember.id_number == ID_HEAD
    with pytest.raises(TypeError, match="compare its blind index"):
        col(HouseholdMember.id_number).in_([ID_HEAD])


# --- The migration encrypts what was stored before ---------------------------


def test_the_migration_encrypts_existing_rows_in_place(tmp_path: Path) -> None:
    path = tmp_path / "before.sqlite3"
    config = alembic_config(f"sqlite+aiosqlite:///{path}")
    command.upgrade(config, "0010a")
    now = "2026-03-02 01:00:00"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA foreign_keys=ON")
        db.execute(
            "INSERT INTO regions (code, name, level, is_sample)"
            " VALUES ('430204001001', '田心社区', 'community', 1)"
        )
        db.execute(
            "INSERT INTO households (id, region_code, address, area_type, category,"
            " bank_name, bank_account_name, bank_account_no, created_by,"
            " created_at, version) VALUES (1, '430204001001', '示例路', 'urban',"
            " 'none', '建行', '周七', ?, 'user:1', ?, 1)",
            (ACCOUNT, now),
        )
        db.execute(
            "INSERT INTO household_members (id, household_id, name, id_number,"
            " relation, birth_date, is_applicant) VALUES"
            " (1, 1, '周七', ?, '本人', '1980-01-01', 1)",
            (ID_HEAD,),
        )
        db.execute(
            "INSERT INTO applications (id, household_id, region_code,"
            " assistance_type, reason, description, requested_fen, household_size,"
            " materials, missing_materials, status, created_by, created_at,"
            " updated_at, version) VALUES (1, 1, '430204001001', 'emergency',"
            " 'accident', '意外', 150000, 1, '[]', '[]', 'awaiting_payment',"
            " 'user:1', ?, ?, 1)",
            (now, now),
        )
        db.execute(
            "INSERT INTO objections (id, application_id, source, content, contact,"
            " status, decision_note, raised_by, raised_at, version) VALUES"
            " (1, 1, 'phone', '异议', '13912345678', 'open', '', 'user:1', ?, 1)",
            (now,),
        )
        db.execute(
            "INSERT INTO disbursement_forms (id, district_code, status,"
            " payload_sha256, total_fen, created_by, created_at, version)"
            " VALUES (1, '430204001001', 'signed', ?, 150000, 'user:1', ?, 1)",
            ("0" * 64, now),
        )
        db.execute(
            "INSERT INTO payments (id, application_id, form_id, kind, amount_fen,"
            " payee_name, bank_name, account_no, status, created_at, version, payer)"
            " VALUES (1, 1, 1, 'grant', 150000, '周七', '建行', ?, 'signed', ?, 1,"
            " 'district')",
            (ACCOUNT, now),
        )

    command.upgrade(config, "0011b")

    with sqlite3.connect(path) as db:
        account = db.execute("SELECT bank_account_no FROM households").fetchone()[0]
        number, index = db.execute(
            "SELECT id_number, id_number_index FROM household_members"
        ).fetchone()
        contact = db.execute("SELECT contact FROM objections").fetchone()[0]
        paid_to = db.execute("SELECT account_no FROM payments").fetchone()[0]
    keyring = crypto.active_keyring()
    assert keyring.decrypt(account) == ACCOUNT
    assert ACCOUNT not in account
    assert keyring.decrypt(number) == ID_HEAD
    assert ID_HEAD not in number
    assert keyring.decrypt(contact) == "13912345678"
    assert keyring.decrypt(paid_to) == ACCOUNT
    assert index == expected_index(ID_HEAD)

    command.downgrade(config, "0010a")

    with sqlite3.connect(path) as db:
        assert db.execute("SELECT id_number FROM household_members").fetchone() == (
            ID_HEAD,
        )
        assert db.execute("SELECT bank_account_no FROM households").fetchone() == (
            ACCOUNT,
        )
        assert db.execute("SELECT account_no FROM payments").fetchone() == (ACCOUNT,)
        assert db.execute("SELECT contact FROM objections").fetchone() == (
            "13912345678",
        )


# --- The acceptance test: nothing in a dump, nothing in the logs -----


async def test_a_database_dump_and_the_logs_hold_no_id_or_account_number(
    app: FastAPI,
    api: Api,
    clock: OffsetClock,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("pg_dump needs PostgreSQL: run with TEST_DATABASE_URL set")
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    caplog.set_level(logging.DEBUG)

    secrets: list[str] = []
    for seq in (901, 911):
        await register(api, seq=seq, account=f"62170099{seq:08d}")
        secrets += [
            id_number("430204", "19800101", seq),
            id_number("430204", "19820202", seq + 1),
            f"62170099{seq:08d}",
        ]
    await paid(api, clock, seq=921, amount="1500.00")  # form, batch, bank results
    await paid(api, clock, seq=922, amount="800.00")  # the street pays
    secrets += [id_number("430204", "19750505", s) for s in (921, 922)]
    secrets += [f"62170000{s:08d}" for s in (921, 922)]
    case = await _in_publicity(api, clock, seq=931)
    await api.ok(
        "POST",
        f"/api/v1/applications/{case}/objections",
        who="community1",
        status=201,
        json={"source": "phone", "content": "邻居反映情况", "contact": "13912345678"},
    )
    secrets.append("13912345678")

    command_line = ["pg_dump", "-h", url.host or "127.0.0.1", "-U"]
    command_line += [url.username or "postgres", "-p", str(url.port or 5432)]
    command_line.append(url.database or "")
    finished = await asyncio.to_thread(
        subprocess.run,
        command_line,
        capture_output=True,
        check=True,
        text=True,
        timeout=120,
    )
    dump = finished.stdout

    assert "COPY public.household_members" in dump
    assert "v1:demo1:" in dump
    found = [s for s in secrets if s in dump]
    assert found == []
    logged = [s for s in secrets if s in caplog.text]
    assert logged == []
