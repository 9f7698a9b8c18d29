"""Errors the signer API answers with: each carries its HTTP status, a stable code and a message for people."""

from __future__ import annotations


class ApiError(Exception):
    """Rendered as ``{"error": {"code", "message"}}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
