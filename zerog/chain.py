"""Web3 connection, deployment manifest, and sending transactions with readable reverts."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from eth_abi import decode as abi_decode
from eth_account.signers.local import LocalAccount
from eth_utils import function_abi_to_4byte_selector, keccak, to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import (
    BadFunctionCallOutput,
    BlockNotFound,
    ContractCustomError,
    ContractLogicError,
    TimeExhausted,
    Web3RPCError,
)
from web3.types import TxParams, TxReceipt

from zerog.accounts import load_account
from zerog.config import Settings
from zerog.errors import (
    ChainUnavailableError,
    ComponentUnavailableError,
    DeploymentMismatchError,
    DeploymentNotFoundError,
    NetworkMismatchError,
    TransactionError,
    ZeroGError,
)
from zerog.networks import SHARED_INTERFACES, NetworkProfile, shared_abi

#: Head-room over the node's gas estimate, for state that moves between estimate and inclusion.
GAS_MARGIN_PERCENT = 10
#: Selectors of Solidity's own revert data, Error(string) and Panic(uint256): any other names a custom error.
BUILTIN_REVERT_SELECTORS = frozenset({"0x08c379a0", "0x4e487b71"})
RPC_TIMEOUT_SECONDS = 30


def connect(rpc_url: str, check: bool = True) -> Web3:
    """A Web3 over HTTP; with `check`, fail with a clear error when nothing answers."""
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": RPC_TIMEOUT_SECONDS}))
    if check:
        try:
            w3.eth.chain_id  # noqa: B018 - a cheap liveness probe
        except Exception as exc:  # requests/aiohttp raise many kinds; all mean "not reachable"
            raise ChainUnavailableError(
                f"no EVM node answers at {rpc_url} (start one with `zg up` or `zg chain start`)"
            ) from exc
    return w3


def get_web3(settings: Settings) -> Web3:
    """A Web3 on the settings' RPC, which must serve the settings' network."""
    w3 = connect(settings.rpc_url)
    check_chain_id(settings, w3.eth.chain_id)
    return w3


def check_chain_id(settings: Settings, chain_id: int) -> None:
    """A network profile names its chain: an RPC that answers another chain id is refused before anything is sent
    (the local network takes the chain its RPC serves)."""
    if (profile := settings.profile) is not None and chain_id != settings.chain_id:
        raise NetworkMismatchError(
            f"network {profile.label} is chain {settings.chain_id}, but {settings.rpc_url} answers chain id "
            f"{chain_id}: the RPC URL or the profile is wrong"
        )


# ---------------------------------------------------------------- custom errors


@dataclass(frozen=True)
class _ErrorSpec:
    name: str
    arg_names: tuple[str, ...]
    arg_types: tuple[str, ...]


@dataclass
class ErrorDecoder:
    """Turns revert data into `Name(arg=value, ...)` using every error in the given ABIs."""

    _specs: dict[bytes, _ErrorSpec] = field(default_factory=dict)

    @classmethod
    def from_abis(cls, abis: Iterable[list[dict[str, Any]]]) -> ErrorDecoder:
        decoder = cls()
        for abi in abis:
            for item in abi:
                if item.get("type") == "error":
                    spec = _ErrorSpec(
                        item["name"],
                        tuple(i.get("name") or f"arg{n}" for n, i in enumerate(item["inputs"])),
                        tuple(_abi_type(i) for i in item["inputs"]),
                    )
                    decoder._specs[function_abi_to_4byte_selector(item)] = spec
        return decoder

    def decode(self, data: bytes | str | None) -> str | None:
        raw = HexBytes(data) if data else b""
        if len(raw) < 4:
            return None
        if (spec := self._specs.get(bytes(raw[:4]))) is None:
            return None
        try:
            values = abi_decode(list(spec.arg_types), bytes(raw[4:]))
        except Exception:  # malformed revert data: still name the error
            return f"{spec.name}(<undecodable arguments>)"
        args = ", ".join(f"{n}={_show(v)}" for n, v in zip(spec.arg_names, values, strict=True))
        return f"{spec.name}({args})"


def _abi_type(item: dict[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in item["components"])
        return f"({inner}){item['type'][5:]}"
    return item["type"]


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, str) and Web3.is_address(value):
        return to_checksum_address(value)
    return str(value)


# ---------------------------------------------------------------- deployment manifest

#: A source file's license line, as Etherscan's LicenseType reports it.
_SPDX = re.compile(r"SPDX-License-Identifier:\s*([^\s*]+)")


def sources_path(manifest_path: Path) -> Path:
    """The sources bundle beside a manifest: `deployments/<chainId>.sources.json`."""
    return manifest_path.with_suffix(".sources.json")


@dataclass(frozen=True)
class SourcesBundle:
    """A sources bundle `deployments/<chainId>.sources.json`, written by the deploy beside the manifest: the solc
    version, the standard-JSON input that produced the deployed code, and per contract its source path, constructor
    arguments and the keccak of its runtime code on chain; contracts that input does not rebuild are `unverified`."""

    path: Path
    data: dict[str, Any]

    @property
    def compiler_version(self) -> str:
        return str(self.data["compilerVersion"])

    @property
    def standard_input(self) -> dict[str, Any]:
        return self.data["input"]

    def verified(self, name: str) -> bool:
        """True if the published input rebuilds `name`'s code on chain (the deploy checked its metadata hash)."""
        return name in self.data["contracts"]

    def contract(self, name: str) -> dict[str, Any]:
        """`name`'s entry: contractName, sourcePath, address, constructorArguments, runtimeCodeHash."""
        if name in self.data.get("unverified", []):
            raise DeploymentNotFoundError(
                f"{name}'s code on chain was built from other sources or settings than {self.path} publishes "
                "(run `ape compile --force`, then `zg deploy`)"
            )
        try:
            return self.data["contracts"][name]
        except KeyError as exc:
            raise DeploymentNotFoundError(f"contract {name} is not in {self.path}") from exc

    def license(self, name: str) -> str:
        """The SPDX identifier of `name`'s source file, "None" (as Etherscan says) without one."""
        source = self.standard_input["sources"][self.contract(name)["sourcePath"]]["content"]
        found = _SPDX.search(source)
        return found.group(1) if found else "None"


