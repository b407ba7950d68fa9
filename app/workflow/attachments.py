"""Attachments and the case file of an application (一人一档, R4).

Uploads are scans of paper documents: the type is read from the first bytes
(PDF, JPEG, PNG), never from what the client claims, and the size is capped.
Metadata and content sit in separate tables, both in the database, so lists
never load bytes and every replica serves the same files. Like every
workflow function these only flush; the caller's unit of work commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import unicodedata
import zipfile
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.auth.principal import Principal
from app.clock import CHINA_TZ
from app.domain.catalog import (
    ALLOWED_UPLOAD_TYPES,
    MAX_UPLOAD_BYTES,
    REQUIRED_FILE_MATERIALS,
    AssistanceType,
    AttachmentMaterial,
    Material,
    UploadType,
    sniff_upload_type,
)
from app.domain.roles import Role
from app.errors import AppError, Conflict, InvalidInput, NotFound, PermissionDenied
from app.persistence.tables import Application, Attachment, AttachmentBlob, pk
from app.workflow import audit

# The people who put documents into a case file: those who handle the case
# from intake to the district's decision. Readers (auditors, leaders) only read.
UPLOAD_ROLES: tuple[Role, ...] = (
    Role.COMMUNITY_WORKER,
    Role.STREET_WORKER,
    Role.STREET_LEADER,
    Role.DISTRICT_OFFICER,
)

MAX_FILENAME_LENGTH = 255

# Every entry of an exported file carries this date, so that exporting the
# same case file twice gives the same bytes (and the same digest).
_ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)

_ALLOWED_TITLES = "、".join(kind.title for kind in ALLOWED_UPLOAD_TYPES)


class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"
    title = "Unsupported file type"

    def __init__(self) -> None:
        super().__init__(
            f"只能上传 {_ALLOWED_TITLES} 格式的文件（按文件内容识别，"
            "与扩展名无关）。请将材料扫描或拍照后重新上传。",
            allowed_types=[kind.media_type for kind in ALLOWED_UPLOAD_TYPES],
        )


class FileTooLarge(AppError):
    status = 413
    code = "file_too_large"
    title = "File too large"

    def __init__(self) -> None:
        super().__init__(
            f"文件超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB 的上限，"
            "请压缩或分页后重新上传。",
            max_bytes=MAX_UPLOAD_BYTES,
        )


class EmptyFile(InvalidInput):
    code = "empty_file"
    title = "Empty file"

    def __init__(self) -> None:
        super().__init__("上传的文件是空的，请重新选择文件。", field="file")


class AttachmentCorrupted(Conflict):
    code = "attachment_corrupted"
    title = "Stored content does not match its digest"


def sanitise_filename(raw: str, kind: UploadType) -> str:
    """A file name safe in a header, a ZIP entry and on any desktop.

    Keeps the last path component only, drops control and format
    characters and the characters Windows forbids, and makes the extension
    name the sniffed type (``scan.exe`` holding a PDF becomes
    ``scan.exe.pdf``). Never empty, at most ``MAX_FILENAME_LENGTH``
    characters with the extension kept.
    """
    name = unicodedata.normalize("NFC", raw)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        "_" if ch in '<>:"|?*' else ch
        for ch in name
        if unicodedata.category(ch)[0] != "C"
    )
    name = " ".join(name.split()).strip(" .")
    canonical = kind.extensions[0]
    stem, dot, extension = name.rpartition(".")
    if not dot or f".{extension.lower()}" not in kind.extensions:
        stem, extension = name, canonical.removeprefix(".")
    stem = stem.strip(" .") or "attachment"
    room = MAX_FILENAME_LENGTH - len(extension) - 1
    return f"{stem[:room].rstrip(' .') or 'attachment'}.{extension}"


async def upload(
    session: AsyncSession,
    application: Application,
    *,
    actor: Principal,
    now: dt.datetime,
    material: AttachmentMaterial,
    filename: str,
    content: bytes,
) -> Attachment:
    """File one document with the application, whatever its status.

    Refusals (type, size, empty) come before anything is written. The audit
    entry names the material, size and digest, not the file name, which
    often carries the applicant's name.
    """
    if actor.role not in UPLOAD_ROLES:
        raise PermissionDenied("您的角色不能向档案上传材料。")
    if not content:
        raise EmptyFile()
    if len(content) > MAX_UPLOAD_BYTES:
        raise FileTooLarge()
    kind = sniff_upload_type(content)
    if kind is None:
        raise UnsupportedMediaType()

    digest = hashlib.sha256(content).hexdigest()
    attachment = Attachment(
        application_id=pk(application),
        material=str(material),
        filename=sanitise_filename(filename, kind),
        content_type=kind.media_type,
        size_bytes=len(content),
        sha256=digest,
        uploaded_by=actor.subject,
        uploaded_at=now,
    )
    session.add(attachment)
    await session.flush()
    session.add(AttachmentBlob(attachment_id=pk(attachment), content=content))
    await audit.record(
        session,
        actor=actor,
        at=now,
        action="attachment.upload",
        entity_type="application",
        entity_id=pk(application),
        details={
            "attachment_id": pk(attachment),
            "material": str(material),
            "content_type": kind.media_type,
            "size_bytes": len(content),
            "sha256": digest,
        },
    )
    return attachment


async def list_for(session: AsyncSession, application_id: int) -> list[Attachment]:
    """The application's attachments, oldest first; no content is loaded."""
    rows = await session.scalars(
        select(Attachment)
        .where(Attachment.application_id == application_id)
        .order_by(col(Attachment.id))
    )
    return list(rows)


