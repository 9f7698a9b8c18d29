"""`zg storage kv`: KV streams — writes uploaded as the official Batcher's blobs, reads from a KV node."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import click

from zerog.cli.context import CliContext, pass_cli
from zerog.cli.daemons import start_command
from zerog.storage.settings import KVSettings

if TYPE_CHECKING:
    from zerog.storage.kv import KvClient, StreamData

#: How long `put` and `grant` wait for the KV node to replay their transaction.
REPLAY_WAIT_SECONDS = 60
POLL_SECONDS = 0.1


@click.group()
def kv() -> None:
    """KV streams: put, get, list, grant write access."""


def _stream(value: str) -> bytes:
    raw = value.removeprefix("0x")
    try:
        stream = bytes.fromhex(raw)
    except ValueError:
        stream = b""
    if len(stream) != 32:
        raise click.BadParameter(f"not a 32-byte hex stream id: {value}", param_hint="STREAM_ID")
    return stream


def _bytes(value: str, as_hex: bool, what: str) -> bytes:
    if not as_hex:
        return value.encode()
    try:
        return bytes.fromhex(value.removeprefix("0x"))
    except ValueError as exc:
        raise click.BadParameter(f"not hex: {value}", param_hint=what) from exc


def _show(raw: bytes, as_hex: bool) -> str:
    if as_hex:
        return "0x" + raw.hex()
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return "0x" + raw.hex()


def _client(ctx: CliContext) -> KvClient:
    from zerog.storage.kv import KvClient

    return KvClient(ctx.load(KVSettings).kv_url)


def _write(ctx: CliContext, data: StreamData, wait: bool) -> dict:
    """Upload `data`, then (with `wait`) wait for the KV node's result."""
    from zerog.accounts import load_account
    from zerog.chain import Deployment, get_web3
    from zerog.storage.client import nodes_from_indexer
    from zerog.storage.kv import KvError, put
    from zerog.storage.settings import StorageSettings

    settings = ctx.settings
    w3 = get_web3(settings)
    deployment = Deployment.for_settings(settings, w3.eth.chain_id)
    nodes = nodes_from_indexer(ctx.load(StorageSettings).indexer_url)
    try:
        result = put(data, nodes, w3, load_account(settings), deployment)
    except KvError as exc:
        raise click.ClickException(str(exc)) from exc
    out = {"root": result.root, "txHash": result.tx_hash, "txSeq": result.tx_seq, "result": None}
    if wait:
        client = _client(ctx)
        deadline = time.monotonic() + REPLAY_WAIT_SECONDS
        while (outcome := client.transaction_result(result.tx_seq)) is None:
            if time.monotonic() > deadline:
                raise click.ClickException(f"the KV node at {client.url} did not replay tx {result.tx_seq} in time")
            time.sleep(POLL_SECONDS)
        out["result"] = outcome
    return out


def _report(ctx: CliContext, out: dict) -> None:
    outcome = out["result"] or "not waited for"
    ctx.emit(out, f"tx {out['txHash'] or 'none (same blob stored already)'} (seq {out['txSeq']}): {outcome}")
    if out["result"] not in (None, "Commit"):
        raise SystemExit(1)


wait_option = click.option("--wait/--no-wait", default=True, help="Wait for the KV node's result (default: wait).")
hex_option = click.option("--hex", "as_hex", is_flag=True, help="KEY and VALUE are hex, not text.")


@kv.command()
@click.argument("stream_id")
@click.argument("key")
@click.argument("value")
@hex_option
@click.option("--version", type=int, help="Fail (VersionConfliction) if KEY was written after this version.")
@wait_option
@pass_cli
def put(ctx: CliContext, stream_id: str, key: str, value: str, as_hex: bool, version: int | None, wait: bool) -> None:
    """Write VALUE under KEY in the stream (an empty VALUE deletes KEY)."""
    from zerog.storage.kv import LATEST, StreamData

    writes = [(_stream(stream_id), _bytes(key, as_hex, "KEY"), _bytes(value, as_hex, "VALUE"))]
    _report(ctx, _write(ctx, StreamData(LATEST if version is None else version, writes=writes), wait))


@kv.command()
@click.argument("stream_id")
@click.argument("key")
@hex_option
@click.option("--version", type=int, help="Read as of this version (tx seq).")
@pass_cli
def get(ctx: CliContext, stream_id: str, key: str, as_hex: bool, version: int | None) -> None:
    """Print the value of KEY."""
    found = _client(ctx).get_value(_stream(stream_id), _bytes(key, as_hex, "KEY"), version)
    if found is None or not found["size"]:
        raise click.ClickException(f"no value for {key}")
    ctx.emit(
        {"key": key, "value": _show(found["data"], as_hex), "version": found["version"], "size": found["size"]},
        _show(found["data"], as_hex),
    )


@kv.command(name="ls")
@click.argument("stream_id")
@hex_option
@pass_cli
def list_keys(ctx: CliContext, stream_id: str, as_hex: bool) -> None:
    """Every key of the stream with its value and version."""
    rows = [
        {"key": _show(r["key"], as_hex), "value": _show(r["data"], as_hex), "version": r["version"], "size": r["size"]}
        for r in _client(ctx).iterate(_stream(stream_id))
    ]
    ctx.emit(rows, "\n".join(f"{r['key']}\t{r['value']}\t(v{r['version']})" for r in rows) or "(empty)")


@kv.command()
@click.argument("stream_id")
@click.argument("account")
@click.option("--key", help="Make ACCOUNT a writer of this key only (the key becomes special: only its writers).")
@hex_option
@click.option("--revoke", is_flag=True, help="Take the role away instead.")
@wait_option
@pass_cli
def grant(
    ctx: CliContext, stream_id: str, account: str, key: str | None, as_hex: bool, revoke: bool, wait: bool
) -> None:
    """Let ACCOUNT write to the stream (or to one special key); signed by the stream's admin."""
    from zerog.storage.kv import Control, Op, StreamData

    stream = _stream(stream_id)
    who = _bytes(account, True, "ACCOUNT")
    if len(who) != 20:
        raise click.BadParameter(f"not a 20-byte address: {account}", param_hint="ACCOUNT")
    if key is None:
        controls = [Control(Op.REVOKE_WRITER_ROLE if revoke else Op.GRANT_WRITER_ROLE, stream, account=who)]
    else:
        raw = _bytes(key, as_hex, "--key")
        op = Op.REVOKE_SPECIAL_WRITER_ROLE if revoke else Op.GRANT_SPECIAL_WRITER_ROLE
        controls = [Control(op, stream, raw, who)]
        if not revoke:
            controls.insert(0, Control(Op.SET_KEY_TO_SPECIAL, stream, raw))
    _report(ctx, _write(ctx, StreamData(controls=controls), wait))


kv.add_command(
    start_command(
        "services.storage_kv.main:DAEMON",
        "Run the KV node in the foreground: it replays the Flow's KV streams (data fetched through the indexer) and "
        "serves kv_* JSON-RPC (port 6789 by default).",
    )
)
