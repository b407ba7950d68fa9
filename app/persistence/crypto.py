"""Personal data at rest: AES-256-GCM per value, and a keyed blind index.

A stored value is ``v1:<kid>:<base64(nonce | ciphertext | tag)>``: the
format version, the id of the key that encrypted it, and a random 96-bit
nonce per value, so the same number written twice is stored differently and
keys can rotate (``PII_KEYS`` keeps the old keys readable while
``PII_CURRENT_KEY`` names the one new values are written under;
``reencrypt_columns`` rewrites old values, ``linshi rotate-pii-key``).

Because equal values encrypt differently, nothing can be looked up by the
encrypted column. A column that is looked up has a companion
``<column>_index``: the HMAC-SHA256 of the value under a separate key (the
"blind index"), equal for equal values and useless without the key.

``EncryptedString`` is the column type: it encrypts on bind and decrypts on
load with the process's key ring (``configure``), so code reads and writes
plain attributes. Comparing such a column in SQL is refused, because it would
silently never match; compare the blind index instead.

No error raised here carries a key, a plaintext or a ciphertext: only key ids
(which are names, not secrets), table and column names.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnClause
from sqlalchemy.types import String, TypeDecorator

if TYPE_CHECKING:
    from app.settings import Settings

FORMAT = "v1"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # 96 bits, the GCM standard nonce
TAG_BYTES = 16
KID_MAX = 16
KID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
INDEX_LENGTH = 64  # hex of HMAC-SHA256


class PiiKeyError(RuntimeError):
    """A key is missing, wrong or malformed, or a stored value is unreadable.

    The message names key ids, tables and columns only, never key material,
    plaintext or ciphertext: it ends up in server logs.
    """


def stored_length(plain_chars: int) -> int:
    """Column length that holds the encrypted form of ``plain_chars`` characters.

    Counted for 4 UTF-8 bytes a character (the worst case), the longest key
    id, the prefix and base64 of nonce, ciphertext and tag.
    """
    raw = NONCE_BYTES + 4 * plain_chars + TAG_BYTES
    return len(FORMAT) + 1 + KID_MAX + 1 + 4 * math.ceil(raw / 3)


def _key_from_base64(text: str, *, what: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise PiiKeyError(f"{what} is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise PiiKeyError(f"{what} must be {KEY_BYTES} bytes (base64 of 32 bytes)")
    return key


def parse_keys(spec: str) -> dict[str, bytes]:
    """``"kid:base64key,kid2:base64key"`` as keys by id."""
    keys: dict[str, bytes] = {}
    for position, item in enumerate(p for p in spec.split(",") if p.strip()):
        kid, sep, encoded = item.strip().partition(":")
        if not sep or not KID_PATTERN.match(kid):
            raise PiiKeyError(
                f"PII_KEYS entry {position + 1} is not kid:base64key "
                "(kid: 1-16 letters, digits, '-' or '_')"
            )
        if kid in keys:
            raise PiiKeyError(f"PII_KEYS names key {kid!r} twice")
        keys[kid] = _key_from_base64(encoded, what=f"PII_KEYS key {kid!r}")
    if not keys:
        raise PiiKeyError("PII_KEYS holds no key")
    return keys


@dataclass(frozen=True)
class KeyRing:
    """The encryption keys by id, the current one, and the blind-index key."""

    current_kid: str
    keys: Mapping[str, bytes] = field(repr=False)
    index_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if self.current_kid not in self.keys:
            raise PiiKeyError(
                f"PII_CURRENT_KEY {self.current_kid!r} is not among PII_KEYS"
            )
        if len(self.index_key) != KEY_BYTES:
            raise PiiKeyError(f"PII_INDEX_KEY must be {KEY_BYTES} bytes")
        if any(hmac.compare_digest(self.index_key, k) for k in self.keys.values()):
            # One key for both would tie the index to the ciphertexts' key.
            raise PiiKeyError("PII_INDEX_KEY must differ from every PII_KEYS key")

    @classmethod
    def parse(cls, *, keys: str, current: str, index_key: str) -> KeyRing:
        return cls(
            current_kid=current.strip(),
            keys=parse_keys(keys),
            index_key=_key_from_base64(index_key, what="PII_INDEX_KEY"),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        return cls.parse(
            keys=settings.pii_keys,
            current=settings.pii_current_key,
            index_key=settings.pii_index_key,
        )

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.current_kid]).encrypt(
            nonce, plaintext.encode("utf-8"), None
        )
        body = base64.b64encode(nonce + sealed).decode("ascii")
        return f"{FORMAT}:{self.current_kid}:{body}"

    def decrypt(self, stored: str) -> str:
        kid = key_id_of(stored)
        if kid is None:
            raise PiiKeyError(
                "a personal-data column holds a value that is not encrypted; "
                "run the migrations (linshi migrate)"
            )
        key = self.keys.get(kid)
        if key is None:
            raise PiiKeyError(
                f"personal data is encrypted under key {kid!r}, which PII_KEYS "
                "does not hold"
            )
        try:
            raw = base64.b64decode(stored.split(":", 2)[2], validate=True)
            plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None)
        except (binascii.Error, ValueError, InvalidTag):
            raise PiiKeyError(
                f"personal data under key {kid!r} cannot be decrypted: "
                "the key is wrong or the stored value was altered"
            ) from None
        return plain.decode("utf-8")

    def blind_index(self, value: str) -> str:
        """HMAC-SHA256 of ``value`` (as given: normalise before), in hex."""
        return hmac.new(
            self.index_key, value.encode("utf-8"), hashlib.sha256
        ).hexdigest()


def key_id_of(stored: str) -> str | None:
    """The key id of an encrypted value; ``None`` for anything else."""
    prefix, sep, rest = stored.partition(":")
    if prefix != FORMAT or not sep:
        return None
    kid, sep, _ = rest.partition(":")
    return kid if sep and KID_PATTERN.match(kid) else None


# --- The process's key ring ------------------------------------------------

_keyring: KeyRing | None = None


def configure(keyring: KeyRing) -> None:
    """Set the key ring of this process (app start, CLI commands, tests)."""
    global _keyring
    _keyring = keyring


def active_keyring() -> KeyRing:
    """The configured key ring; unconfigured, the one the settings describe.

    The fallback serves code run outside the app and the CLI (Alembic's
    environment, scripts) with the same settings they read the database from.
    """
    global _keyring
    if _keyring is None:
        from app.settings import get_settings

        _keyring = KeyRing.from_settings(get_settings())
    return _keyring


def blind_index(value: str) -> str:
    """The lookup key of ``value`` under the process's blind-index key."""
    return active_keyring().blind_index(value)


