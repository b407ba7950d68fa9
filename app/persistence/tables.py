"""The database schema as SQLModel tables.

The schema itself is created only by the Alembic migrations in
``migrations/``; these classes describe it to the ORM. Money columns hold
integer fen (``*_fen``); instants are aware UTC (``UTCDateTime``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Index,
    MetaData,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from app.persistence.crypto import INDEX_LENGTH, EncryptedString
from app.persistence.types import UTCDateTime

# Constraint names are stable so that migrations can refer to them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


class _Keyed(Protocol):
    @property
    def id(self) -> int | None: ...


def pk(row: _Keyed) -> int:
    """The primary key of a row that has been flushed; ``None`` there is a bug."""
    if row.id is None:
        raise RuntimeError(f"{type(row).__name__} has no primary key yet; flush first")
    return row.id


class Region(SQLModel, table=True):
    __tablename__ = "regions"

    code: str = Field(primary_key=True, max_length=12)
    name: str = Field(max_length=64)
    level: str = Field(max_length=16)
    parent_code: str | None = Field(
        default=None, foreign_key="regions.code", max_length=12, index=True
    )
    is_sample: bool = Field(default=False)


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=64)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=32)
    region_code: str = Field(foreign_key="regions.code", max_length=12)
    active: bool = Field(default=True)
    created_at: dt.datetime = Field(sa_type=UTCDateTime)
    # The staff member's own ID number as ``access.person_key`` gives it, so
    # they are kept away from their own household's cases; optional.
    id_number: str | None = Field(default=None, max_length=64)


class MachineClient(SQLModel, table=True):
    __tablename__ = "machine_clients"

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=64)
    secret_hash: str = Field(max_length=255)
    role: str = Field(max_length=32)
    region_code: str = Field(foreign_key="regions.code", max_length=12)
    active: bool = Field(default=True)
    created_at: dt.datetime = Field(sa_type=UTCDateTime)


class PolicyParameter(SQLModel, table=True):
    """One version of a policy parameter; versions are added, never edited."""

    __tablename__ = "policy_parameters"
    __table_args__ = (Index("ix_policy_parameters_lookup", "name", "region_code"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    region_code: str = Field(foreign_key="regions.code", max_length=12)
    valid_from: dt.date
    value: str = Field(max_length=64)
    note: str = Field(default="", max_length=255)
    created_by: str = Field(max_length=64)
    created_at: dt.datetime = Field(sa_type=UTCDateTime)


class DibaoStandard(SQLModel, table=True):
    """A monthly minimum-living-guarantee standard (低保标准) from a date."""

    __tablename__ = "dibao_standards"
    __table_args__ = (Index("ix_dibao_standards_lookup", "region_code", "area_type"),)

    id: int | None = Field(default=None, primary_key=True)
    region_code: str = Field(foreign_key="regions.code", max_length=12)
    area_type: str = Field(max_length=8)  # urban / rural
    valid_from: dt.date
    monthly_fen: int = Field(sa_type=BigInteger)
    is_sample: bool = Field(default=False)
    note: str = Field(default="", max_length=255)
    created_by: str = Field(max_length=64)
    created_at: dt.datetime = Field(sa_type=UTCDateTime)


class Household(SQLModel, table=True):
    __tablename__ = "households"

    id: int | None = Field(default=None, primary_key=True)
    region_code: str = Field(foreign_key="regions.code", max_length=12, index=True)
    address: str = Field(max_length=255)
    area_type: str = Field(default="urban", max_length=8)
    category: str = Field(default="none", max_length=32)
    category_valid_from: dt.date | None = None
    category_valid_until: dt.date | None = None
    bank_name: str = Field(max_length=64)
    bank_account_name: str = Field(max_length=64)
    # Encrypted at rest (app/persistence/crypto.py); only masked values leave
    # the service, except in the bank's payout files.
    bank_account_no: str = Field(max_length=32, sa_type=EncryptedString(32))
    created_by: str = Field(max_length=64)
    created_at: dt.datetime = Field(sa_type=UTCDateTime)
    version: int = Field(default=1)


class HouseholdMember(SQLModel, table=True):
    __tablename__ = "household_members"

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="households.id", index=True)
    name: str = Field(max_length=64)
    # Encrypted at rest; looked up and kept unique through its blind index.
    id_number: str = Field(max_length=18, sa_type=EncryptedString(18))
    # HMAC of the normalised ID number (crypto.blind_index). One person
    # belongs to one household, so caps cannot be doubled; the database
    # enforces it even when two registrations race.
    id_number_index: str = Field(max_length=INDEX_LENGTH, unique=True)
    relation: str = Field(max_length=16)
    birth_date: dt.date
    is_applicant: bool = Field(default=False)


class Application(SQLModel, table=True):
    __tablename__ = "applications"
    __table_args__ = (Index("ix_applications_region_id", "region_code", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="households.id", index=True)
    region_code: str = Field(foreign_key="regions.code", max_length=12)
    assistance_type: str = Field(max_length=16)
    reason: str = Field(max_length=32)
    disease: str | None = Field(default=None, max_length=48)
    # R1.1b: the ill member and the diagnosis date (the child-age rule).
    patient_member_id: int | None = Field(
        default=None, foreign_key="household_members.id"
    )
    diagnosed_on: dt.date | None = None
    # R1.1c: the reference of the district's recognition decision.
    district_recognition: str | None = Field(default=None, max_length=128)
    # R2.5: ordinary temporary assistance or the 救急难 pool.
    pool: str = Field(default="ordinary", max_length=16)
    special_programme: str | None = Field(default=None, max_length=16)
    # R3.10: cash through the bank, goods in kind, or a referral.
    form_of_help: str = Field(default="cash", max_length=16)
    # In kind: [{name, quantity, unit_value}] whose value is the grant.
    in_kind_items: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    # Referral: {agency, programme, note, outcome, outcome_note}.
    referral: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # In kind: {received_by, delivered_on, note} once the goods were handed over.
    delivery: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # R3.9: an advance paid at once from the street's reserve fund.
    advance_fen: int | None = Field(default=None, sa_type=BigInteger)
    advance_paid_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    description: str = Field(max_length=2000)
    requested_fen: int = Field(sa_type=BigInteger)
    household_size: int
    materials: list[str] = Field(default_factory=list, sa_type=JSON)
    missing_materials: list[str] = Field(default_factory=list, sa_type=JSON)
    status: str = Field(max_length=32, index=True)
    proposed_fen: int | None = Field(default=None, sa_type=BigInteger)
    approved_fen: int | None = Field(default=None, sa_type=BigInteger)
    decided_on: dt.date | None = None
    accepted_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Unknown while the official calendar of that year is not loaded.
    investigation_due_on: dt.date | None = Field(default=None, index=True)
    publicity_starts_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    publicity_ends_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: str = Field(max_length=64)
    created_at: dt.datetime = Field(sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(sa_type=UTCDateTime)
    # Every transition is a compare-and-set on this number.
    version: int = Field(default=1)


class Investigation(SQLModel, table=True):
    __tablename__ = "investigations"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="applications.id", index=True)
    home_visit_done: bool
    # R3.3: no home visit, or a result in doubt, requires the economic check.
    result_in_doubt: bool = Field(default=False)
    home_visit_note: str = Field(default="", max_length=2000)
    neighbour_interviews: int = Field(default=0)
    neighbour_note: str = Field(default="", max_length=2000)
    monthly_income_fen: int = Field(sa_type=BigInteger)
    findings: str = Field(default="", max_length=2000)
    recorded_by: str = Field(max_length=64)
    recorded_at: dt.datetime = Field(sa_type=UTCDateTime)


class Decision(SQLModel, table=True):
    """A review or approval with the policy explanation it was taken on."""

    __tablename__ = "decisions"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="applications.id", index=True)
    stage: str = Field(max_length=32)  # street_opinion / district_decision
    outcome: str = Field(max_length=16)  # eligible / approved / refused
    amount_fen: int | None = Field(default=None, sa_type=BigInteger)
    # R3.5 as evaluated for this decision: street or district.
    approval_level: str | None = Field(default=None, max_length=16)
    reasons: str = Field(default="", max_length=2000)
    explanation: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    decided_by: str = Field(max_length=64)
    decided_at: dt.datetime = Field(sa_type=UTCDateTime)


class Grant(SQLModel, table=True):
    """An approved amount, as the annual and same-reason caps count it."""

    __tablename__ = "grants"
    __table_args__ = (
        # One grant counts per application; a revoked one stays as history.
        Index(
            "uq_grants_active_application",
            "application_id",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="households.id", index=True)
    application_id: int = Field(foreign_key="applications.id", index=True)
    decided_on: dt.date
    amount_fen: int = Field(sa_type=BigInteger)
    household_size: int
    reason: str = Field(max_length=32)
    pool: str = Field(default="ordinary", max_length=16)
    # R2.5: the departments' shares of a 救急难 grant ([{department, amount}]).
    departments: list[dict[str, str]] = Field(default_factory=list, sa_type=JSON)
    active: bool = Field(default=True)


class AuditEntry(SQLModel, table=True):
    """Append-only: who did what to which record, from which state to which."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_entity", "entity_type", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(sa_type=UTCDateTime)
    actor: str = Field(max_length=64)
    actor_role: str = Field(max_length=32)
    action: str = Field(max_length=48)
    entity_type: str = Field(max_length=32)
    entity_id: int
    from_status: str | None = Field(default=None, max_length=32)
    to_status: str | None = Field(default=None, max_length=32)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class OutboxEvent(SQLModel, table=True):
    """A change for the provincial platform, written in the change's transaction.

    ``position`` is the event's place in the change feed, given at commit
    (app/workflow/audit.py, docs/change-feed.md): positions are in commit
    order, so a reader never finds a smaller one appearing behind its cursor.
    ``id`` is only the row key; it follows insert order, not commit order.
    An event is in the feed once its position is set (always, once committed).
    """

    __tablename__ = "outbox_events"

    id: int | None = Field(default=None, primary_key=True)
    position: int | None = Field(default=None, sa_type=BigInteger, unique=True)
    at: dt.datetime = Field(sa_type=UTCDateTime)
    event_type: str = Field(max_length=48)
    entity_type: str = Field(max_length=32)
    entity_id: int
    entity_version: int
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class DisbursementForm(SQLModel, table=True):
    """临时救助资金发放审批单: the payees and amounts three people sign."""

    __tablename__ = "disbursement_forms"

    id: int | None = Field(default=None, primary_key=True)
    district_code: str = Field(foreign_key="regions.code", max_length=12)
    status: str = Field(max_length=16)
    payload_sha256: str = Field(max_length=64)
    total_fen: int = Field(sa_type=BigInteger)
    created_by: str = Field(max_length=64)
    created_at: dt.datetime = Field(sa_type=UTCDateTime)
    version: int = Field(default=1)


