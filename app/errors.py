"""The service's errors and how they reach a client.

Every expected refusal is an ``AppError``: it carries its HTTP status, a
stable English ``code`` for programs and a Chinese ``detail`` a clerk can act
on. One handler renders them all as ``application/problem+json``
(RFC 9457). Domain code raises these; it never builds HTTP responses.

    AppError
    ├── AuthenticationFailed   401
    ├── PermissionDenied       403
    ├── NotFound               404
    ├── InvalidTransition      409
    ├── ConcurrentUpdate       409
    ├── Conflict               409
    ├── PreconditionFailed     412
    ├── InvalidInput           422
    └── PolicyViolation        422
"""

from __future__ import annotations

from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra
        self.headers: dict[str, str] = {}


class AuthenticationFailed(AppError):
    status = 401
    code = "not_authenticated"
    title = "Not authenticated"

    def __init__(self, detail: str = "未登录或登录已失效，请重新登录。", **extra: Any):
        super().__init__(detail, **extra)
        self.headers = {"WWW-Authenticate": "Bearer"}


class InvalidCredentials(AuthenticationFailed):
    code = "invalid_credentials"
    title = "Invalid credentials"


class PermissionDenied(AppError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotFound(AppError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(AppError):
    status = 409
    code = "conflict"
    title = "Conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"
    title = "Action not allowed in the current state"


class ConcurrentUpdate(Conflict):
    code = "concurrent_update"
    title = "Changed by someone else"

    def __init__(
        self, detail: str = "该记录刚被他人修改，请刷新后重试。", **extra: Any
    ) -> None:
        super().__init__(detail, **extra)


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"
    title = "Payload too large"


class PreconditionFailed(AppError):
    status = 412
    code = "precondition_failed"
    title = "The record changed since it was read"


class InvalidInput(AppError):
    status = 422
    code = "invalid_input"
    title = "Invalid input"


class PolicyViolation(AppError):
    """A request that the policy rules refuse; ``extra`` carries the explanation."""

    status = 422
    code = "policy_violation"
    title = "Refused by policy"


class CapExceeded(PolicyViolation):
    code = "cap_exceeded"
    title = "Amount above the policy limit"


class Problem(BaseModel):
    """The body of every error response (RFC 9457 problem details)."""

    type: str = Field(default="about:blank")
    title: str
    status: int
    code: str = Field(description="Stable machine-readable error code.")
    detail: str = Field(description="What went wrong, in Chinese, for the clerk.")
    errors: list[dict[str, Any]] | None = None


def _problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
    }
    # Extra members never overwrite the standard ones.
    body.update({k: v for k, v in (extra or {}).items() if k not in body})
    return body


_STATUS_DETAIL_ZH = {
    400: "请求内容无法解析，请检查格式后重试。",
    401: "未登录或登录已失效，请重新登录。",
    403: "您无权执行此操作。",
    404: "请求的资源不存在。",
    405: "不支持该请求方法。",
    412: "记录已被他人修改，请刷新后重试。",
    413: "提交的内容过大。",
}


_LOCATIONS = ("body", "query", "path", "header", "cookie", "form")


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = list(loc)
    if parts and parts[0] in _LOCATIONS:
        parts = parts[1:]
    return ".".join(str(part) for part in parts)


def _message(error: dict[str, Any]) -> str:
    # Pydantic prefixes messages of custom validators; the clerk needs only ours.
    return str(error.get("msg", "")).removeprefix("Value error, ")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(
            _problem(exc.status, exc.code, exc.title, exc.detail, exc.extra),
            status_code=exc.status,
            media_type=PROBLEM_JSON,
            headers=exc.headers or None,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(
        _request: Request, exc: RequestValidationError
    ) -> JSONResponse:
        raw = list(exc.errors())
        if any(err.get("type") == "json_invalid" for err in raw):
            return JSONResponse(
                _problem(
                    422,
                    "invalid_json",
                    "Invalid JSON",
                    "请求体不是有效的 JSON，请检查格式后重试。",
                ),
                status_code=422,
                media_type=PROBLEM_JSON,
            )
        errors = [
            {
                "field": _field_path(err.get("loc", ())),
                "message": _message(err),
                "type": str(err.get("type", "")),
            }
            for err in raw
        ]
        fields = "、".join(e["field"] for e in errors if e["field"])
        detail = (
            f"提交的内容有误，请检查：{fields}。"
            if fields
            else f"提交的内容有误：{errors[0]['message']}。"
        )
        return JSONResponse(
            _problem(
                422,
                "validation_error",
                "Invalid request",
                detail,
                {"errors": errors},
            ),
            status_code=422,
            media_type=PROBLEM_JSON,
        )

    @app.exception_handler(DataError)
    async def _data(_request: Request, _exc: DataError) -> JSONResponse:
        # The database refused a value that passed validation (a number out
        # of its column's range, a character it cannot store): the client's
        # input, so a 4xx, and nothing was written.
        return JSONResponse(
            _problem(
                422,
                "invalid_input",
                "Invalid input",
                "提交的数据超出允许范围或含有无效字符，请检查后重试。",
            ),
            status_code=422,
            media_type=PROBLEM_JSON,
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, _exc: Exception) -> JSONResponse:
        # The traceback goes to the server log (without SQL parameters, see
        # make_engine); the client gets no internals.
        return JSONResponse(
            _problem(
                500,
                "internal_error",
                "Internal error",
                "系统内部错误，请稍后重试；如持续出现，请联系系统管理员。",
            ),
            status_code=500,
            media_type=PROBLEM_JSON,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = _STATUS_DETAIL_ZH.get(exc.status_code, str(exc.detail))
        code = {404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        return JSONResponse(
            _problem(exc.status_code, code, str(exc.detail), detail),
            status_code=exc.status_code,
            media_type=PROBLEM_JSON,
            headers=getattr(exc, "headers", None),
        )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of the error responses an operation can give."""
    return {
        status: {
            "model": Problem,
            "content": {
                PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
            "description": _STATUS_DETAIL_ZH.get(status, "请求被拒绝。"),
        }
        for status in statuses
    }
