"""Personal data at rest: ID, account and phone numbers encrypted

Revision ID: 0011b
Revises: 0010a
Create Date: 2026-12-03 18:00:00+00:00

``household_members.id_number``, ``households.bank_account_no``,
``payments.account_no`` and ``objections.contact`` hold
``v1:<kid>:<base64(nonce|ciphertext|tag)>`` (AES-256-GCM) instead of the
plain value, and the columns grow to fit. Uniqueness of a person moves from
the ID number to its blind index, ``household_members.id_number_index``
(HMAC-SHA256 under ``PII_INDEX_KEY``). Existing rows are encrypted in place
with the key ring the settings describe (the one ``linshi migrate``
configures), so the keys must be set before this runs on real data.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

from app.persistence import crypto

revision: str = "0011b"
down_revision: str | None = "0010a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here: (table, column, plain length, stored length, blind index).
# Stored lengths are crypto.stored_length(plain length) at this revision.
_COLUMNS = (
    ("households", "bank_account_no", 32, 228, None),
    ("household_members", "id_number", 18, 156, "id_number_index"),
    ("payments", "account_no", 32, 228, None),
    ("objections", "contact", 64, 400, None),
)


@contextmanager
def _sqlite_foreign_keys_off() -> Iterator[None]:
    """On SQLite, foreign keys off while tables are rebuilt.

    SQLite alters a column by copying the table and dropping the old one;
    with foreign keys on, dropping ``households`` fails as soon as a member
    or an application refers to it. SQLite's documented procedure turns
    them off, which only takes effect outside a transaction: so the
    transaction is committed (the work of earlier revisions is complete),
    the pragma set, and a new one begun; afterwards every reference is
    checked before the keys are turned on again. Encrypting is idempotent
    (encrypted values are skipped), so a failure halfway can be run again.
    PostgreSQL alters in place and needs none of this.
    """
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    bind.exec_driver_sql("BEGIN IMMEDIATE")
    yield
    broken = bind.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"{len(broken)} broken references after the rebuild")
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql("PRAGMA foreign_keys=ON")
    bind.exec_driver_sql("BEGIN IMMEDIATE")


def _widen(table: str, column: str, plain: int, stored: int) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.alter_column(
            column,
            existing_type=sa.String(length=plain),
            type_=sa.String(length=stored),
            existing_nullable=False,
        )


def upgrade() -> None:
    with _sqlite_foreign_keys_off():
        _upgrade()


def _upgrade() -> None:
    with op.batch_alter_table("household_members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("id_number_index", sa.String(length=64), nullable=True)
        )
        batch_op.drop_constraint(
            batch_op.f("uq_household_members_id_number"), type_="unique"
        )
    for table, column, plain, stored, _index in _COLUMNS:
        _widen(table, column, plain, stored)

    crypto.reencrypt_columns(
        op.get_bind(),
        crypto.active_keyring(),
        [crypto.EncryptedColumn(t, c, i) for t, c, _p, _s, i in _COLUMNS],
        plaintext_allowed=True,
    )

    with op.batch_alter_table("household_members", schema=None) as batch_op:
        batch_op.alter_column(
            "id_number_index", existing_type=sa.String(length=64), nullable=False
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_household_members_id_number_index"), ["id_number_index"]
        )


def _decrypt_in_place(table_name: str, column: str) -> None:
    """Back to plaintext: needs every key the values were written under."""
    keyring = crypto.active_keyring()
    connection = op.get_bind()
    table = sa.table(table_name, sa.column("id"), sa.column(column))
    rows = connection.execute(
        sa.select(table.c.id, table.c[column]).where(table.c[column].is_not(None))
    ).all()
    for row_id, stored in rows:
        if crypto.key_id_of(str(stored)) is None:
            continue
        connection.execute(
            sa.update(table)
            .where(table.c.id == row_id)
            .values({column: keyring.decrypt(str(stored))})
        )


def downgrade() -> None:
    with _sqlite_foreign_keys_off():
        _downgrade()


def _downgrade() -> None:
    with op.batch_alter_table("household_members", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_household_members_id_number_index"), type_="unique"
        )
        batch_op.drop_column("id_number_index")
    for table, column, plain, stored, _index in _COLUMNS:
        _decrypt_in_place(table, column)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=sa.String(length=stored),
                type_=sa.String(length=plain),
                existing_nullable=False,
            )
    with op.batch_alter_table("household_members", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_household_members_id_number"), ["id_number"]
        )