@dataclass
class Deployment:
    """A deployment manifest `deployments/<chainId>.json`: addresses, ABIs, deploy blocks. Or the contracts a network
    profile names (0G's deployment, driven through our interfaces): those are checked on chain before use."""

    path: Path
    data: dict[str, Any]
    profile: NetworkProfile | None = None
    _checked: set[str] = field(default_factory=set, repr=False)

    @classmethod
    def load(cls, path: Path) -> Deployment:
        try:
            return cls(path, json.loads(path.read_text()))
        except FileNotFoundError as exc:
            raise DeploymentNotFoundError(
                f"no deployment manifest at {path} (run `zg deploy` or `ape run deploy`)"
            ) from exc
        except ValueError as exc:
            raise DeploymentNotFoundError(f"deployment manifest {path} is not valid JSON: {exc}") from exc

    @classmethod
    def for_settings(cls, settings: Settings, chain_id: int | None = None) -> Deployment:
        """The settings' network's contracts; `chain_id` is the one its RPC answers."""
        if chain_id is not None:
            check_chain_id(settings, chain_id)
        profile = settings.profile
        if profile is not None and profile.contracts is not None:
            return cls.from_profile(profile)
        return cls.load(settings.manifest_path(chain_id or settings.chain_id))

    @classmethod
    def from_profile(cls, profile: NetworkProfile) -> Deployment:
        contracts = {
            name: {"address": r.address, "abi": shared_abi(name), "deployBlock": r.deploy_block, "source": r.source}
            for name, r in (profile.contracts or {}).items()
        }
        return cls(profile.path, {"chainId": profile.chain_id, "contracts": contracts}, profile)

    @property
    def chain_id(self) -> int:
        return int(self.data["chainId"])

    def record(self, name: str) -> dict[str, Any]:
        try:
            return self.data["contracts"][name]
        except KeyError as exc:
            if self.profile is not None:
                raise ComponentUnavailableError(
                    f"network {self.profile.name} does not run our {name} contract (its profile: {self.path})"
                ) from exc
            raise DeploymentNotFoundError(f"contract {name} is not in {self.path}") from exc

    def require(self, component: str, names: Collection[str]) -> None:
        """Refuses `component` before any transaction if this network does not run the contracts of ours it needs."""
        if self.profile is not None:
            self.profile.require(component, names)

    def address(self, name: str) -> str:
        return to_checksum_address(self.record(name)["address"])

    def abi(self, name: str) -> list[dict[str, Any]]:
        """`name`'s ABI: a network profile need not name a shared contract it reaches through another (the market)."""
        if self.profile is not None and name not in self.data["contracts"] and name in SHARED_INTERFACES:
            return shared_abi(name)
        return self.record(name)["abi"]

    def contract(self, w3: Web3, name: str) -> Contract:
        """`name` on `w3`; a network profile's contract must have code there (checked once)."""
        record = self.record(name)
        contract = w3.eth.contract(address=to_checksum_address(record["address"]), abi=record["abi"])
        if self.profile is not None and name not in self._checked:
            if not w3.eth.get_code(contract.address):
                raise NetworkMismatchError(
                    f"network {self.profile.name}: no code at {contract.address}, its {name} (eth_getCode is empty; "
                    f"address from {record['source'] or self.path}): stale, mistyped, or another network's"
                )
            self._checked.add(name)
        return contract

    def probe(self, contract: Contract, name: str, function: str) -> Any:
        """`contract.function()`, a view without arguments. On a network profile's contract, a call that fails means
        the address holds no `name` of our interface, and is reported as that check."""
        try:
            return getattr(contract.functions, function)().call()
        except (ContractLogicError, BadFunctionCallOutput) as exc:
            if self.profile is None:
                raise
            source = self.data["contracts"].get(name, {}).get("source") or self.path
            raise NetworkMismatchError(
                f"network {self.profile.name}: {name} at {contract.address} does not answer {function}() ({exc}); "
                f"address from {source}: not a {name} of our interface"
            ) from exc

    def error_decoder(self) -> ErrorDecoder:
        return ErrorDecoder.from_abis(c["abi"] for c in self.data.get("contracts", {}).values())

    def name_at(self, address: str) -> str | None:
        """The contract deployed at `address`, None if none of ours is."""
        wanted = address.lower()
        return next((n for n, c in self.data.get("contracts", {}).items() if c["address"].lower() == wanted), None)

    def check_on_chain(self, w3: Web3, names: Iterable[str]) -> None:
        """DeploymentMismatchError unless the chain behind `w3` is the manifest's and holds, at the address of each
        of `names`, that contract's code: its runtime code hash from the sources bundle when there is one, else any
        code, deployed in the block the manifest names (a wiped or replaced dev chain fails one of these)."""
        rpc = getattr(w3.provider, "endpoint_uri", "the RPC URL")
        if (chain_id := w3.eth.chain_id) != self.chain_id:
            raise DeploymentMismatchError(
                f"the chain at {rpc} has chain id {chain_id}, but {self.path} is for chain {self.chain_id}: "
                "point ZG_RPC_URL at that chain or deploy to this one (`zg deploy`)"
            )
        bundle = self.sources()
        for name in names:
            record, address = self.record(name), self.address(name)
            code = bytes(w3.eth.get_code(address))
            if not code:
                raise DeploymentMismatchError(
                    f"no contract at {address} on the chain at {rpc}, where {self.path} has {name}: the chain was "
                    "wiped or replaced since that deploy (run `zg deploy`) or the manifest is another network's"
                )
            if bundle is not None and bundle.verified(name):
                expected = bundle.contract(name)["runtimeCodeHash"]
                if (found := "0x" + keccak(code).hex()) != expected:
                    raise DeploymentMismatchError(
                        f"the code at {address} is not the {name} of {self.path} (runtime code hash {found}, "
                        f"expected {expected}): another contract lives there; run `zg deploy`"
                    )
            if (block_hash := record.get("deployBlockHash")) is not None:
                try:
                    found_hash = w3.eth.get_block(int(record["deployBlock"]))["hash"].to_0x_hex()
                except BlockNotFound:  # a younger chain
                    found_hash = None
                if found_hash != block_hash:
                    raise DeploymentMismatchError(
                        f"block {record['deployBlock']} of the chain at {rpc} is not the block {name} was deployed "
                        f"in according to {self.path}: the chain was replaced since; run `zg deploy`"
                    )

    def sources(self) -> SourcesBundle | None:
        """The sources bundle beside the manifest, None when the deploy wrote none (a manifest from before bundles:
        rerun `zg deploy`, which adds one without redeploying)."""
        path = sources_path(self.path)
        try:
            return SourcesBundle(path, json.loads(path.read_text()))
        except FileNotFoundError:
            return None
        except ValueError as exc:
            raise DeploymentNotFoundError(f"sources bundle {path} is not valid JSON: {exc}") from exc

    def etherscan_source(self, name: str) -> dict[str, str]:
        """`name` as one result of Etherscan's `module=contract&action=getsourcecode`: the standard-JSON input in
        double braces (Etherscan's form for multi-file sources), compiler settings and constructor arguments."""
        if (bundle := self.sources()) is None:
            raise DeploymentNotFoundError(f"no sources bundle beside {self.path} (rerun `zg deploy` to write one)")
        contract, settings = bundle.contract(name), bundle.standard_input["settings"]
        optimizer = settings.get("optimizer", {})
        return {
            "SourceCode": "{" + json.dumps(bundle.standard_input) + "}",
            "ABI": json.dumps(self.record(name)["abi"]),
            "ContractName": name,
            "CompilerVersion": bundle.compiler_version,
            "OptimizationUsed": "1" if optimizer.get("enabled") else "0",
            "Runs": str(optimizer.get("runs", 200)),
            "ConstructorArguments": contract["constructorArguments"].removeprefix("0x"),
            "EVMVersion": settings.get("evmVersion", "Default"),
            "Library": "",
            "LicenseType": bundle.license(name),
            "Proxy": "0",
            "Implementation": "",
            "SwarmSource": "",
        }


