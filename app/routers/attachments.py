"""Attachments and the exported case file (一人一档, R4)."""

from __future__ import annotations

import hashlib
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Response, UploadFile
from pydantic import Field

from app.api_types import LocalDateTime, OutputModel, PathId
from app.deps import Authorized, NowDep, SessionDep
from app.domain.catalog import (
    ALLOWED_UPLOAD_TYPES,
    MATERIAL_TITLES_ZH,
    MAX_UPLOAD_BYTES,
    AttachmentMaterial,
    Material,
    attachment_material,
    attachment_material_title,
)
from app.errors import problem_responses
from app.persistence.tables import Attachment, pk
from app.routers.applications import application_detail
from app.workflow import attachments as flow
from app.workflow.applications import load_application

router = APIRouter(prefix="/api/v1", tags=["attachments"])


# Case files hold copies of ID cards and household registers: never cached
# on the way, never re-typed by a browser from the content.
_PRIVATE_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}

# Left out of the exported record: the buttons of whoever exports it are not
# part of the case, and without them a case exports to the same bytes
# whoever asks.
_NOT_IN_FILE = {"allowed_actions"}


class MaterialRef(OutputModel):
    material: Material
    title: str


class AttachmentPublic(OutputModel):
    id: int
    application_id: int
    material: AttachmentMaterial
    material_title: str
    filename: str
    content_type: str = Field(description="The type read from the content.")
    size_bytes: int
    sha256: str = Field(description="SHA-256 of the content, lower-case hex.")
    uploaded_by: str
    uploaded_at: LocalDateTime


class AttachmentList(OutputModel):
    attachments: list[AttachmentPublic]
    required_materials: list[MaterialRef] = Field(
        description="The checklist of the case file for the assistance type (R4)."
    )
    missing_materials: list[MaterialRef] = Field(
        description="Required materials without any attachment yet."
    )


def attachment_public(attachment: Attachment) -> AttachmentPublic:
    return AttachmentPublic(
        id=pk(attachment),
        application_id=attachment.application_id,
        material=attachment_material(attachment.material),
        material_title=attachment_material_title(attachment.material),
        filename=attachment.filename,
        content_type=attachment.content_type,
        size_bytes=attachment.size_bytes,
        sha256=attachment.sha256,
        uploaded_by=attachment.uploaded_by,
        uploaded_at=attachment.uploaded_at,
    )


def _refs(materials: list[Material] | tuple[Material, ...]) -> list[MaterialRef]:
    return [MaterialRef(material=m, title=MATERIAL_TITLES_ZH[m]) for m in materials]


def content_disposition(filename: str, fallback: str) -> str:
    """``attachment`` with an ASCII name for old clients and the real one.

    RFC 6266 / RFC 5987: ``filename*=UTF-8''…`` carries Chinese names
    percent-encoded; ``filename`` is a plain ASCII fallback, never a
    name with quotes or non-ASCII characters in it.
    """
    encoded = quote(filename, safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


_UPLOAD_TYPES_TEXT = ", ".join(kind.title for kind in ALLOWED_UPLOAD_TYPES)


@router.post(
    "/applications/{application_id}/attachments",
    status_code=201,
    summary="File a scanned document with an application",
    description=(
        f"Multipart form: `file` and `material`. Accepted types: "
        f"{_UPLOAD_TYPES_TEXT}, recognised from the content, at most "
        f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MiB."
    ),
    responses=problem_responses(401, 403, 404, 413, 415, 422),
)
async def upload_attachment(
    application_id: PathId,
    file: Annotated[UploadFile, File(description="PDF, JPEG or PNG.")],
    material: Annotated[
        AttachmentMaterial,
        Form(description='A required material, or "other".'),
    ],
    principal: Authorized,
    session: SessionDep,
    at: NowDep,
) -> AttachmentPublic:
    application = await load_application(session, principal, application_id)
    # One byte past the limit is enough to refuse; a larger upload is never
    # read into memory here. (The multipart parser has spooled it to a
    # temporary file already: the proxy in front bounds the request body.)
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    attachment = await flow.upload(
        session,
        application,
        actor=principal,
        now=at,
        material=material,
        filename=file.filename or "",
        content=content,
    )
    return attachment_public(attachment)


@router.get(
    "/applications/{application_id}/attachments",
    summary="An application's attachments and the materials still missing",
    responses=problem_responses(401, 403, 404),
)
async def list_attachments(
    application_id: PathId, principal: Authorized, session: SessionDep
) -> AttachmentList:
    application = await load_application(session, principal, application_id)
    rows = await flow.list_for(session, pk(application))
    return AttachmentList(
        attachments=[attachment_public(a) for a in rows],
        required_materials=_refs(flow.required_materials(application)),
        missing_materials=_refs(await flow.missing_on_file(session, application)),
    )


_DOWNLOAD_CONTENT: dict[str, dict[str, object]] = {
    kind.media_type: {} for kind in ALLOWED_UPLOAD_TYPES
}


@router.get(
    "/attachments/{attachment_id}",
    summary="Download one attachment as uploaded",
    response_class=Response,
    responses={
        200: {
            "content": _DOWNLOAD_CONTENT,
            "description": "The document; X-Content-SHA256 carries its digest.",
        },
        **problem_responses(401, 403, 404, 409),
    },
)
async def download_attachment(
    attachment_id: PathId, principal: Authorized, session: SessionDep
) -> Response:
    attachment = await flow.load_attachment(session, principal, attachment_id)
    content = await flow.content_of(session, attachment)
    extension = attachment.filename.rpartition(".")[2]
    return Response(
        content=content,
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": content_disposition(
                attachment.filename, f"attachment-{pk(attachment)}.{extension}"
            ),
            "X-Content-SHA256": attachment.sha256,
            **_PRIVATE_HEADERS,
        },
    )


@router.get(
    "/applications/{application_id}/file",
    summary="Export the whole case file as a ZIP",
    description=(
        "`application.json` (the application with its investigation, "
        "decisions, payments and timeline), `manifest.json` and every "
        "attachment under `attachments/<id>-<filename>`. The same file "
        "exports to the same bytes."
    ),
    response_class=Response,
    responses={
        200: {
            "content": {"application/zip": {}},
            "description": "The case file; X-Content-SHA256 carries its digest.",
        },
        **problem_responses(401, 403, 404, 409),
    },
)
async def export_case_file(
    application_id: PathId, principal: Authorized, session: SessionDep, at: NowDep
) -> Response:
    application = await load_application(session, principal, application_id)
    detail = await application_detail(session, application, principal, at)
    content = await flow.export_file(
        session, application, detail.model_dump(mode="json", exclude=_NOT_IN_FILE)
    )
    return Response(
        content=content,
        media_type="application/zip",
        headers={
            "Content-Disposition": (
                f'attachment; filename="application-{pk(application)}-file.zip"'
            ),
            "X-Content-SHA256": hashlib.sha256(content).hexdigest(),
            **_PRIVATE_HEADERS,
        },
    )
