"""Errors in OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}`` with a fitting status."""

from __future__ import annotations

from services.common.errors import ApiError


class OpenAIError(ApiError):
    """An API error in OpenAI's shape; `param` names the request field at fault."""

    def __init__(self, status: int, code: str, message: str, param: str | None = None) -> None:
        super().__init__(status, code, message, param=param)


def bad_request(message: str, param: str | None = None, code: str = "invalid_request") -> OpenAIError:
    return OpenAIError(400, code, message, param)


def unauthorized(code: str, message: str) -> OpenAIError:
    return OpenAIError(401, code, message)


def payment_required(code: str, message: str) -> OpenAIError:
    return OpenAIError(402, code, message)
