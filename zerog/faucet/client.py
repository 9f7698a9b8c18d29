"""Client of the faucet daemon: ask it for test tokens (`zg faucet`, tests, scripts)."""

from __future__ import annotations

from typing import Any

import httpx

from zerog.errors import ZeroGError

DEFAULT_TIMEOUT_SECONDS = 30


class FaucetError(ZeroGError):
    """The faucet refused or failed a claim. `status` is the HTTP status (None if it did not answer),
    `code` the faucet's error code, `retry_after` the seconds to wait when rate-limited."""

    def __init__(
        self, message: str, status: int | None = None, code: str | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retry_after = retry_after


class FaucetUnavailableError(FaucetError):
    """Nothing answers at the faucet URL, or it answered with something that is not the faucet API."""


def claim(faucet_url: str, address: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> dict[str, Any]:
    """Drip to `address`. Returns the faucet's answer: address, amount (wei, str), txHash, blockNumber,
    nextClaimAt. Raises FaucetError with the faucet's own message when it refuses."""
    return _request("POST", faucet_url, "/api/claim", timeout, json={"address": address})


def info(faucet_url: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> dict[str, Any]:
    """The faucet's parameters, balance and recent drips."""
    return _request("GET", faucet_url, "/api/info", timeout)


def _request(method: str, faucet_url: str, path: str, timeout: float, **kwargs: Any) -> dict[str, Any]:
    url = faucet_url.rstrip("/") + path
    try:
        response = httpx.request(method, url, timeout=timeout, **kwargs)
    except httpx.TimeoutException as exc:
        raise FaucetUnavailableError(f"the faucet at {faucet_url} did not answer within {timeout:g}s") from exc
    except httpx.HTTPError as exc:
        raise FaucetUnavailableError(f"no faucet answers at {faucet_url} (is `zg up` running?)") from exc
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.is_success and isinstance(body, dict):
        return body
    if response.is_success:
        raise FaucetUnavailableError(f"{url} answered {response.status_code} but not with JSON: is it the faucet?")
    raise _error_from(response, body)


def _error_from(response: httpx.Response, body: Any) -> FaucetError:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        text = response.text.strip()[:200] or response.reason_phrase
        return FaucetError(f"faucet error {response.status_code}: {text}", status=response.status_code)
    retry_after = error.get("retryAfter")
    if retry_after is None and (header := response.headers.get("Retry-After", "")).isdigit():
        retry_after = int(header)
    message = str(error.get("message") or response.reason_phrase)
    if retry_after:
        message = f"{message} (retry in {_duration(int(retry_after))})"
    return FaucetError(message, status=response.status_code, code=error.get("code"), retry_after=retry_after)


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"
