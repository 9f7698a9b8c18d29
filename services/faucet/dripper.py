"""The faucet's core: checks the limits, sends `drip` with the hot key, records the claim.

Everything a claim does runs under one lock: there is one dripper key, so drips go out one at a time
(no nonce races) and the limit checks cannot be raced by concurrent claims for the same address or IP.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import ProviderConnectionError, Web3RPCError
from web3.logs import DISCARD
from web3.types import TxReceipt

from services.faucet.config import FaucetDaemonSettings
from services.faucet.errors import ApiError, chain_unavailable, faucet_empty
from services.faucet.store import FaucetStore
from zerog.accounts import role_account
from zerog.chain import Deployment, send_transaction
from zerog.errors import TransactionError
from zerog.faucet.contracts import FAUCET

log = logging.getLogger(__name__)

#: Dev account that deploy.py grants DRIPPER_ROLE on the local network.
DEV_DRIPPER_INDEX = 1
DRIPPER_ROLE = Web3.keccak(text="DRIPPER_ROLE")
_AVAILABLE_AT = re.compile(r"availableAt=(\d+)")


def load_dripper(settings: FaucetDaemonSettings) -> LocalAccount:
    """The hot key holding DRIPPER_ROLE: ZG_FAUCET_PRIVATE_KEY, or dev account 1 on the local network only."""
    return role_account(settings, "faucet_private_key", DEV_DRIPPER_INDEX, "faucet (DRIPPER_ROLE)")


@dataclass(frozen=True)
class ClaimResult:
    address: str
    amount: int
    tx_hash: str
    block_number: int
    next_claim_at: int


@dataclass(frozen=True)
class FaucetStatus:
    chain_id: int
    block_number: int
    drip_amount: int
    cooldown: int
    balance: int


class Dripper:
    """Sends drips for the API. Raises ApiError for everything a client should hear about."""

    def __init__(
        self,
        settings: FaucetDaemonSettings,
        w3: Web3,
        deployment: Deployment,
        account: LocalAccount,
        store: FaucetStore,
    ) -> None:
        self.settings = settings
        self.w3 = w3
        self.account = account
        self.store = store
        self.contract = deployment.contract(w3, FAUCET)
        self.decoder = deployment.error_decoder()
        self._lock = threading.Lock()

    @property
    def faucet_address(self) -> str:
        return str(self.contract.address)

    # ------------------------------------------------------------ reads

    @contextmanager
    def chain_calls(self) -> Iterator[None]:
        """Turns 'the node does not answer' into a 503 for the client."""
        try:
            yield
        except (OSError, ProviderConnectionError) as exc:
            log.warning("chain node at %s unreachable: %s", self.settings.rpc_url, type(exc).__name__)
            raise chain_unavailable() from exc

    def status(self) -> FaucetStatus:
        with self.chain_calls():
            block = self.w3.eth.get_block("latest")
            number = block["number"]
            return FaucetStatus(
                chain_id=self.w3.eth.chain_id,
                block_number=number,
                drip_amount=self.contract.functions.dripAmount().call(block_identifier=number),
                cooldown=self.contract.functions.cooldown().call(block_identifier=number),
                balance=self.w3.eth.get_balance(self.contract.address, number),
            )

    def has_role(self) -> bool:
        with self.chain_calls():
            return bool(self.contract.functions.hasRole(DRIPPER_ROLE, self.account.address).call())

    # ------------------------------------------------------------ claims

    def claim(self, address: str, ip: str) -> ClaimResult:
        """Drips to checksummed `address` on behalf of client `ip`, or raises ApiError."""
        with self._lock:
            now = time.time()
            self._check_service_limits(address, ip, now)
            with self.chain_calls():
                self._check_chain(address)
                receipt = self.send_drip(address)
            [dripped] = self.contract.events.Dripped().process_receipt(receipt, errors=DISCARD)
            amount = int(dripped["args"]["amount"])
            tx_hash = receipt["transactionHash"].to_0x_hex()
            # Recorded only now: a drip that failed above has used up nobody's allowance.
            self.store.record_claim(address, ip, amount, tx_hash, receipt["blockNumber"], now)
        window_end = math.ceil(now) + self.settings.faucet_window
        next_claim_at = max(window_end, int(dripped["args"]["nextDripAt"]))
        log.info("dripped %d wei to %s for %s in %s (block %d)", amount, address, ip, tx_hash, receipt["blockNumber"])
        return ClaimResult(address, amount, tx_hash, receipt["blockNumber"], next_claim_at)

    def _check_service_limits(self, address: str, ip: str, now: float) -> None:
        window = self.settings.faucet_window
        if (wait := self.store.address_retry_after(address, now, window)) is not None:
            raise ApiError(
                429, "address_limited", f"{address} already claimed; one claim per address every {window} s", wait
            )
        limit = self.settings.faucet_ip_limit
        if (wait := self.store.ip_retry_after(ip, now, window, limit)) is not None:
            raise ApiError(429, "ip_limited", f"too many claims from your IP: at most {limit} every {window} s", wait)

    def _check_chain(self, address: str) -> None:
        """The on-chain cooldown, balance and drip budget, checked before paying gas for a drip that would revert."""
        block = self.w3.eth.get_block("latest")
        available_at = self.contract.functions.nextDripAt(address).call(block_identifier=block["number"])
        if available_at > block["timestamp"]:
            raise self._cooldown_error(address, available_at, block["timestamp"])
        amount = self.contract.functions.dripAmount().call(block_identifier=block["number"])
        balance = self.w3.eth.get_balance(self.contract.address, block["number"])
        if balance < amount:
            log.warning("faucet %s is empty: %d wei left, drips are %d wei", self.faucet_address, balance, amount)
            raise faucet_empty(balance, amount)
        budget_at = self.contract.functions.budgetAvailableAt().call(block_identifier=block["number"])
        if budget_at > block["timestamp"]:
            raise self._budget_error(budget_at, block["timestamp"])

    def send_drip(self, address: str) -> TxReceipt:
        """Sends `drip(address)` without the service's checks (the contract's still apply); reverts and
        node errors become ApiError. Callers hold the lock (claim) or own the key (tests, tools)."""
        try:
            return send_transaction(
                self.w3,
                self.account,
                self.contract.functions.drip(address),
                decoder=self.decoder,
                timeout=self.settings.tx_timeout,
            )
        except TransactionError as exc:
            raise self._revert_error(address, exc) from exc
        except Web3RPCError as exc:
            message = str(getattr(exc, "message", None) or exc)
            log.error("drip to %s rejected by the node: %s", address, message)
            if "insufficient funds" in message.lower():
                raise ApiError(
                    503, "faucet_misconfigured", "the faucet's dripper account cannot pay for gas; tell the operator"
                ) from exc
            raise ApiError(502, "drip_failed", f"the chain node rejected the drip: {message}") from exc

    def _revert_error(self, address: str, exc: TransactionError) -> ApiError:
        reason = exc.reason or ""
        log.warning("drip to %s failed: %s", address, exc.message)
        if reason.startswith("FaucetCooldownActive"):
            return self._cooldown_error(address, _available_at(reason), self.w3.eth.get_block("latest")["timestamp"])
        if reason.startswith("FaucetBudgetExhausted"):
            return self._budget_error(_available_at(reason), self.w3.eth.get_block("latest")["timestamp"])
        if reason.startswith("FaucetEmpty"):
            return ApiError(503, "faucet_empty", f"the faucet is empty ({reason})")
        if reason.startswith("AccessControlUnauthorizedAccount"):
            return ApiError(
                503,
                "faucet_misconfigured",
                f"the faucet's key {self.account.address} lacks DRIPPER_ROLE on {self.faucet_address}; "
                "tell the operator",
            )
        if reason.startswith("FaucetTransferFailed"):
            return ApiError(
                400,
                "recipient_rejected",
                f"{address} refused the transfer (a contract without receive, or one needing more gas than the "
                "faucet's stipend?)",
            )
        if exc.reason is None and exc.tx_hash:
            return ApiError(504, "drip_timeout", f"drip {exc.tx_hash} was sent but is not mined yet; check it later")
        return ApiError(502, "drip_failed", f"the drip transaction failed: {reason or exc.message}")

    @staticmethod
    def _budget_error(available_at: int, chain_now: int) -> ApiError:
        # The whole faucet is out for the window, not this client: 503 (like an empty faucet), with a retry time.
        log.warning("faucet drip budget spent until %d", available_at)
        return ApiError(
            503,
            "faucet_budget_exhausted",
            f"the faucet has dripped all its contract allows in this window; drips resume at {available_at}",
            max(1, available_at - chain_now),
        )

    @staticmethod
    def _cooldown_error(address: str, available_at: int, chain_now: int) -> ApiError:
        return ApiError(
            429,
            "cooldown_active",
            f"{address} was funded recently; the faucet contract allows its next drip at {available_at}",
            max(1, available_at - chain_now),
        )


def _available_at(reason: str) -> int:
    """The `availableAt` argument of a decoded revert reason (0 if absent)."""
    match = _AVAILABLE_AT.search(reason)
    return int(match.group(1)) if match else 0
