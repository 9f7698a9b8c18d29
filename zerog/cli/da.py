"""`zg da`: make data available (put), read it back (get), a data root's status, the OP alt-DA server and the
gRPC disperser."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from zerog.cli.context import CliContext, pass_cli
from zerog.cli.daemons import setting, start_command
from zerog.da.settings import DASettings

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from zerog.da.client import DAClient
    from zerog.da.contracts import DAContracts


@click.group()
def da() -> None:
    """0G DA: BLS-attested data availability (put, get, status, OP alt-DA server, gRPC disperser)."""


def _client(ctx: CliContext, with_account: bool) -> DAClient:
    from zerog.accounts import load_account
    from zerog.da.client import DAClient

    settings = ctx.load(DASettings)
    return DAClient(settings, load_account(settings) if with_account else None)


def _progress(ctx: CliContext):  # noqa: ANN202 - a click-free callback
    if ctx.as_json:
        return None
    return lambda message: ctx.console.print(f"[dim]…[/dim] {message}", highlight=False)


@da.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_cli
def put(ctx: CliContext, file: Path) -> None:
    """Encode FILE, pay the blob fee, disperse it to the signers and submit their aggregate attestation."""
    size = file.stat().st_size
    limit = ctx.load(DASettings).da_max_blob_size
    if size > limit:  # before reading or paying anything
        raise click.ClickException(
            f"{file} is {size} bytes, over the DA limit of {limit} bytes (ZG_DA_MAX_BLOB_SIZE): nothing was paid"
        )
    with _client(ctx, with_account=True) as client:
        result = client.put(file.read_bytes(), progress=_progress(ctx))
    lines = [f"data root  {result.data_root}", f"epoch      {result.epoch}"]
    if result.already_verified:
        lines.append("status     already available (nothing paid)")
    else:
        signers = [str(i) for i in range(256) if result.signer_bitmap >> i & 1]
        lines.append(f"signers    {', '.join(signers)} ({result.signed_stake} of {result.total_stake} wei of stake)")
        lines.append(f"upload tx  {result.upload_tx or 'none (already paid)'}")
        lines.append(f"verify tx  {result.verify_tx}")
        lines += [f"left out   signer {i}: {why}" for i, why in sorted(result.failures.items())]
    lines.append(f"commitment 0x{result.commitment.hex()}")
    data = result.to_json()
    if ctx.links is not None:
        data["explorer"] = ctx.links.da(result.data_root)
        lines.append(f"view       {data['explorer']}")
    ctx.emit(data, "\n".join(lines))


@da.command()
@click.argument("root", metavar="ROOT")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
@pass_cli
def get(ctx: CliContext, root: str, out: Path, overwrite: bool) -> None:
    """Fetch ROOT's cells from the signers, verify them, recover the data and write it to OUT."""
    from zerog.da.retrieve import parse_root

    raw = parse_root(root)
    if out.exists() and not overwrite:
        raise click.ClickException(f"{out} exists (use --overwrite)")
    with _client(ctx, with_account=False) as client:
        data = client.get(raw, progress=_progress(ctx))
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    ctx.emit(
        {"dataRoot": "0x" + raw.hex(), "path": str(out), "size": len(data)},
        f"wrote {len(data)} bytes to {out} (every cell verified)",
    )


@da.command()
@click.argument("root", metavar="ROOT")
@pass_cli
def status(ctx: CliContext, root: str) -> None:
    """What the chain and the signers know of ROOT, and whether it can be recovered now."""
    from zerog.da.retrieve import parse_root

    with _client(ctx, with_account=False) as client:
        info = client.status(parse_root(root))
    chain = "unknown (never paid for)"
    if info["uploaded"]:
        chain = f"paid in epoch {info['uploadEpoch']} by {info['uploader']}"
        chain += f", verified in epoch {info['verifiedEpoch']}" if info["verified"] else ", not verified"
    lines = [f"data root {info['dataRoot']}: {chain}"]
    if info["uploaded"]:
        lines.append(
            f"quorum {info['quorumId']} of {info['quorumCount']}, {info['blobs']} blobs, fee {info['fee']} wei"
        )
        if info["expired"]:
            lines.append(f"EXPIRED at epoch {info['expiryEpoch']}: the signers deleted its cells")
        else:
            eta = info["expiresInSeconds"]
            when = f" (in about {eta / 3600:.1f} h)" if eta is not None else ""
            lines.append(f"kept until epoch {info['expiryEpoch']}{when}")
    for s in info["signers"]:
        held = f"{s['storedColumns']} columns stored" if s["problem"] is None else s["problem"]
        lines.append(f"  signer {s['slot']} (quorum {s['quorumId']}) {s['url']}: {held}")
    lines.append(
        f"{info['columnsAvailable']} of 128 columns reachable: "
        + ("recoverable" if info["recoverable"] else "NOT recoverable (64 needed)")
    )
    ctx.emit(info, "\n".join(lines))


