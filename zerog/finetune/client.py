"""Fine-tuning from the SDK: the FineTuningServing contract's services and tasks, the user's side of a task
(validate the dataset and estimate the fee before any money moves, create, follow, fetch and check the result,
acknowledge) and the provider's (register, start, sign and deliver, settle).

The result is stored on Storage v2-encrypted to the user's public key (recovered from the signature of the
user's createTask transaction), so only the user opens it. The provider's signer signs an EIP-712 Delivery of
(task, user, dataset root, model root, keccak256 of the plaintext result, tokens); the contract checks that
signature, and the user's client checks the decrypted result against the signed hash before it acknowledges.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

import httpx
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt

from zerog.auth import Domain, StructType, recover_typed, sign_typed
from zerog.chain import ContractClient
from zerog.compute.contracts import FINE_TUNING, LEDGER
from zerog.compute.finetune_data import (
    DatasetError,
    HyperparameterError,
    estimate_fee,
    parse_dataset,
    parse_hyperparameters,
)
from zerog.errors import ConfigError, ZeroGError
from zerog.sealing import public_key_of_transaction
from zerog.storage.client import Node, download, file_info, read_range
from zerog.storage.encryption import ECIES_HEADER_SIZE, Decryptor, EncryptionError, Header
from zerog.storage.merkle import keccak256

DOMAIN_NAME = "0G FineTuningServing"
DOMAIN_VERSION = "1"
DELIVERY_TYPE = StructType(
    "Delivery",
    (
        ("taskId", "uint256"),
        ("user", "address"),
        ("datasetRoot", "bytes32"),
        ("modelRoot", "bytes32"),
        ("modelHash", "bytes32"),
        ("tokens", "uint256"),
    ),
)
#: Services read per getServices call.
SERVICE_PAGE = 50
PROGRESS_TIMEOUT_SECONDS = 5


class FineTuningError(ZeroGError):
    """A fine-tuning operation cannot be done (unknown task, wrong state, bad dataset, wrong result...)."""


class TaskState(IntEnum):
    NONE = 0
    CREATED = 1
    IN_PROGRESS = 2
    DELIVERED = 3
    ACKNOWLEDGED = 4
    SETTLED = 5
    CANCELLED = 6
    TIMED_OUT = 7

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


@dataclass(frozen=True)
class FineTuningService:
    provider: str
    signer: str
    price_per_token: int
    max_dataset_size: int
    max_duration: int
    stake: int
    open_tasks: int
    updated_at: int
    url: str
    model: str

    @classmethod
    def from_tuple(cls, raw: Any) -> FineTuningService:
        provider, signer, price, max_size, max_duration, stake, open_tasks, updated_at, url, model = raw
        return cls(
            provider, signer, int(price), int(max_size), int(max_duration), int(stake), int(open_tasks),
            int(updated_at), url, model,
        )  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "signer": self.signer,
            "pricePerToken": str(self.price_per_token),
            "maxDatasetSize": self.max_dataset_size,
            "maxDuration": self.max_duration,
            "stake": str(self.stake),
            "openTasks": self.open_tasks,
            "url": self.url,
            "model": self.model,
        }


@dataclass(frozen=True)
class Task:
    id: int
    user: str
    provider: str
    state: TaskState
    created_at: int
    deadline: int
    delivered_at: int
    price_per_token: int
    fee_cap: int
    tokens: int
    fee: int
    dataset_root: str
    hyperparameters_hash: str
    model_root: str
    model_hash: str

    @classmethod
    def from_tuple(cls, task_id: int, raw: Any) -> Task:
        (user, provider, state, created_at, deadline, delivered_at, price, fee_cap, tokens, fee, dataset_root,
         hyper_hash, model_root, model_hash) = raw  # fmt: skip
        hexed = ["0x" + bytes(b).hex() for b in (dataset_root, hyper_hash, model_root, model_hash)]
        return cls(
            task_id, user, provider, TaskState(state), int(created_at), int(deadline), int(delivered_at), int(price),
            int(fee_cap), int(tokens), int(fee), *hexed,
        )  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user": self.user,
            "provider": self.provider,
            "state": self.state.label,
            "createdAt": self.created_at,
            "deadline": self.deadline,
            "deliveredAt": self.delivered_at,
            "pricePerToken": str(self.price_per_token),
            "feeCap": str(self.fee_cap),
            "tokens": self.tokens,
            "fee": str(self.fee),
            "datasetRoot": self.dataset_root,
            "modelRoot": self.model_root if self.state >= TaskState.DELIVERED else None,
            "modelHash": self.model_hash if self.state >= TaskState.DELIVERED else None,
        }


def service_params(
    url: str, model: str, price_per_token: int, max_dataset_size: int, max_duration: int, signer: str
) -> tuple[str, str, int, int, int, str]:
    """The ServiceParams struct for registerService / updateService."""
    return (url, model, price_per_token, max_dataset_size, max_duration, signer)


def _bytes32(value: str) -> bytes:
    raw = bytes.fromhex(value.removeprefix("0x"))
    if len(raw) != 32:
        raise ConfigError(f"{value!r} is not a 32-byte hex root")
    return raw


@dataclass(frozen=True)
class Plan:
    """A task checked before anything is paid: the dataset's size and tokens, the canonical hyperparameters, the
    tokens it will train (at most) and their fee at the service's price."""

    dataset_size: int
    tokens: int
    estimate: int
    base_model: str
    hyperparameters: str


