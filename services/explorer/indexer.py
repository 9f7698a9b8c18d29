"""The block indexer: the shared chain follower (cursor, confirmations, reorg walk-back, outages) fed with whole
blocks — each range fetched as one JSON-RPC batch of blocks with their transactions and receipts, plus the revert
data of the transactions that failed — and written into the explorer's store in the follower's transaction."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3

from services.explorer.decode import AbiDecoder, Decoded, decoded_json
from services.explorer.rpc import UNKNOWN_METHOD_CODES, ChainRpc, RpcCallError
from services.explorer.store import ExplorerStore
from zerog.follower import ChainFollower
from zerog.storage.merkle import root_from_submission_nodes

#: Name of the explorer's cursor in the follower tables.
FOLLOWER_NAME = "explorer-blocks"


@lru_cache(maxsize=65_536)
def checksum(address: str) -> str:
    return to_checksum_address(address)


def _int(value: str | None) -> int:
    return int(value, 16) if value else 0


@dataclass
class FetchedBlock:
    block: dict[str, Any]
    receipts: list[dict[str, Any]]
    # Revert data of the failed transactions, by hash (empty bytes when the node gives none).
    reverts: dict[str, bytes] = field(default_factory=dict)


def _ref(decoded: Decoded) -> str | None:
    """The id a search finds an event by: a stored file's root, a DA blob's data root."""
    if (decoded.contract, decoded.name) == ("Flow", "Submit"):
        nodes = decoded.args.get("submission", {}).get("nodes") or []
        return "0x" + root_from_submission_nodes([(bytes.fromhex(n["root"][2:]), n["height"]) for n in nodes]).hex()
    if decoded.contract == "DAEntrance" and "dataRoot" in decoded.args:
        return decoded.args["dataRoot"]
    return None


def _addresses(value: Any) -> set[str]:
    """The addresses among decoded values (checksummed strings of 42 characters)."""
    if isinstance(value, dict):
        return set().union(*(_addresses(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_addresses(v) for v in value)) if value else set()
    if isinstance(value, str) and len(value) == 42 and value.startswith("0x") and value != value.lower():
        return {value}
    return set()


class BlockIndexer(ChainFollower):
    def __init__(self, w3: Web3, rpc: ChainRpc, store: ExplorerStore, decoder: AbiDecoder, **options: Any) -> None:
        super().__init__(w3, store.conn, FOLLOWER_NAME, store.rollback, lock=store.lock, **options)
        self.rpc = rpc
        self.decoder = decoder
        self._block_receipts = True  # until the node says it has no eth_getBlockReceipts

    # ------------------------------------------------------------ fetch (no writes)

    def fetch(self, first: int, last: int) -> list[FetchedBlock] | None:
        numbers = [hex(n) for n in range(first, last + 1)]
        calls: list[tuple[str, list[Any]]] = [("eth_getBlockByNumber", [n, True]) for n in numbers]
        if self._block_receipts:
            calls += [("eth_getBlockReceipts", [n]) for n in numbers]
        results = self.rpc.batch(calls)
        blocks = results[: len(numbers)]
        for result in blocks:
            if isinstance(result, RpcCallError):
                raise result
            if result is None:  # the node's chain got shorter meanwhile: a reorg, retried after the check
                return None
        receipts = results[len(numbers) :]
        if receipts and isinstance(receipts[0], RpcCallError) and receipts[0].code in UNKNOWN_METHOD_CODES:
            self._block_receipts = False
        if not self._block_receipts:
            receipts = self._receipts_per_tx(blocks)
        fetched = []
        cursor = self.cursor
        parent = cursor.block_hash if cursor else None
        for block, block_receipts in zip(blocks, receipts, strict=True):
            if isinstance(block_receipts, RpcCallError):
                raise block_receipts
            # Blocks and receipts of one chain only: a reorg between two calls of the batch shows here.
            if parent is not None and block["parentHash"] != parent:
                return None
            if len(block_receipts) != len(block["transactions"]) or any(
                r["blockHash"] != block["hash"] for r in block_receipts
            ):
                return None
            parent = block["hash"]
            fetched.append(FetchedBlock(block, block_receipts))
        self._fetch_reverts(fetched)
        return fetched

    def _receipts_per_tx(self, blocks: list[dict[str, Any]]) -> list[Any]:
        """Receipts grouped per block, asked one transaction at a time (in one batch); a block with a failed call
        gets that error, one with a receipt not there yet an empty list (rejected as inconsistent)."""
        hashes = [tx["hash"] for block in blocks for tx in block["transactions"]]
        flat = iter(self.rpc.batch([("eth_getTransactionReceipt", [h]) for h in hashes]))
        grouped: list[Any] = []
        for block in blocks:
            receipts = [next(flat) for _ in block["transactions"]]
            errors = [r for r in receipts if isinstance(r, RpcCallError)]
            grouped.append(errors[0] if errors else [r for r in receipts if r is not None])
        return grouped

    def _fetch_reverts(self, fetched: list[FetchedBlock]) -> None:
        """Revert data of failed transactions: the node's call trace, or else the call replayed on the parent block
        (exact when it was the block's first transaction, as on a chain that mines one per block)."""
        failed = [
            (item, tx)
            for item in fetched
            for tx, receipt in zip(item.block["transactions"], item.receipts, strict=True)
            if receipt.get("status") == "0x0"
        ]
        if not failed:
            return
        traces = self.rpc.batch(
            [("debug_traceTransaction", [tx["hash"], {"tracer": "callTracer"}]) for _, tx in failed]
        )
        replays = []
        for (item, tx), trace in zip(failed, traces, strict=True):
            if isinstance(trace, dict):
                item.reverts[tx["hash"]] = bytes.fromhex((trace.get("output") or "0x")[2:])
            else:
                replays.append((item, tx))
        if not replays:
            return
        calls = []
        for item, tx in replays:
            call = {k: tx[k] for k in ("from", "to", "input", "value", "gas") if tx.get(k) is not None}
            calls.append(("eth_call", [call, hex(_int(item.block["number"]) - 1)]))
        for (item, tx), result in zip(replays, self.rpc.batch(calls), strict=True):
            data = result.revert_data if isinstance(result, RpcCallError) else None
            item.reverts[tx["hash"]] = data or b""

    # ------------------------------------------------------------ apply (in the follower's transaction)

    def apply(self, conn: sqlite3.Connection, fetched: list[FetchedBlock]) -> int:
        blocks, txs, logs, touched = [], [], [], set()
        for item in fetched:
            block = item.block
            number = _int(block["number"])
            blocks.append(
                (
                    number,
                    block["hash"],
                    block["parentHash"],
                    _int(block["timestamp"]),
                    checksum(block["miner"]),
                    _int(block["gasUsed"]),
                    _int(block["gasLimit"]),
                    str(_int(block["baseFeePerGas"])) if block.get("baseFeePerGas") else None,
                    len(block["transactions"]),
                )
            )
            for tx, receipt in zip(block["transactions"], item.receipts, strict=True):
                index = _int(tx["transactionIndex"])
                sender = checksum(tx["from"])
                to = checksum(tx["to"]) if tx.get("to") else None
                created = checksum(receipt["contractAddress"]) if receipt.get("contractAddress") else None
                data = bytes.fromhex(tx["input"][2:])
                call = self.decoder.call(to, data)
                status = _int(receipt.get("status"))
                error = self.decoder.revert(item.reverts.get(tx["hash"], b"")) if status == 0 else None
                txs.append(
                    (
                        tx["hash"],
                        number,
                        index,
                        sender,
                        to,
                        created,
                        str(_int(tx["value"])),
                        _int(tx["nonce"]),
                        _int(tx["gas"]),
                        str(_int(receipt.get("effectiveGasPrice") or tx.get("gasPrice"))),
                        _int(receipt["gasUsed"]),
                        status,
                        tx["input"],
                        self.decoder.contract_name(to or created),
                        call.name if call else None,
                        json.dumps(call.args) if call else None,
                        (error.text() if error else "reverted without a reason") if status == 0 else None,
                        json.dumps(decoded_json(error)) if error else None,
                    )
                )
                # Whom it concerns: its parties, and the addresses its decoded call and events name.
                involved = {sender} | {a for a in (to, created) if a} | (_addresses(call.args) if call else set())
                for log in receipt["logs"]:
                    address = checksum(log["address"])
                    topics = [bytes.fromhex(t[2:]) for t in log["topics"]]
                    event = self.decoder.event(address, topics, bytes.fromhex(log["data"][2:]))
                    involved.add(address)
                    if event is not None:
                        involved |= _addresses(event.args)
                    logs.append(
                        (
                            number,
                            _int(log["logIndex"]),
                            tx["hash"],
                            address,
                            json.dumps(log["topics"]),
                            log["data"],
                            event.contract if event else None,
                            event.name if event else None,
                            json.dumps(event.args) if event else None,
                            _ref(event) if event else None,
                        )
                    )
                touched |= {(a, number, index, tx["hash"]) for a in involved}
        ExplorerStore.insert(conn, blocks, txs, logs, touched)
        return len(blocks)
