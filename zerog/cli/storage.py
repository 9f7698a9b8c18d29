"""`zg storage`: file roots, uploads and proof-checked downloads on 0G storage."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

from zerog.cli.context import CliContext, pass_cli
from zerog.storage.fragments import DEFAULT_FRAGMENT_SIZE
from zerog.storage.settings import StorageSettings


@click.group()
def storage() -> None:
    """0G storage: roots, upload, download, file info."""


node_option = click.option(
    "--node", "node_urls", multiple=True, help="Storage node URL (repeatable); default: the indexer's nodes."
)


def _nodes(ctx: CliContext, node_urls: tuple[str, ...]) -> list:
    from zerog.storage.client import connect_nodes, covering_set, nodes_from_indexer

    if node_urls:
        return covering_set(connect_nodes(list(node_urls)))
    return nodes_from_indexer(ctx.load(StorageSettings).indexer_url)


@contextmanager
def _bar(ctx: CliContext, label: str, total: int) -> Iterator[Callable[[int], None]]:
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
@click.option(
    "--fragment-size",
    type=click.IntRange(min=1),
    default=DEFAULT_FRAGMENT_SIZE,
    show_default=True,
    help="Split a larger FILE into fragments of this many bytes (rounded up to a power of two), one root each.",
)
@node_option
@pass_cli
def upload(ctx: CliContext, file: Path, tags: str, fragment_size: int, node_urls: tuple[str, ...]) -> None:
    """Pay for FILE on chain (once, even when retried) and upload it to the storage nodes."""
    from zerog.accounts import load_account
    from zerog.chain import Deployment, get_web3
    from zerog.storage.client import upload as run
    from zerog.storage.journal import SubmitJournal

    try:
        tag_bytes = bytes.fromhex(tags.removeprefix("0x"))
    except ValueError as exc:
        raise click.BadParameter(f"not hex: {tags}", param_hint="--tags") from exc
    size = file.stat().st_size
    if size == 0:
        raise click.ClickException(f"{file} is empty: 0G storage cannot hold an empty file")
    settings = ctx.settings
    w3 = get_web3(settings)
    deployment = Deployment.for_settings(settings, w3.eth.chain_id)
    nodes = _nodes(ctx, node_urls)
    journal = SubmitJournal.in_data_dir(settings.data_dir, deployment)
    with _bar(ctx, f"uploading {file.name}", size) as advance:
        result = run(
            file, nodes, w3, load_account(settings), deployment,
            tags=tag_bytes, progress=advance, journal=journal, fragment_size=fragment_size,
        )  # fmt: skip
    tx = result.tx_hash or "none (already stored or paid)"
    roots = ",".join(result.roots)
    fragments = [{"root": f.root, "offset": f.offset, "size": f.size, "txSeq": f.tx_seq} for f in result.fragments]
    ctx.emit(
        {"root": roots, "txHash": result.tx_hash, "txSeq": result.tx_seq, "size": result.size, "fragments": fragments},
        f"root {roots}\ntx   {tx} (seq {', '.join(str(f.tx_seq) for f in result.fragments)})",
    )


@storage.command()
@click.argument("root_hash", metavar="ROOT")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="First byte to fetch.")
@click.option("--length", type=click.IntRange(min=0), default=None, help="Bytes to fetch (default: to the end).")
@node_option
@pass_cli
def download(
    ctx: CliContext, root_hash: str, out: Path, overwrite: bool, offset: int, length: int | None,
    node_urls: tuple[str, ...],
) -> None:  # fmt: skip
    """Download ROOT (or the fragments ROOT1,ROOT2,... of one file, concatenated) to OUT, checking every
    segment's proof. With --offset/--length only the segments covering that range are fetched."""
    from zerog.storage.client import download as run
    from zerog.storage.client import locate

    roots = [_check_root(r) for r in root_hash.split(",")]
    nodes = _nodes(ctx, node_urls)
    size = sum(f.layout.size for f in locate(nodes, roots))
    span = max(0, size - offset) if length is None else length
    with _bar(ctx, f"downloading {out.name}", span) as advance:
        written = run(roots, out, nodes, overwrite=overwrite, progress=advance, offset=offset, length=length)
    ctx.emit(
        {"root": ",".join(roots), "path": str(out), "size": written, "offset": offset},
        f"wrote {written} bytes to {out} (verified)",
    )


@storage.command()
@click.argument("root_hash", metavar="ROOT")
@node_option
@pass_cli
def info(ctx: CliContext, root_hash: str, node_urls: tuple[str, ...]) -> None:
    """What the storage nodes know about ROOT."""
    root_hash = _check_root(root_hash)
    rows = []
    for node in _nodes(ctx, node_urls):
        found = node.client.file_info(root_hash)
        rows.append({"node": node.url, "shard": f"{node.shard_id}/{node.num_shard}", "info": found})
    if all(row["info"] is None for row in rows):
        raise click.ClickException(f"file {root_hash} is not known to any storage node")
    lines = []
    for row in rows:
        found = row["info"]
        state = "unknown" if found is None else ("finalized" if found["finalized"] else "uploading")
        detail = (
            ""
            if found is None
            else (f" size {found['tx']['size']} seq {found['tx']['seq']} segments {found['uploadedSegNum']}")
        )
        lines.append(f"{row['node']} (shard {row['shard']}): {state}{detail}")
    ctx.emit(rows, "\n".join(lines))


def _check_root(value: str) -> str:
    raw = value.removeprefix("0x")
    if len(raw) != 64 or any(c not in "0123456789abcdefABCDEF" for c in raw):
        raise click.BadParameter(f"not a 32-byte hex root: {value}", param_hint="ROOT")
    return "0x" + raw.lower()


from zerog.cli.storage_miner import miner  # noqa: E402 - the mining subgroup lives in its own module

storage.add_command(miner)