class FineTuning(ContractClient):
    """FineTuningServing (and the Ledger that funds it) for one account: a user or a provider."""

    error = FineTuningError
    component = "fine-tuning"
    contracts = (FINE_TUNING, LEDGER)

    def bind(self) -> None:
        self.contract: Contract = self.deployment.contract(self.w3, FINE_TUNING)
        self.ledger: Contract = self.deployment.contract(self.w3, LEDGER)
        self.domain = Domain(DOMAIN_NAME, DOMAIN_VERSION, self.deployment.chain_id, self.contract.address)
        self.from_block = int(self.deployment.record(FINE_TUNING).get("deployBlock", 0))

    # ------------------------------------------------------------ reading

    def services(self) -> list[FineTuningService]:
        total = int(self.contract.functions.serviceCount().call())
        found: list[FineTuningService] = []
        for offset in range(0, total, SERVICE_PAGE):
            page = self.contract.functions.getServices(offset, SERVICE_PAGE).call()
            found += [FineTuningService.from_tuple(raw) for raw in page]
        return found

    def service(self, provider: str) -> FineTuningService:
        if not Web3.is_address(provider):
            raise ConfigError(f"{provider!r} is not a provider address (0x followed by 40 hex digits)")
        provider = to_checksum_address(provider)
        if not self.contract.functions.isRegistered(provider).call():
            raise FineTuningError(f"{provider} has no fine-tuning service (see `zg compute finetune ls`)")
        return FineTuningService.from_tuple(self.contract.functions.getService(provider).call())

    def task(self, task_id: int) -> Task:
        if not 0 < task_id <= int(self.contract.functions.taskCount().call()):
            raise FineTuningError(f"no fine-tuning task {task_id}")
        return Task.from_tuple(task_id, self.contract.functions.getTask(task_id).call())

    def progress(self, task: Task) -> dict[str, Any] | None:
        """The provider's report of a task it works on (state, step, steps, loss), None if it does not answer."""
        url = self.service(task.provider).url.rstrip("/")
        try:
            response = httpx.get(f"{url}/v1/fine-tuning/tasks/{task.id}", timeout=PROGRESS_TIMEOUT_SECONDS)
        except httpx.HTTPError:
            return None
        return response.json() if response.status_code == 200 else None

    def ledger_balance(self, user: str | None = None) -> int:
        return int(self.ledger.functions.balanceOf(user or self.address).call())

    # ------------------------------------------------------------ the user

    def read_dataset(self, root: str, nodes: list[Node], max_size: int) -> bytes:
        """The dataset's bytes, every segment proof-checked; FineTuningError if it is not stored or too large."""
        try:
            size = int(file_info(nodes, root)["tx"]["size"])
        except ZeroGError as exc:
            raise FineTuningError(f"dataset {root}: {exc.message}") from exc
        if size > max_size:
            raise FineTuningError(f"dataset {root} is {size} bytes, over the service's limit of {max_size} bytes")
        return read_range(root, nodes, 0, size)

    def plan(
        self,
        service: FineTuningService,
        dataset_root: str,
        nodes: list[Node],
        hyperparameters: dict[str, Any],
        base_model: str | None = None,
    ) -> Plan:
        """Reads the dataset from Storage (proof-checked) and validates it and the hyperparameters the way the
        provider will; FineTuningError before any money moves otherwise."""
        base = base_model or service.model
        if base != service.model:
            raise FineTuningError(f"{service.provider} fine-tunes {service.model}, not {base}")
        try:
            hyper = parse_hyperparameters(json.dumps(hyperparameters))
            data = self.read_dataset(dataset_root, nodes, service.max_dataset_size)
            dataset = parse_dataset(data, service.max_dataset_size)
        except (DatasetError, HyperparameterError) as exc:
            raise FineTuningError(f"{exc.message}: nothing was paid") from exc
        tokens = dataset.tokens_per_epoch * hyper.epochs
        estimate = estimate_fee(dataset, hyper.epochs, service.price_per_token)
        return Plan(len(data), tokens, estimate, base, hyper.to_json())

    def create(
        self, provider: str, dataset_root: str, dataset_size: int, base_model: str, hyperparameters: str, fee_cap: int
    ) -> tuple[int, TxReceipt]:
        """Creates the task (its fee cap moves from the Ledger balance into the contract); returns its id."""
        balance = self.ledger_balance()
        if balance < fee_cap:
            raise FineTuningError(
                f"the fee cap {fee_cap} wei is more than your ledger balance ({balance} wei): `zg compute deposit`"
            )
        params = (
            to_checksum_address(provider),
            _bytes32(dataset_root),
            dataset_size,
            base_model,
            hyperparameters,
            fee_cap,
        )
        receipt = self._send(self.contract.functions.createTask(params))
        # The receipt also holds the Ledger's FundReserved: only our event is decoded.
        (event,) = self.contract.events.TaskCreated().process_receipt(receipt, errors=DISCARD)
        return int(event["args"]["taskId"]), receipt

    def cancel(self, task_id: int) -> TxReceipt:
        return self._send(self.contract.functions.cancel(task_id))

    def acknowledge(self, task_id: int) -> TxReceipt:
        return self._send(self.contract.functions.acknowledge(task_id))

    def delivery_signer(self, task: Task) -> str:
        """Who signed the task's Delivery statement, recovered here from the deliver transaction's own input
        (the contract checked it too, against the service's signer then)."""
        logs = self.contract.events.TaskDelivered().get_logs(
            from_block=self.from_block, argument_filters={"taskId": task.id}
        )
        if not logs:
            raise FineTuningError(f"task {task.id} has no TaskDelivered event")
        tx = self.w3.eth.get_transaction(logs[-1]["transactionHash"])
        _, args = self.contract.decode_function_input(tx["input"])
        message = {
            "taskId": task.id, "user": task.user, "datasetRoot": task.dataset_root, "modelRoot": task.model_root,
            "modelHash": task.model_hash, "tokens": task.tokens,
        }  # fmt: skip
        return recover_typed(self.domain, DELIVERY_TYPE, message, bytes(args["signature"]))

    def fetch_result(self, task: Task, out: Path, nodes: list[Node], *, overwrite: bool = False) -> None:
        """Downloads the delivered result (proof-checked), checks that the provider's signer signed its delivery,
        decrypts it with this account's key and checks it against the signed hash; nothing is written unless all
        of it holds."""
        if task.state < TaskState.DELIVERED or task.state in (TaskState.CANCELLED, TaskState.TIMED_OUT):
            raise FineTuningError(f"task {task.id} is {task.state.label}: there is no result to get")
        if to_checksum_address(task.user) != self.address:
            raise FineTuningError(f"task {task.id} is {task.user}'s: only its user can open the result")
        if out.exists() and not overwrite:
            raise FineTuningError(f"{out} exists (pass overwrite to replace it)")
        signer = self.delivery_signer(task)
        if signer != to_checksum_address(self.service(task.provider).signer):
            raise FineTuningError(f"task {task.id}'s delivery is signed by {signer}, not by its service's signer")
        try:
            header = Header.parse(read_range(task.model_root, nodes, 0, ECIES_HEADER_SIZE))
            decryptor = Decryptor.for_header(header, private_key=bytes(self.account.key))
        except EncryptionError as exc:
            raise FineTuningError(f"task {task.id}'s result is not encrypted to you as it must be: {exc}") from exc
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, staged = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
        os.close(fd)
        try:
            download(task.model_root, Path(staged), nodes, overwrite=True, decryptor=decryptor)
            if "0x" + keccak256(Path(staged).read_bytes()).hex() != task.model_hash:
                raise FineTuningError(
                    f"task {task.id}'s result does not match the hash its provider signed (wrong key or tampered)"
                )
            os.replace(staged, out)
        finally:
            if os.path.exists(staged):
                os.unlink(staged)

    # ------------------------------------------------------------ the provider

    def register(self, params: tuple[Any, ...], stake: int) -> TxReceipt:
        return self._send(self.contract.functions.registerService(params), value=stake)

    def update(self, params: tuple[Any, ...], stake: int = 0) -> TxReceipt:
        return self._send(self.contract.functions.updateService(params), value=stake)

    def user_public_key(self, task_id: int) -> bytes:
        """The task user's public key, from the signature of its createTask transaction."""
        logs = self.contract.events.TaskCreated().get_logs(
            from_block=self.from_block, argument_filters={"taskId": task_id}
        )
        if not logs:
            raise FineTuningError(f"no TaskCreated event for task {task_id}")
        return public_key_of_transaction(self.w3.eth.get_transaction(logs[-1]["transactionHash"]))

    def delivery_signature(
        self, signer: LocalAccount, task: Task, model_root: str, model_hash: bytes, tokens: int
    ) -> bytes:
        message = {
            "taskId": task.id,
            "user": task.user,
            "datasetRoot": task.dataset_root,
            "modelRoot": model_root,
            "modelHash": model_hash,
            "tokens": tokens,
        }
        return sign_typed(signer, self.domain, DELIVERY_TYPE, message)

    def start(self, task_id: int) -> TxReceipt:
        return self._send(self.contract.functions.start(task_id))

    def refuse(self, task_id: int) -> TxReceipt:
        return self._send(self.contract.functions.refuse(task_id))

    def deliver(self, task_id: int, model_root: str, model_hash: bytes, tokens: int, signature: bytes) -> TxReceipt:
        return self._send(self.contract.functions.deliver(task_id, _bytes32(model_root), model_hash, tokens, signature))

    def settle(self, task_id: int) -> TxReceipt:
        return self._send(self.contract.functions.settle(task_id))

    def claim_timeout(self, task_id: int) -> TxReceipt:
        return self._send(self.contract.functions.claimTimeout(task_id))

    def withdraw_earnings(self) -> TxReceipt:
        return self._send(self.contract.functions.withdrawEarnings())