# ---------------------------------------------------------------- transactions

_nonce_locks: dict[str, threading.Lock] = {}
_nonce_locks_guard = threading.Lock()


def _nonce_lock(address: str) -> threading.Lock:
    with _nonce_locks_guard:
        return _nonce_locks.setdefault(address, threading.Lock())


def _revert_data(exc: ContractLogicError) -> str | None:
    """The revert data (hex): bare from geth and anvil, in an object beside the node's own message from Hardhat."""
    data = exc.data.get("data") if isinstance(exc.data, dict) else exc.data
    return data if isinstance(data, str) and data.startswith("0x") else None


def revert_reason(exc: Exception, decoder: ErrorDecoder | None) -> str:
    """A readable reason for a reverted call: decoded custom error, revert string or panic."""
    if not isinstance(exc, ContractLogicError):
        return str(exc)
    data = _revert_data(exc)
    # web3 sees a custom error only in bare revert data; Hardhat's nested data comes as a plain logic error.
    custom = data is not None and len(data) >= 10 and data[:10].lower() not in BUILTIN_REVERT_SELECTORS
    if isinstance(exc, ContractCustomError) or custom:
        data = data or exc.message
        if decoder and (decoded := decoder.decode(data)):
            return decoded
        return f"unknown custom error {data}"
    return str(exc.message or exc)