# --- The column type -------------------------------------------------------

# Only IS NULL / IS NOT NULL make sense on a randomised ciphertext.
_ALLOWED_OPERATORS = frozenset({operators.is_, operators.is_not})


class EncryptedString(TypeDecorator[str]):
    """A string stored encrypted; ``plain_length`` characters of plaintext."""

    impl = String
    cache_ok = True

    class Comparator(TypeDecorator.Comparator[str]):
        """Refuses comparing the column with a value (``==``, ``in_``, ``like``).

        Column-to-column comparisons stay: SQLAlchemy itself compares a column
        with its annotated copies (dictionary lookups of mapped columns).
        """

        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            if op not in _ALLOWED_OPERATORS and not all(
                isinstance(o, ColumnClause) for o in other
            ):
                raise TypeError(
                    "an encrypted column cannot be compared with a value in SQL "
                    "(its values are randomised); compare its blind index"
                )
            return super().operate(op, *other, **kwargs)

    comparator_factory = Comparator

    def __init__(self, plain_length: int) -> None:
        super().__init__(length=stored_length(plain_length))
        self.plain_length = plain_length

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if len(value) > self.plain_length:
            # Checked here as well as in the API: the column holds no more.
            raise ValueError(
                f"personal data longer than {self.plain_length} characters"
            )
        return active_keyring().encrypt(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return active_keyring().decrypt(str(value))


# --- Rewriting stored values: the migration and key rotation ---------------


@dataclass(frozen=True)
class EncryptedColumn:
    """A column to rewrite, and its blind-index column if it has one."""

    table: str
    column: str
    index_column: str | None = None

    @property
    def label(self) -> str:
        return f"{self.table}.{self.column}"


def encrypted_columns(metadata: sa.MetaData) -> list[EncryptedColumn]:
    """Every ``EncryptedString`` column; ``<column>_index`` is its blind index."""
    found: list[EncryptedColumn] = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, EncryptedString):
                index = f"{column.name}_index"
                found.append(
                    EncryptedColumn(
                        table.name, column.name, index if index in table.c else None
                    )
                )
    return found


def reencrypt_columns(
    connection: Connection,
    keyring: KeyRing,
    columns: Iterable[EncryptedColumn],
    *,
    plaintext_allowed: bool = False,
    page: int = 500,
) -> dict[str, int]:
    """Rewrite each value not under the current key, and fix blind indexes.

    ``plaintext_allowed`` is for the migration that encrypts the values
    stored before encryption existed; elsewhere a plaintext value is an
    error. Each row is rewritten as a compare-and-set on the value read, so a
    row the service changed meanwhile (already under the current key) is left
    alone. Returns the rows rewritten per column. Runs in the caller's
    transaction, on raw values (no ``EncryptedString`` processing).
    """
    rewritten: dict[str, int] = {}
    for target in columns:
        rewritten[target.label] = _reencrypt_one(
            connection, keyring, target, plaintext_allowed=plaintext_allowed, page=page
        )
    return rewritten


def _reencrypt_one(
    connection: Connection,
    keyring: KeyRing,
    target: EncryptedColumn,
    *,
    plaintext_allowed: bool,
    page: int,
) -> int:
    names: Sequence[str] = ["id", target.column]
    if target.index_column:
        names = [*names, target.index_column]
    table = sa.table(target.table, *(sa.column(n) for n in names))
    value_col = table.c[target.column]
    count = 0
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(*table.c)
            .where(table.c.id > last_id, value_col.is_not(None))
            .order_by(table.c.id)
            .limit(page)
        ).all()
        if not rows:
            return count
        for row in rows:
            last_id = row.id
            stored = str(row[1])
            kid = key_id_of(stored)
            if kid is None and not plaintext_allowed:
                raise PiiKeyError(
                    f"{target.label} of row {row.id} is not encrypted; "
                    "run the migrations (linshi migrate)"
                )
            changes: dict[str, str] = {}
            if kid != keyring.current_kid:
                plain = stored if kid is None else keyring.decrypt(stored)
                changes[target.column] = keyring.encrypt(plain)
            elif target.index_column:
                plain = keyring.decrypt(stored)
            if target.index_column:
                index = keyring.blind_index(plain)
                if row[2] != index:
                    changes[target.index_column] = index
            if not changes:
                continue
            result = connection.execute(
                sa.update(table)
                .where(table.c.id == row.id, value_col == stored)
                .values(**changes)
            )
            count += result.rowcount
