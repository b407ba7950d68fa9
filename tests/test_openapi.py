"""The exported contract is exactly what the app serves."""

from __future__ import annotations

import json

from app.cli import render_openapi
from app.main import create_app
from app.settings import PROJECT_ROOT


def test_exported_openapi_matches_the_served_document() -> None:
    exported = (PROJECT_ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8")

    served = render_openapi(create_app().openapi())

    assert json.loads(exported) == json.loads(served), (
        "openapi/openapi.json is stale: run `make openapi` and commit the result"
    )
    assert exported == served


def test_every_operation_declares_its_errors_and_a_summary() -> None:
    document = create_app().openapi()
    public = {"/healthz", "/api/v1/auth/token"}

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method} {path} has no summary"
            if path not in public:
                assert "401" in operation["responses"], f"{method} {path}"