def send_transaction(
    w3: Web3,
    account: LocalAccount,
    call: ContractFunction | TxParams,
    *,
    value: int = 0,
    decoder: ErrorDecoder | None = None,
    timeout: float = 120,
    gas_reserve: int = 0,
    on_sent: Callable[[str], None] | None = None,
) -> TxReceipt:
    """Estimate, sign (EIP-1559), send and wait; reverts become TransactionError with the decoded reason.
    `gas_reserve` is added to the estimate for work the landing block may add (unused gas is not charged);
    `on_sent(tx hash)` runs once the transaction is out, before its receipt."""
    params: TxParams = {"from": account.address, "value": value, "chainId": w3.eth.chain_id}
    with _nonce_lock(account.address):
        try:
            if isinstance(call, ContractFunction):
                tx = call.build_transaction(params)
            else:
                tx = {**params, **call}
                if "gas" not in tx:  # not setdefault: a given gas limit skips the estimate (and its revert check)
                    tx["gas"] = w3.eth.estimate_gas(tx)
        except (ContractLogicError, ContractCustomError) as exc:
            reason = revert_reason(exc, decoder)
            raise TransactionError(f"transaction would revert: {reason}", reason=reason) from exc
        tx["gas"] = int(tx["gas"]) * (100 + GAS_MARGIN_PERCENT) // 100 + gas_reserve
        if "maxFeePerGas" not in tx and "gasPrice" not in tx:
            tx["maxPriorityFeePerGas"] = w3.eth.max_priority_fee
            tx["maxFeePerGas"] = 2 * w3.eth.get_block("latest")["baseFeePerGas"] + tx["maxPriorityFeePerGas"]
        tx["nonce"] = w3.eth.get_transaction_count(account.address, "pending")
        signed = account.sign_transaction(tx)
        try:
            tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
        except Web3RPCError as exc:
            if not _mined_anyway(exc, signed.hash):
                raise
            tx_hash = signed.hash
    if on_sent is not None:
        on_sent(tx_hash.to_0x_hex())
    try:
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout, poll_latency=0.1)
    except TimeExhausted as exc:
        raise TransactionError(
            f"no receipt for {tx_hash.to_0x_hex()} after {timeout}s", tx_hash=tx_hash.to_0x_hex()
        ) from exc
    if receipt["status"] != 1:
        reason = _replay_reason(w3, tx, receipt["blockNumber"], decoder)
        raise TransactionError(
            f"transaction {tx_hash.to_0x_hex()} reverted: {reason}", reason=reason, tx_hash=tx_hash.to_0x_hex()
        )
    return receipt