async def load_attachment(
    session: AsyncSession, actor: Principal, attachment_id: int
) -> Attachment:
    """An attachment in the caller's scope; outside it answers like absence."""
    attachment = await session.get(Attachment, attachment_id)
    if attachment is not None:
        application = await session.get(Application, attachment.application_id)
        if application is not None and actor.can_see(application.region_code):
            return attachment
    raise NotFound(f"附件 {attachment_id} 不存在。")


async def content_of(session: AsyncSession, attachment: Attachment) -> bytes:
    """The stored bytes, proven equal to what was uploaded.

    Only the column is selected, so the bytes stay out of the session's
    identity map and are freed once the caller is done with them.
    """
    content = await session.scalar(
        select(AttachmentBlob.content).where(
            AttachmentBlob.attachment_id == pk(attachment)
        )
    )
    if content is None or hashlib.sha256(content).hexdigest() != attachment.sha256:
        raise AttachmentCorrupted(
            f"附件 {pk(attachment)} 校验失败：内容与上传时记录的摘要不一致，"
            "请联系系统管理员。"
        )
    return bytes(content)


def required_materials(application: Application) -> tuple[Material, ...]:
    return REQUIRED_FILE_MATERIALS[AssistanceType(application.assistance_type)]


async def missing_on_file(
    session: AsyncSession, application: Application
) -> list[Material]:
    """Required materials of the application's type with no attachment yet.

    The guard of closing a case: an empty list means the file is complete.
    """
    filed = set(
        await session.scalars(
            select(Attachment.material)
            .where(Attachment.application_id == pk(application))
            .distinct()
        )
    )
    return [m for m in required_materials(application) if m.value not in filed]


def _entry(name: str, *, compress: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.create_system = 3  # Unix, whatever the server runs on
    info.external_attr = 0o100644 << 16
    return info


def _json_bytes(document: Any) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()


def attachment_entry_name(attachment: Attachment) -> str:
    return f"attachments/{pk(attachment)}-{attachment.filename}"


def manifest(application: Application, rows: Sequence[Attachment]) -> dict[str, Any]:
    return {
        "application_id": pk(application),
        "attachments": [
            {
                "id": pk(a),
                "material": a.material,
                "filename": a.filename,
                "path": attachment_entry_name(a),
                "content_type": a.content_type,
                "size": a.size_bytes,
                "sha256": a.sha256,
                "uploaded_by": a.uploaded_by,
                "uploaded_at": a.uploaded_at.astimezone(CHINA_TZ).isoformat(),
            }
            for a in rows
        ],
    }


async def export_file(
    session: AsyncSession, application: Application, detail_json: dict[str, Any]
) -> bytes:
    """The whole case file as a ZIP: the record, a manifest, every document.

    ``detail_json`` is the application as the API shows it (JSON-ready).
    The archive is deterministic: fixed entry dates and order, so the same
    file exports to the same bytes. Scans are stored as they are (already
    compressed); the JSON is deflated. Each document is read and checked
    against its digest one at a time.
    """
    rows = await list_for(session, pk(application))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            _entry("application.json", compress=True), _json_bytes(detail_json)
        )
        archive.writestr(
            _entry("manifest.json", compress=True),
            _json_bytes(manifest(application, rows)),
        )
        for attachment in rows:
            archive.writestr(
                _entry(attachment_entry_name(attachment), compress=False),
                await content_of(session, attachment),
            )
    return buffer.getvalue()