da.add_command(
    start_command(
        "services.da_server.main:DAEMON",
        "Run the OP Stack alt-DA server (POST /put, GET /get/0x<commitment>; port 3100 by default) in the foreground.",
        name="server",
    )
)


@da.group()
def disperser() -> None:
    """Run the gRPC disperser (0G DA client's API)."""


disperser.add_command(
    start_command(
        "services.da_disperser.main:DAEMON",
        "Run the DA disperser in the foreground: 0G DA client's gRPC API (DisperseBlob, GetBlobStatus, RetrieveBlob; "
        "port 51001 by default), dispersing queued blobs with its key (ZG_DA_DISPERSER_PRIVATE_KEY).",
        setting("--http-port", "da_disperser_http_port", "Port of /health and request status (51002).", type=int),
    )
)


@da.group()
def signer() -> None:
    """Run a DA signer, and see or withdraw its fee earnings."""


signer.add_command(
    start_command(
        "services.da_signer.main:DAEMON",
        "Run a DA signer in the foreground: it registers its BLS keys and stake in DASigners (once), stores the cells "
        "of its columns and signs what it holds (port 8800 by default). Its account: ZG_DA_SIGNER_PRIVATE_KEY.",
        setting("--index", "da_signer_index", "Signer slot (dev account 3 + INDEX locally).", type=int),
        setting(
            "--url", "da_signer_url", "URL registered on chain for clients to reach it (default http://HOST:PORT)."
        ),
    )
)


def _signer_contracts(ctx: CliContext, index: int | None) -> tuple[DAContracts, LocalAccount]:
    from services.da_signer.config import DASignerSettings, signer_account
    from zerog.chain import connect
    from zerog.da.contracts import DAContracts

    settings = ctx.load(DASignerSettings, da_signer_index=index)
    return DAContracts.from_settings(settings, connect(settings.rpc_url)), signer_account(settings)


_INDEX = click.option(
    "--index", type=int, default=None, help="Signer index (its key: ZG_DA_SIGNER_PRIVATE_KEY; dev account 3 + INDEX "
    "locally)."
)  # fmt: skip


@signer.command()
@_INDEX
@pass_cli
def earnings(ctx: CliContext, index: int | None) -> None:
    """The blob fees credited to this signer (for the blobs it attested) and not withdrawn yet."""
    contracts, account = _signer_contracts(ctx, index)
    amount = contracts.earnings(account.address)
    ctx.emit({"account": account.address, "earnings": str(amount)}, f"{account.address}: {amount} wei to withdraw")


@signer.command()
@_INDEX
@pass_cli
def withdraw(ctx: CliContext, index: int | None) -> None:
    """Withdraw this signer's credited blob fees to its account."""
    contracts, account = _signer_contracts(ctx, index)
    amount = contracts.earnings(account.address)
    if amount == 0:  # the contract would revert DAEntranceNothingToWithdraw: say so without paying gas
        raise click.ClickException(f"{account.address} has no earnings to withdraw (attest blobs to earn fees)")
    receipt = contracts.withdraw_earnings(account)
    tx = receipt["transactionHash"].to_0x_hex()
    ctx.emit(
        {"account": account.address, "amount": str(amount), "tx": tx},
        f"withdrew {amount} wei to {account.address} (tx {tx})",
    )