def _mined_anyway(exc: Web3RPCError, tx_hash: HexBytes) -> bool:
    """Hardhat's automine fails the send of a transaction that reverts in the block it is mined in, naming it in
    the error, where other nodes return its hash: that transaction is on chain, its receipt tells the rest."""
    error = (exc.rpc_response or {}).get("error")
    data = error.get("data") if isinstance(error, dict) else None
    return isinstance(data, dict) and str(data.get("txHash", "")).lower() == tx_hash.to_0x_hex()


def _replay_reason(w3: Web3, tx: TxParams, block: int, decoder: ErrorDecoder | None) -> str:
    call = {k: v for k, v in tx.items() if k in ("from", "to", "value", "data", "gas")}
    try:
        w3.eth.call(call, block)
    except (ContractLogicError, ContractCustomError) as exc:
        return revert_reason(exc, decoder)
    return "reverted (no reason given)"


class ContractClient:
    """The contracts of one deployment, used by one account; its key is loaded on first use, so reading needs none.
    The SDK's component clients (compute, marketplace) stand on it."""

    #: What a read that reverts raises: the component's own error.
    error: type[ZeroGError] = ZeroGError
    #: The component and the contracts it needs: refused on a network that does not run them.
    component: ClassVar[str] = ""
    contracts: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        settings: Settings,
        account: LocalAccount | None = None,
        *,
        w3: Web3 | None = None,
        deployment: Deployment | None = None,
    ) -> None:
        self.settings = settings
        self.w3 = w3 or get_web3(settings)
        self.deployment = deployment or Deployment.for_settings(settings, self.w3.eth.chain_id)
        self.deployment.require(self.component, self.contracts)
        self.decoder: ErrorDecoder = self.deployment.error_decoder()
        self._account = account
        self.bind()

    def bind(self) -> None:
        """Sets up the component's contracts (self.deployment and self.w3 are there)."""

    @property
    def account(self) -> LocalAccount:
        if self._account is None:
            self._account = load_account(self.settings)
        return self._account

    @property
    def address(self) -> str:
        return str(self.account.address)

    def _send(self, call: Any, value: int = 0) -> TxReceipt:
        return send_transaction(
            self.w3, self.account, call, value=value, decoder=self.decoder, timeout=self.settings.tx_timeout
        )

    def _call(self, fn: Any) -> Any:
        try:
            return fn.call()
        except (ContractCustomError, ContractLogicError) as exc:
            raise self.error(revert_reason(exc, self.decoder)) from exc