class DisbursementSignature(SQLModel, table=True):
    __tablename__ = "disbursement_signatures"
    __table_args__ = (
        UniqueConstraint("form_id", "signer_role", name="uq_signature_form_role"),
        UniqueConstraint("form_id", "signer", name="uq_signature_form_signer"),
    )

    id: int | None = Field(default=None, primary_key=True)
    form_id: int = Field(foreign_key="disbursement_forms.id", index=True)
    signer: str = Field(max_length=64)
    signer_name: str = Field(max_length=64)
    signer_role: str = Field(max_length=32)
    payload_sha256: str = Field(max_length=64)
    signed_at: dt.datetime = Field(sa_type=UTCDateTime)


class Payment(SQLModel, table=True):
    __tablename__ = "payments"
    __table_args__ = (
        # Nothing is paid twice: of one application's grant (or top-up) at
        # most one payment is pending or paid. A payment the bank failed
        # stays as history and a new one, to the corrected account, may follow.
        Index(
            "uq_payment_application_kind_live",
            "application_id",
            "kind",
            unique=True,
            sqlite_where=text("status <> 'failed'"),
            postgresql_where=text("status <> 'failed'"),
        ),
        CheckConstraint(
            "(payer = 'district' AND form_id IS NOT NULL)"
            " OR (payer = 'street' AND form_id IS NULL AND voucher_no IS NOT NULL)",
            name="payer_and_its_record",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="applications.id", index=True)
    # The district pays through a signed form and the bank (R3.8); the street
    # pays its delegated approvals itself (R3.5) and has no form.
    payer: str = Field(default="district", max_length=16)
    form_id: int | None = Field(
        default=None, foreign_key="disbursement_forms.id", index=True
    )
    # The street's payment voucher (凭证号) for a payment it made itself.
    voucher_no: str | None = Field(default=None, max_length=64)
    kind: str = Field(default="grant", max_length=16)
    amount_fen: int = Field(sa_type=BigInteger)
    payee_name: str = Field(max_length=64)
    bank_name: str = Field(max_length=64)
    account_no: str = Field(max_length=32, sa_type=EncryptedString(32))
    status: str = Field(max_length=32, index=True)
    failure_code: str | None = Field(default=None, max_length=32)
    failure_reason: str | None = Field(default=None, max_length=255)
    paid_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: dt.datetime = Field(sa_type=UTCDateTime)
    version: int = Field(default=1)


class PayoutBatch(SQLModel, table=True):
    __tablename__ = "payout_batches"

    id: int | None = Field(default=None, primary_key=True)
    district_code: str = Field(foreign_key="regions.code", max_length=12)
    status: str = Field(max_length=16, index=True)
    template: str = Field(default="generic_csv", max_length=32)
    line_count: int
    total_fen: int = Field(sa_type=BigInteger)
    file_sha256: str = Field(max_length=64)
    created_by: str = Field(max_length=64)
    created_at: dt.datetime = Field(sa_type=UTCDateTime)
    acknowledged_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    reconciled_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = Field(default=1)


class PayoutBatchLine(SQLModel, table=True):
    __tablename__ = "payout_batch_lines"
    __table_args__ = (
        UniqueConstraint("batch_id", "line_no", name="uq_batch_line_no"),
        # A payment is in at most one live batch, whatever the code does.
        Index(
            "uq_batch_line_live_payment",
            "payment_id",
            unique=True,
            sqlite_where=text("live"),
            postgresql_where=text("live"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="payout_batches.id", index=True)
    payment_id: int = Field(foreign_key="payments.id")
    line_no: int
    amount_fen: int = Field(sa_type=BigInteger)
    live: bool = Field(default=True)
    result: str | None = Field(default=None, max_length=16)
    result_code: str | None = Field(default=None, max_length=32)
    result_reason: str | None = Field(default=None, max_length=255)
    result_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class CalendarDay(SQLModel, table=True):
    """A holiday or an adjusted working day of a year loaded by an administrator."""

    __tablename__ = "calendar_days"

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(index=True)
    day: dt.date = Field(unique=True)
    kind: str = Field(max_length=16)  # holiday / workday
    note: str = Field(default="", max_length=255)
    created_by: str = Field(max_length=64)
    created_at: dt.datetime = Field(sa_type=UTCDateTime)


class Objection(SQLModel, table=True):
    """An objection raised during publicity (R3.7), and what became of it."""

    __tablename__ = "objections"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="applications.id", index=True)
    source: str = Field(max_length=16)  # clerk / phone / letter / public
    content: str = Field(max_length=2000)
    # The objector's phone or address, encrypted at rest.
    contact: str = Field(default="", max_length=64, sa_type=EncryptedString(64))
    # open / dismissed / upheld / superseded (another one was upheld)
    status: str = Field(default="open", max_length=16)
    decision_note: str = Field(default="", max_length=2000)
    raised_by: str = Field(max_length=64)
    raised_at: dt.datetime = Field(sa_type=UTCDateTime)
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = Field(default=1)


class Appraisal(SQLModel, table=True):
    """A democratic appraisal (民主评议) held during the investigation."""

    __tablename__ = "appraisals"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="applications.id", index=True)
    held_on: dt.date
    attendees: int
    votes_for: int
    votes_against: int
    result: str = Field(max_length=16)  # agree / disagree
    note: str = Field(default="", max_length=2000)
    recorded_by: str = Field(max_length=64)
    recorded_at: dt.datetime = Field(sa_type=UTCDateTime)


class EconomicCheck(SQLModel, table=True):
    """A household economic-status check (家庭经济状况核对) on the platform."""

    __tablename__ = "economic_checks"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="applications.id", index=True)
    # Sent with every retry, so the platform never opens two checks for one.
    request_id: str = Field(max_length=64, unique=True)
    platform_check_id: str | None = Field(default=None, max_length=64)
    status: str = Field(max_length=16)  # submitted/processing/completed/failed
    reason: str = Field(default="", max_length=255)
    monthly_income_fen: int | None = Field(default=None, sa_type=BigInteger)
    assets: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    requested_by: str = Field(max_length=64)
    requested_at: dt.datetime = Field(sa_type=UTCDateTime)
    completed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


