"""`zg storage`: file roots, uploads and proof-checked downloads on 0G storage."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

from zerog.cli.context import CliContext, pass_cli
from zerog.cli.daemons import setting, start_command
from zerog.storage.fragments import DEFAULT_FRAGMENT_SIZE
from zerog.storage.settings import StorageSettings


@click.group()
def storage() -> None:
    """0G storage: roots, upload, download, file info."""


node_option = click.option(
    "--node", "node_urls", multiple=True, help="Storage node URL (repeatable); default: the indexer's nodes."
)


def storage_nodes(ctx: CliContext, node_urls: tuple[str, ...]) -> list:
    from zerog.storage.client import connect_nodes, covering_set, nodes_from_indexer

    if node_urls:
        return covering_set(connect_nodes(list(node_urls)))
    return nodes_from_indexer(ctx.load(StorageSettings).indexer_url)


@contextmanager
def progress_bar(ctx: CliContext, label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr (none with --json); yields the advance callback."""
    if ctx.as_json:
        yield lambda _: None
        return
    columns = ["{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn()]
    with Progress(*columns, console=ctx.console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda amount: bar.advance(task, amount)


@storage.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_cli
def root(ctx: CliContext, file: Path) -> None:
    """Print the 0x merkle root of FILE (identical to the official SDK's)."""
    from zerog.storage.merkle import FileTree

    try:
        tree = FileTree.from_path(file)
    except ValueError as exc:
        raise click.ClickException(f"{file}: {exc}") from exc
    ctx.emit({"root": tree.root_hex, "size": tree.size}, tree.root_hex)


@storage.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tags", default="0x", help="Hex tags stored with the submission.")
@click.option("--encrypt-to", metavar="PUBKEY", help="Encrypt for this secp256k1 public key (v2, ECIES; hex).")
@click.option("--encrypt-key", metavar="HEX32", help="Encrypt with this 32-byte AES-256 key (v1; hex).")
@click.option(
    "--fragment-size",
    type=click.IntRange(min=1),
    default=DEFAULT_FRAGMENT_SIZE,
    show_default=True,
    help="Split a larger FILE into fragments of this many bytes (rounded up to a power of two), one root each.",
)
@node_option
@pass_cli
def upload(
    ctx: CliContext,
    file: Path,
    tags: str,
    encrypt_to: str | None,
    encrypt_key: str | None,
    fragment_size: int,
    node_urls: tuple[str, ...],
) -> None:
    """Pay for FILE on chain (once, even when retried) and upload it to the storage nodes (encrypted on the fly
    with --encrypt-*)."""
    from zerog.accounts import load_account
    from zerog.chain import Deployment, get_web3
    from zerog.storage.client import upload as run
    from zerog.storage.encryption import Encryptor
    from zerog.storage.journal import SubmitJournal

    tag_bytes = hex_bytes(tags, "--tags")
    if encrypt_to and encrypt_key:
        raise click.UsageError("--encrypt-to and --encrypt-key exclude each other")
    encryption = None
    if encrypt_to:
        encryption = Encryptor.ecies(hex_bytes(encrypt_to, "--encrypt-to"))
    elif encrypt_key:
        encryption = Encryptor.symmetric(hex_bytes(encrypt_key, "--encrypt-key"))
    size = file.stat().st_size
    if size == 0:
        raise click.ClickException(f"{file} is empty: 0G storage cannot hold an empty file")
    if encryption is not None:
        size = encryption.stream_size(size)
    settings = ctx.settings
    w3 = get_web3(settings)
    deployment = Deployment.for_settings(settings, w3.eth.chain_id)
    nodes = storage_nodes(ctx, node_urls)
    journal = SubmitJournal.in_data_dir(settings.data_dir, deployment)
    with progress_bar(ctx, f"uploading {file.name}", size) as advance:
        result = run(
            file, nodes, w3, load_account(settings), deployment, tags=tag_bytes, progress=advance,
            journal=journal, fragment_size=fragment_size, encryption=encryption,
        )  # fmt: skip
    tx = result.tx_hash or "none (already stored or paid)"
    roots = ",".join(result.roots)
    fragments = [{"root": f.root, "offset": f.offset, "size": f.size, "txSeq": f.tx_seq} for f in result.fragments]
    data = {"root": roots, "txHash": result.tx_hash, "txSeq": result.tx_seq, "size": result.size}
    data["fragments"] = fragments
    text = f"root {roots}\ntx   {tx} (seq {', '.join(str(f.tx_seq) for f in result.fragments)})"
    if result.header is not None:  # a retry's is the first attempt's, not the one drawn above
        data["encryption"] = result.header.describe()
        text += f"\nencrypted v{result.header.version} ({result.size} bytes stored)"
    if ctx.links is not None:
        data["explorer"] = [ctx.links.storage(root) for root in result.roots]
        text += "\n" + "\n".join(f"view {url}" for url in data["explorer"])
    ctx.emit(data, text)


@storage.command()
@click.argument("root_hash", metavar="ROOT")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="First byte (plaintext with --decrypt*).")
@click.option("--length", type=click.IntRange(min=0), default=None, help="Bytes to fetch (default: to the end).")
@click.option("--decrypt", is_flag=True, help="Decrypt a v2 (ECIES) file with the signer's key (ZG_PRIVATE_KEY).")
@click.option("--decrypt-key", metavar="HEX32", help="Decrypt a v1 file with this 32-byte AES-256 key (hex).")
@node_option
@pass_cli
def download(
    ctx: CliContext,
    root_hash: str,
    out: Path,
    overwrite: bool,
    offset: int,
    length: int | None,
    decrypt: bool,
    decrypt_key: str | None,
    node_urls: tuple[str, ...],
) -> None:
    """Download ROOT (or the fragments ROOT1,ROOT2,... of one file, concatenated) to OUT, checking every
    segment's proof. With --offset/--length only the segments covering that range are fetched; with --decrypt*
    what arrives is decrypted (offsets then count plaintext bytes; the header's segment is fetched too)."""
    from zerog.accounts import load_account
    from zerog.storage.client import download as run
    from zerog.storage.client import head, locate
    from zerog.storage.encryption import ECIES_HEADER_SIZE, Decryptor, Header

    roots = [check_root(r) for r in root_hash.split(",")]
    if decrypt and decrypt_key:
        raise click.UsageError("--decrypt and --decrypt-key exclude each other")
    nodes = storage_nodes(ctx, node_urls)
    size = sum(f.layout.size for f in locate(nodes, roots))
    decryptor = None
    if decrypt or decrypt_key:
        header = Header.parse(head(roots[0], nodes, ECIES_HEADER_SIZE))
        symmetric = hex_bytes(decrypt_key, "--decrypt-key") if decrypt_key else None
        private = bytes(load_account(ctx.settings).key) if decrypt else None
        decryptor = Decryptor.for_header(header, symmetric_key=symmetric, private_key=private)
        size = decryptor.plain_size(size)
    span = max(0, size - offset) if length is None else length
    with progress_bar(ctx, f"downloading {out.name}", span) as advance:
        written = run(
            roots, out, nodes, overwrite=overwrite, progress=advance, offset=offset, length=length,
            decryptor=decryptor,
        )  # fmt: skip
    text = f"wrote {written} bytes to {out} (verified)"
    if decryptor is not None:
        # AES-CTR without a MAC: any key "decrypts"; only the header's version and key type are checked.
        text += f"; decrypted v{decryptor.header.version} (the format cannot tell a wrong key: check the content)"
    data = {"root": ",".join(roots), "path": str(out), "size": written, "offset": offset}
    ctx.emit({**data, "decrypted": decryptor is not None}, text)


@storage.command()
@click.argument("root_hash", metavar="ROOT")
@node_option
@pass_cli
def peek(ctx: CliContext, root_hash: str, node_urls: tuple[str, ...]) -> None:
    """Whether ROOT is encrypted, and how, from its first segment only."""
    from zerog.storage.client import head
    from zerog.storage.encryption import ECIES_HEADER_SIZE, ECIES_VERSION, EncryptionError, Header

    root_hash = check_root(root_hash)
    first = head(root_hash, storage_nodes(ctx, node_urls), ECIES_HEADER_SIZE)
    try:
        header = Header.parse(first)
    except EncryptionError as exc:
        ctx.emit({"root": root_hash, "encrypted": False, "reason": str(exc)}, f"not encrypted: {exc}")
        return
    described = header.describe()
    if header.version == ECIES_VERSION:
        text = "encrypted v2 (ECIES secp256k1, AES-256-CTR): zg storage download --decrypt"
        text += f"\nephemeral key {described['ephemeralKey']}"
    else:
        # Any plain file starting with byte 0x01 reads the same: the format has no magic number.
        text = "encrypted v1 (AES-256-CTR, symmetric key; or plain data starting with 0x01): --decrypt-key HEX32"
    ctx.emit({"root": root_hash, "encrypted": True, **described}, f"{text}\nnonce {described['nonce']}")


@storage.command()
@click.argument("root_hash", metavar="ROOT")
@node_option
@pass_cli
def info(ctx: CliContext, root_hash: str, node_urls: tuple[str, ...]) -> None:
    """What every storage node (the indexer's, or --node) knows about ROOT: whether it holds the file finalized,
    which of its segments the node's shard keeps, and how many finalized copies each segment has (its replicas)."""
    from zerog.storage.client import connect_nodes, indexer_nodes
    from zerog.storage.merkle import SEGMENT_CHUNKS, SEGMENT_SIZE
    from zerog.storage.rpc import RpcError

    root_hash = check_root(root_hash)
    nodes = connect_nodes(list(node_urls)) if node_urls else indexer_nodes(ctx.load(StorageSettings).indexer_url)
    rows: list[dict[str, Any]] = []
    copies: dict[int, int] = {}  # finalized copies of each segment
    for node in nodes:
        row = {"node": node.url, "shard": f"{node.shard_id}/{node.num_shard}", "info": None, "segments": None}
        try:
            row["info"] = found = node.client.file_info(root_hash)
        except RpcError as exc:
            row["error"] = str(exc)
            found = None
        if found is not None:
            # The file's segments this node's shard keeps (by its own submission of the root: paid twice, the
            # nodes may name different ones).
            first, count = found["tx"]["startEntryIndex"] // SEGMENT_CHUNKS, -(-found["tx"]["size"] // SEGMENT_SIZE)
            row["segments"] = held = [i for i in range(count) if node.holds(first + i)]
            copies = copies or dict.fromkeys(range(count), 0)
            for i in held if found["finalized"] else []:
                copies[i] += 1
        rows.append(row)
    if all(row["info"] is None for row in rows):
        raise click.ClickException(f"file {root_hash} is not known to any storage node")
    lines = []
    for row in rows:
        found, held = row["info"], row["segments"]
        if found is None:
            lines.append(f"{row['node']} (shard {row['shard']}): {row.get('error', 'unknown')}")
            continue
        state = "finalized" if found["finalized"] else "uploading"
        lines.append(
            f"{row['node']} (shard {row['shard']}): {state} size {found['tx']['size']} seq {found['tx']['seq']}, "
            f"stored {found['uploadedSegNum']} of its {len(held)} segments ({_indices(held)})"
        )
    least, most = min(copies.values()), max(copies.values())
    lines.append(f"replicas: {least}-{most} finalized copies of each of its {len(copies)} segments")
    if least == 0:
        lines.append(f"no finalized copy of segments {_indices([i for i, n in copies.items() if not n])}")
    ctx.emit(rows, "\n".join(lines))


def _indices(indices: list[int], shown: int = 8) -> str:
    text = ",".join(map(str, indices[:shown]))
    return f"{text},… ({len(indices)})" if len(indices) > shown else text or "none"


def hex_bytes(value: str, param: str) -> bytes:
    try:
        return bytes.fromhex(value.removeprefix("0x"))
    except ValueError as exc:
        raise click.BadParameter(f"not hex: {value}", param_hint=param) from exc


def check_root(value: str) -> str:
    raw = value.removeprefix("0x")
    if len(raw) != 64 or any(c not in "0123456789abcdefABCDEF" for c in raw):
        raise click.BadParameter(f"not a 32-byte hex root: {value}", param_hint="ROOT")
    return "0x" + raw.lower()


@storage.group()
def node() -> None:
    """Run a storage node."""


node.add_command(
    start_command(
        "services.storage_miner.main:DAEMON",
        "Run a storage node in the foreground: it follows the Flow's submissions, takes segments of its shard and "
        "serves them over the official zgs_* JSON-RPC (port 5678 by default).",
        setting("--shard-id", "storage_shard_id", "This node's shard (segment i is stored if i % N == ID).", type=int),
        setting("--num-shard", "storage_num_shard", "Shards of the flow (a power of two).", type=int),
        setting("--name", "storage_name", "Subdirectory of the data dir for this node's store."),
        setting("--mining/--no-mining", "storage_mining", "Mine with the stored data (PoRA).", is_flag=True),
        setting("--indexer", "storage_indexer_url", "Indexer to join (signed announcements) and learn peers from."),
        setting("--url", "storage_url", "URL others reach this node at (default http://HOST:PORT)."),
        setting("--peers", "storage_peers", "Comma-separated URLs of nodes to replicate from, besides the indexer's."),
    )
)


@storage.group()
def indexer() -> None:
    """Run the storage indexer."""


indexer.add_command(
    start_command(
        "services.storage_miner.indexer.main:DAEMON",
        "Run the indexer in the foreground: the official indexer_* JSON-RPC (port 12345 by default) over the storage "
        "nodes it knows.",
        setting("--nodes", "indexer_nodes", "Comma-separated URLs of storage nodes to list."),
    )
)

from zerog.cli.storage_miner import miner  # noqa: E402 - the mining subgroup lives in its own module

storage.add_command(miner)

from zerog.cli.storage_kv import kv  # noqa: E402 - the KV subgroup lives in its own module

storage.add_command(kv)
