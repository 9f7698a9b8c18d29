"""What a client of the DA network holds: the DA contracts on its chain and one HTTP client for the signers
(`SignerClient` per signer URL). Dispersal (disperse.py) and retrieval (retrieve.py) build on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self

import httpx
from eth_account.signers.local import LocalAccount
from web3 import Web3

from zerog.chain import connect
from zerog.da.contracts import DAContracts
from zerog.da.errors import SignerError
from zerog.da.settings import DASettings
from zerog.da.wire import CONTENT_TYPE, ColumnBundle

Progress = Callable[[str], None]


class SignerClient:
    """HTTP client of one signer."""

    def __init__(self, url: str, http: httpx.Client) -> None:
        self.url = url.rstrip("/")
        self.http = http

    def _error(self, response: httpx.Response) -> SignerError:
        try:
            error = response.json()["error"]
            return SignerError(self.url, response.status_code, error["code"], error["message"])
        except (ValueError, KeyError, TypeError):
            return SignerError(self.url, response.status_code, f"http_{response.status_code}", response.text[:200])

    def put_columns(self, root: bytes, epoch: int, quorum_id: int, body: bytes) -> dict[str, Any]:
        response = self.http.post(
            f"{self.url}/v1/data/0x{root.hex()}/columns",
            params={"epoch": epoch, "quorum": quorum_id},
            content=body,
            headers={"content-type": CONTENT_TYPE},
        )
        if response.status_code != 200:
            raise self._error(response)
        return response.json()

    def payload(self, root: bytes) -> dict[str, Any] | None:
        response = self.http.get(f"{self.url}/v1/data/0x{root.hex()}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._error(response)
        return response.json()

    def columns(self, root: bytes, columns: list[int], max_length: int) -> ColumnBundle:
        response = self.http.get(
            f"{self.url}/v1/data/0x{root.hex()}/columns", params={"columns": ",".join(map(str, columns))}
        )
        if response.status_code != 200:
            raise self._error(response)
        return ColumnBundle.decode(response.content, max_length)


class DAConnection:
    """The contracts and signers of `settings`' network; `account` pays (only putting data needs one)."""

    def __init__(self, settings: DASettings, account: LocalAccount | None = None, w3: Web3 | None = None) -> None:
        self.settings = settings
        self.account = account
        self.w3 = w3 or connect(settings.rpc_url)
        self.contracts = DAContracts.from_settings(settings, self.w3)
        self.http = httpx.Client(timeout=httpx.Timeout(settings.da_timeout, connect=5.0))

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _signer(self, url: str) -> SignerClient:
        return SignerClient(url, self.http)
