"""Attachments and the exported case file (R4), through the HTTP API."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any
from urllib.parse import quote

import pytest
from httpx import Response

from app.clock import OffsetClock
from app.domain.catalog import ALLOWED_UPLOAD_TYPES, MAX_UPLOAD_BYTES
from app.workflow.attachments import sanitise_filename
from tests.support import FULL_MATERIALS, Api, id_number, paid

OTHER_COMMUNITY = "430204001002"  # 东门社区（示例）: street1's, not community1's

# Tiny files that start like the real thing; only the first bytes are read.
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(32))


async def _application(
    api: Api, *, seq: int, who: str = "community1", region: str = "430204001001"
) -> int:
    """A one-person household in ``region`` with an application, by ``who``."""
    household = await api.ok(
        "POST",
        "/api/v1/households",
        who=who,
        status=201,
        json={
            "region_code": region,
            "address": "石峰区田心街道示例路 2 号",
            "bank_name": "中国建设银行株洲石峰支行",
            "bank_account_name": "郑七",
            "bank_account_no": f"62170028700123{seq:05d}",
            "members": [
                {
                    "name": "郑七",
                    "id_number": id_number("430204", "19800101", seq),
                    "relation": "本人",
                    "is_applicant": True,
                }
            ],
        },
    )
    created = await api.ok(
        "POST",
        "/api/v1/applications",
        who=who,
        status=201,
        json={
            "household_id": household["id"],
            "assistance_type": "emergency",
            "reason": "accident",
            "description": "意外事故",
            "requested_amount": "800.00",
            "materials": FULL_MATERIALS,
        },
    )
    return int(created["id"])


async def _upload(
    api: Api,
    app_id: int,
    *,
    material: str,
    name: str,
    content: bytes,
    content_type: str = "application/octet-stream",
    who: str = "community1",
) -> Response:
    return await api.call(
        "POST",
        f"/api/v1/applications/{app_id}/attachments",
        who=who,
        data={"material": material},
        files={"file": (name, content, content_type)},
    )


async def _uploaded(api: Api, app_id: int, **kwargs: Any) -> dict[str, Any]:
    response = await _upload(api, app_id, **kwargs)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _listing(api: Api, app_id: int, who: str = "community1") -> Any:
    return await api.ok("GET", f"/api/v1/applications/{app_id}/attachments", who=who)


async def test_uploads_are_listed_and_download_byte_for_byte(api: Api) -> None:
    app_id = await _application(api, seq=701)

    png = await _uploaded(
        api, app_id, material="id_card_copy", name="身份证.png", content=PNG
    )
    pdf = await _uploaded(
        api,
        app_id,
        material="application_form",
        name="申请书 郑七.pdf",
        content=PDF,
        content_type="image/png",  # the client's claim is not what counts
    )

    assert png["content_type"] == "image/png"
    assert pdf["content_type"] == "application/pdf"
    assert pdf["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert pdf["size_bytes"] == len(PDF)
    assert pdf["material_title"] == "临时救助申请书"
    assert pdf["uploaded_at"].endswith("+08:00")
    listing = await _listing(api, app_id)
    assert [a["id"] for a in listing["attachments"]] == [png["id"], pdf["id"]]

    for who in ("community1", "street1", "officer1", "auditor1"):
        response = await api.call("GET", f"/api/v1/attachments/{pdf['id']}", who=who)
        assert response.status_code == 200, response.text
        assert response.content == PDF
        assert response.headers["x-content-sha256"] == hashlib.sha256(PDF).hexdigest()
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["cache-control"] == "no-store"
        disposition = response.headers["content-disposition"]
        assert disposition.startswith("attachment;")
        assert f"filename*=UTF-8''{quote('申请书 郑七.pdf', safe='')}" in disposition
        assert f'filename="attachment-{pdf["id"]}.pdf"' in disposition


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.png", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(100)),  # a .exe
        ("scan.png", "这不是图片，只是一段文字。".encode()),
        ("page.pdf", b" %PDF-1.4 shifted by one byte"),
    ],
)
async def test_content_that_is_not_pdf_jpeg_or_png_is_refused_and_not_stored(
    api: Api, name: str, content: bytes
) -> None:
    app_id = await _application(api, seq=702)

    response = await _upload(
        api,
        app_id,
        material="id_card_copy",
        name=name,
        content=content,
        content_type="image/png",
    )

    assert response.status_code == 415, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "unsupported_media_type"
    assert "PDF、JPEG、PNG" in problem["detail"]
    assert (await _listing(api, app_id))["attachments"] == []
    detail = await api.ok("GET", f"/api/v1/applications/{app_id}", who="community1")
    assert "attachment.upload" not in {e["action"] for e in detail["timeline"]}


async def test_an_oversize_file_is_refused_with_413(api: Api) -> None:
    app_id = await _application(api, seq=703)
    too_big = PDF + b"0" * (MAX_UPLOAD_BYTES - len(PDF) + 1)
    just_right = PDF + b"0" * (MAX_UPLOAD_BYTES - len(PDF))

    refused = await _upload(
        api, app_id, material="hardship_evidence", name="big.pdf", content=too_big
    )
    assert refused.status_code == 413, refused.text
    assert refused.json()["code"] == "file_too_large"
    assert (await _listing(api, app_id))["attachments"] == []

    kept = await _uploaded(
        api, app_id, material="hardship_evidence", name="ok.pdf", content=just_right
    )
    assert kept["size_bytes"] == MAX_UPLOAD_BYTES


async def test_an_empty_file_or_an_unknown_material_is_a_422(api: Api) -> None:
    app_id = await _application(api, seq=704)

    empty = await _upload(
        api, app_id, material="id_card_copy", name="empty.png", content=b""
    )
    unknown = await _upload(
        api, app_id, material="bank_statement", name="a.png", content=PNG
    )

    assert empty.status_code == 422, empty.text
    assert empty.json()["code"] == "empty_file"
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["code"] == "validation_error"
    assert (await _listing(api, app_id))["attachments"] == []


async def test_missing_materials_shrink_as_uploads_arrive(api: Api) -> None:
    app_id = await _application(api, seq=705)

    listing = await _listing(api, app_id)
    assert [m["material"] for m in listing["missing_materials"]] == FULL_MATERIALS
    assert listing["missing_materials"][1] == {
        "material": "id_card_copy",
        "title": "身份证复印件",
    }
    assert listing["required_materials"] == listing["missing_materials"]

    # "other" is filed but never ticks off the checklist.
    await _uploaded(api, app_id, material="other", name="note.jpg", content=JPEG)
    assert len((await _listing(api, app_id))["missing_materials"]) == 4

    for done, material in enumerate(FULL_MATERIALS, start=1):
        await _uploaded(api, app_id, material=material, name="x.pdf", content=PDF)
        await _uploaded(api, app_id, material=material, name="y.png", content=PNG)
        missing = (await _listing(api, app_id))["missing_materials"]
        assert [m["material"] for m in missing] == FULL_MATERIALS[done:]


async def test_file_names_are_sanitised_and_take_the_sniffed_extension(
    api: Api,
) -> None:
    app_id = await _application(api, seq=706)

    cases = {
        "../../etc/passwd": "passwd.pdf",
        "C:\\scans\\户口簿.exe": "户口簿.exe.pdf",
        "...": "attachment.pdf",
        "长" * 300 + ".pdf": "长" * 251 + ".pdf",
    }
    for raw, expected in cases.items():
        body = await _uploaded(api, app_id, material="other", name=raw, content=PDF)
        assert body["filename"] == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # HTTP clients percent-escape these in the form; other clients may not.
        ('a"b\x00c\r\n.PDF', "a_bc.PDF"),
        ("  报告\u200b<1>.pdf  ", "报告_1_.pdf"),
        ("cafe\u0301.pdf", "caf\u00e9.pdf"),
        ("scan.jpeg", "scan.jpeg.pdf"),
        ("", "attachment.pdf"),
    ],
)
def test_the_file_name_sanitiser(raw: str, expected: str) -> None:
    pdf = ALLOWED_UPLOAD_TYPES[0]
    assert pdf.media_type == "application/pdf"

    assert sanitise_filename(raw, pdf) == expected


async def test_uploading_is_for_case_handlers_and_is_on_the_timeline(
    api: Api,
) -> None:
    app_id = await _application(api, seq=707)

    for who in ("auditor1", "assistlead1"):
        refused = await _upload(
            api, app_id, material="id_card_copy", name="a.png", content=PNG, who=who
        )
        assert refused.status_code == 403, refused.text
    machine = await api.call(
        "GET", f"/api/v1/applications/{app_id}/attachments", who="bank-demo"
    )
    assert machine.status_code == 403, machine.text

    for who in ("community1", "street1", "streetlead1", "officer1"):
        await _uploaded(
            api, app_id, material="other", name="记录.png", content=PNG, who=who
        )
    detail = await api.ok("GET", f"/api/v1/applications/{app_id}", who="auditor1")
    entries = [e for e in detail["timeline"] if e["action"] == "attachment.upload"]
    assert len(entries) == 4
    assert entries[0]["details"]["sha256"] == hashlib.sha256(PNG).hexdigest()
    # The file name often carries the applicant's name: not in the audit trail.
    assert "记录" not in json.dumps(entries, ensure_ascii=False)


async def test_another_communitys_file_is_not_found(api: Api) -> None:
    theirs = await _application(api, seq=708, who="street1", region=OTHER_COMMUNITY)
    attachment = await _uploaded(
        api, theirs, material="id_card_copy", name="id.png", content=PNG, who="street1"
    )

    for method, path in [
        ("GET", f"/api/v1/applications/{theirs}/attachments"),
        ("GET", f"/api/v1/attachments/{attachment['id']}"),
        ("GET", f"/api/v1/applications/{theirs}/file"),
        ("GET", "/api/v1/attachments/2147483647"),
    ]:
        response = await api.call(method, path, who="community1")
        assert response.status_code == 404, f"{path}: {response.text}"
        assert response.json()["code"] == "not_found"
    upload = await _upload(
        api, theirs, material="id_card_copy", name="id.png", content=PNG
    )
    assert upload.status_code == 404, upload.text

    listing = await _listing(api, theirs, who="street1")
    assert [a["id"] for a in listing["attachments"]] == [attachment["id"]]
    own = await api.call(
        "GET", f"/api/v1/attachments/{attachment['id']}", who="street1"
    )
    assert own.status_code == 200
    assert own.content == PNG


async def test_the_exported_file_holds_the_record_the_manifest_and_each_document(
    api: Api,
) -> None:
    app_id = await _application(api, seq=709)
    uploaded = [
        await _uploaded(
            api, app_id, material="application_form", name="申请书.pdf", content=PDF
        ),
        await _uploaded(
            api, app_id, material="id_card_copy", name="身份证.jpg", content=JPEG
        ),
        await _uploaded(
            api, app_id, material="other", name="现场照片.png", content=PNG
        ),
    ]
    contents = {uploaded[0]["id"]: PDF, uploaded[1]["id"]: JPEG, uploaded[2]["id"]: PNG}
    path = f"/api/v1/applications/{app_id}/file"

    first = await api.call("GET", path, who="street1")
    second = await api.call("GET", path, who="officer1")

    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "application/zip"
    assert (
        first.headers["x-content-sha256"] == hashlib.sha256(first.content).hexdigest()
    )
    # Deterministic: the same file gives the same bytes, whoever exports it.
    assert second.content == first.content

    with zipfile.ZipFile(io.BytesIO(first.content)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        record = json.loads(archive.read("application.json").decode("utf-8"))
        manifest = json.loads(archive.read("manifest.json").decode("utf-8"))
        files = {name: archive.read(name) for name in names[2:]}

    assert names[:2] == ["application.json", "manifest.json"]
    assert record["id"] == app_id
    assert record["description"] == "意外事故"
    assert "allowed_actions" not in record
    assert "attachment.upload" in {e["action"] for e in record["timeline"]}
    assert manifest["application_id"] == app_id
    assert [a["id"] for a in manifest["attachments"]] == [u["id"] for u in uploaded]
    for entry in manifest["attachments"]:
        expected = contents[entry["id"]]
        assert files[entry["path"]] == expected
        assert entry["path"] == f"attachments/{entry['id']}-{entry['filename']}"
        assert entry["sha256"] == hashlib.sha256(expected).hexdigest()
        assert entry["size"] == len(expected)
        assert entry["uploaded_by"].startswith("user:")
    assert sorted(files) == sorted(a["path"] for a in manifest["attachments"])
    assert f"attachments/{uploaded[2]['id']}-现场照片.png" in files


async def test_an_empty_file_exports_the_record_and_an_empty_manifest(
    api: Api,
) -> None:
    app_id = await _application(api, seq=710)

    response = await api.call(
        "GET", f"/api/v1/applications/{app_id}/file", who="community1"
    )

    assert response.status_code == 200, response.text
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.namelist() == ["application.json", "manifest.json"]
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest == {"application_id": app_id, "attachments": []}


async def test_a_paid_case_closes_only_with_its_whole_file(
    api: Api, clock: OffsetClock
) -> None:
    app_id = await paid(api, clock, seq=301, amount="2000.00")
    base = f"/api/v1/applications/{app_id}"

    incomplete = await api.call("POST", base + "/close", who="street1")
    assert incomplete.status_code == 409
    assert "户口簿复印件" in incomplete.json()["detail"]
    detail = await api.ok("GET", base, who="street1")
    assert detail["allowed_actions"] == []

    for material in FULL_MATERIALS:
        response = await api.client.post(
            base + "/attachments",
            headers={"Authorization": f"Bearer {await api.token('street1')}"},
            data={"material": material},
            files={"file": (f"{material}.pdf", PDF, "application/pdf")},
        )
        assert response.status_code == 201, response.text

    ready = await api.ok("GET", base, who="street1")
    assert [a["action"] for a in ready["allowed_actions"]] == ["close_file"]
    closed = await api.ok("POST", base + "/close", who="street1")
    assert closed["status"] == "closed"