# --- Attachments and the case file (R4) -----------------------------------


class Attachment(SQLModel, table=True):
    """One scanned document in an application's case file (metadata only).

    The bytes live in ``AttachmentBlob`` so that listing a file never loads
    them, and in the database so that every replica serves the same files.
    """

    __tablename__ = "attachments"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="applications.id", index=True)
    material: str = Field(max_length=32)  # a Material value, or "other"
    filename: str = Field(max_length=255)  # sanitised; no path, no control chars
    content_type: str = Field(max_length=64)  # sniffed from the bytes
    size_bytes: int
    sha256: str = Field(max_length=64)
    uploaded_by: str = Field(max_length=64)
    uploaded_at: dt.datetime = Field(sa_type=UTCDateTime)


class AttachmentBlob(SQLModel, table=True):
    """The content of one attachment; read only to download or export it."""

    __tablename__ = "attachment_blobs"

    attachment_id: int = Field(
        foreign_key="attachments.id",
        primary_key=True,
        sa_column_kwargs={"autoincrement": False},
    )
    content: bytes  # LargeBinary: BYTEA on PostgreSQL, BLOB on SQLite


# --- Spot checks and the filing list (R3.6, R3.5) ------------------------


class SpotCheckDraw(SQLModel, table=True):
    """The district's random draw of one street's delegated approvals of a month.

    The population, the ratio and the seed are kept, so the draw can be
    repeated by anyone (``app.domain.sampling.draw``). One draw per street
    and month, whatever the code does.
    """

    __tablename__ = "spot_check_draws"
    __table_args__ = (
        UniqueConstraint(
            "street_code", "month", name="uq_spot_check_draws_street_month"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    street_code: str = Field(foreign_key="regions.code", max_length=12)
    month: str = Field(max_length=7)  # YYYY-MM, in China time
    seed: int = Field(sa_type=BigInteger)
    seed_source: str = Field(max_length=16)  # generated / given
    ratio: str = Field(max_length=16)  # spot_check_ratio as in force, e.g. 0.30
    population_count: int
    # The application ids drawn from, sorted: what a repeat of the draw needs.
    population_ids: list[int] = Field(default_factory=list, sa_type=JSON)
    drawn_count: int
    drawn_by: str = Field(max_length=64)
    drawn_at: dt.datetime = Field(sa_type=UTCDateTime)


class SpotCheck(SQLModel, table=True):
    """The check of one drawn approval, and its result (recorded once).

    Unique on the decision, not the application: a case corrected after a
    failed check and approved again is a new approval that may be drawn again.
    """

    __tablename__ = "spot_checks"

    id: int | None = Field(default=None, primary_key=True)
    draw_id: int = Field(foreign_key="spot_check_draws.id", index=True)
    application_id: int = Field(foreign_key="applications.id", index=True)
    decision_id: int = Field(foreign_key="decisions.id", unique=True)
    status: str = Field(default="pending", max_length=16)  # pending/passed/failed
    findings: str = Field(default="", max_length=2000)
    # Failed after the money was paid: R5.2's recovery is due.
    recovery_required: bool = Field(default=False)
    checked_by: str | None = Field(default=None, max_length=64)
    checked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = Field(default=1)


# --- Reserve funds and recoveries (R5.1, R5.2) ---------------------------


class ReserveFund(SQLModel, table=True):
    """A street's reserve fund (临时救助备用金, R5.1): its cap and its balance.

    One row per street, reset when a new year is set up. The check makes
    the database refuse a balance below zero or above the cap, whatever the
    code does; every change is a compare-and-set on ``version``.
    """

    __tablename__ = "reserve_funds"
    __table_args__ = (
        CheckConstraint(
            "balance_fen >= 0 AND balance_fen <= cap_fen", name="balance_within_cap"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    street_code: str = Field(foreign_key="regions.code", max_length=12, unique=True)
    year: int
    cap_fen: int = Field(sa_type=BigInteger)
    balance_fen: int = Field(sa_type=BigInteger)
    version: int = Field(default=1)


class ReserveMovement(SQLModel, table=True):
    """One change of a reserve fund, append-only: the fund's ledger."""

    __tablename__ = "reserve_movements"

    id: int | None = Field(default=None, primary_key=True)
    fund_id: int = Field(foreign_key="reserve_funds.id", index=True)
    kind: str = Field(max_length=16)  # set_cap / advance / replenish / adjust
    # Signed: an advance or a returned excess is negative, a replenishment
    # positive, setting the cap zero.
    amount_fen: int = Field(sa_type=BigInteger)
    balance_after_fen: int = Field(sa_type=BigInteger)
    application_id: int | None = Field(
        default=None, foreign_key="applications.id", index=True
    )
    note: str = Field(default="", max_length=2000)
    by: str = Field(max_length=64)
    at: dt.datetime = Field(sa_type=UTCDateTime)


class Recovery(SQLModel, table=True):
    """Money to be recovered from a paid case (追回, R5.2) and how much came back."""

    __tablename__ = "recoveries"
    __table_args__ = (
        CheckConstraint(
            "amount_fen > 0 AND recovered_fen >= 0 AND recovered_fen <= amount_fen",
            name="recovered_within_amount",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="applications.id", index=True)
    reason: str = Field(max_length=16)  # fraud / spot_check / advance_excess
    amount_fen: int = Field(sa_type=BigInteger)
    recovered_fen: int = Field(default=0, sa_type=BigInteger)
    status: str = Field(default="open", max_length=16)  # open/settled/written_off
    note: str = Field(default="", max_length=2000)
    opened_by: str = Field(max_length=64)
    opened_at: dt.datetime = Field(sa_type=UTCDateTime)
    version: int = Field(default=1)


class Repayment(SQLModel, table=True):
    """One sum paid back against a recovery, with its receipt."""

    __tablename__ = "repayments"
    __table_args__ = (
        # The same receipt recorded twice would count the money twice.
        UniqueConstraint(
            "recovery_id", "receipt_no", name="uq_repayment_recovery_receipt"
        ),
        CheckConstraint("amount_fen > 0", name="positive_amount"),
    )

    id: int | None = Field(default=None, primary_key=True)
    recovery_id: int = Field(foreign_key="recoveries.id", index=True)
    amount_fen: int = Field(sa_type=BigInteger)
    paid_on: dt.date
    receipt_no: str = Field(max_length=64)
    recorded_by: str = Field(max_length=64)
    recorded_at: dt.datetime = Field(sa_type=UTCDateTime)


# --- The economic-status check: authorisation, outbox, report (R3.3) ------


class CheckAuthorisation(SQLModel, table=True):
    """The household's signed consent to the economic-status check (授权书).

    No check is requested without one; the scan is an attachment of the case
    file (material ``authorisation_letter``). The latest row is the one in
    force: a letter signed again is a new row, the old one stays on record.
    """

    __tablename__ = "check_authorisations"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="applications.id", index=True)
    signed_by: str = Field(max_length=64)  # the signer's name, as on the letter
    signed_on: dt.date
    attachment_id: int = Field(foreign_key="attachments.id")
    recorded_by: str = Field(max_length=64)
    recorded_at: dt.datetime = Field(sa_type=UTCDateTime)


class VerificationRequest(SQLModel, table=True):
    """The outbox of requests to the verification platform, one per check.

    Written in the case's transaction when a check is requested; the
    dispatcher (``workflow.verification_dispatch``) sends it, polls it and
    stores the report. ``request_id`` is sent with every attempt, so however
    often a request is sent the platform opens one check.
    """

    __tablename__ = "verification_requests"
    __table_args__ = (
        Index("ix_verification_requests_due", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    economic_check_id: int = Field(foreign_key="economic_checks.id", unique=True)
    application_id: int = Field(foreign_key="applications.id", index=True)
    request_id: str = Field(max_length=64, unique=True)
    # pending (not yet at the platform) / submitted / processing / completed /
    # failed; the last two are final.
    state: str = Field(max_length=16)
    # The household members sent, fixed when the check was requested, so that
    # every attempt sends the same members under the same request id.
    member_ids: list[int] = Field(default_factory=list, sa_type=JSON)
    authorisation_id: int = Field(foreign_key="check_authorisations.id")
    # The requester's role: the dispatcher records the result under it.
    requested_role: str = Field(max_length=32)
    attempts: int = Field(default=0)  # times the request was sent
    failures: int = Field(default=0)  # calls in a row the platform did not answer
    last_error: str = Field(default="", max_length=255)  # Chinese, for the clerk
    next_attempt_at: dt.datetime = Field(sa_type=UTCDateTime)
    platform_check_id: str | None = Field(default=None, max_length=64)
    created_at: dt.datetime = Field(sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(sa_type=UTCDateTime)
    submitted_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The dispatcher and a clerk's refresh may handle the same row at once;
    # each write is a compare-and-set on this number.
    version: int = Field(default=1)


class CheckMemberReport(SQLModel, table=True):
    """One member's findings in a completed check: monthly income by kind,
    assets, registered businesses. The member is named by ``member_id``; the
    ID number stays in ``household_members`` alone."""

    __tablename__ = "check_member_reports"
    __table_args__ = (
        UniqueConstraint(
            "economic_check_id", "position", name="uq_check_member_report_position"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    economic_check_id: int = Field(foreign_key="economic_checks.id", index=True)
    position: int  # order in the platform's report
    member_id: int = Field(foreign_key="household_members.id")
    # Net business and property income may be negative.
    wages_fen: int = Field(sa_type=BigInteger)
    business_fen: int = Field(sa_type=BigInteger)
    property_income_fen: int = Field(sa_type=BigInteger)
    transfers_fen: int = Field(sa_type=BigInteger)
    deposits_fen: int = Field(sa_type=BigInteger)
    securities_fen: int = Field(sa_type=BigInteger)
    real_estate: int
    vehicles: int
    businesses: list[str] = Field(default_factory=list, sa_type=JSON)


# --- Sessions, refresh tokens and login throttling -------------------------


class AuthSession(SQLModel, table=True):
    """One login: the family of its refresh tokens, and what access tokens
    name in their ``sid`` claim. A revoked session ends its access tokens at
    once, since every request checks it. Instants are on the real clock."""

    __tablename__ = "auth_sessions"

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(max_length=64, index=True)  # user:12, client:3
    grant_type: str = Field(max_length=32)  # password / client_credentials
    created_at: dt.datetime = Field(sa_type=UTCDateTime)
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)  # no refresh after
    refreshed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # logout / refresh_reuse / account_disabled / …
    revoked_reason: str | None = Field(default=None, max_length=32)


class RefreshToken(SQLModel, table=True):
    """A refresh token of a session, by its SHA-256 (the token is 256 random
    bits, so a fast hash suffices and lets it be looked up). Used once: a
    second use is a stolen copy, and revokes the whole session."""

    __tablename__ = "refresh_tokens"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="auth_sessions.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    issued_at: dt.datetime = Field(sa_type=UTCDateTime)
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    used_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginThrottle(SQLModel, table=True):
    """Failed logins of one account name or one client address, in the
    current window, and the lock they led to. In the database so that a
    lock holds across restarts and replicas. ``key`` is ``user:<name>``,
    ``client:<client_id>`` or ``addr:<keyed hash>`` (no raw address)."""

    __tablename__ = "login_throttles"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=80, unique=True)
    failures: int = Field(default=0)
    window_started_at: dt.datetime = Field(sa_type=UTCDateTime)
    locked_until: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutboxCounter(SQLModel, table=True):
    """The last change-feed position given (one row, ``id`` 1). Its row lock,
    taken when a transaction numbers its events just before it commits,
    is what puts positions in commit order (docs/change-feed.md)."""

    __tablename__ = "outbox_counter"

    id: int = Field(primary_key=True)
    last_position: int = Field(sa_type=BigInteger)
