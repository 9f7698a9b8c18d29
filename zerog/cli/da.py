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

    from zerog.da.challenges import ChallengeContract
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


def _challenge_contract(ctx: CliContext, require_enabled: bool = True) -> ChallengeContract:
    from zerog.chain import Deployment, connect
    from zerog.da.challenges import ChallengeContract

    settings = ctx.load(DASettings)
    w3 = connect(settings.rpc_url)
    contract = ChallengeContract(w3, Deployment.for_settings(settings, w3.eth.chain_id))
    if require_enabled and not contract.enabled():
        raise click.ClickException(
            "sampling challenges are off on this chain: it has no EIP-2537 BLS12-381 precompiles (the Prague "
            "hardfork), which the on-chain cell proof check needs (the deploy probed them and disabled DAChallenges)"
        )
    return contract


def _describe(c: dict) -> str:
    return (
        f"challenge {c['id']}: signer {c['signer']}, cell {c['column']} of blob {c['blobIndex']} of {c['dataRoot']}, "
        f"{c['status']} (deadline block {c['deadline']})"
    )


@da.command()
@click.argument("root", metavar="ROOT", required=False)
@click.argument("signer_address", metavar="SIGNER", required=False)
@click.option("--claim", "claim_id", type=int, default=None, help="Claim challenge ID, unanswered past its deadline.")
@click.option("--withdraw", is_flag=True, help="Withdraw your credits (bonds and slashed stake of claims).")
@click.option("--no-wait", is_flag=True, help="Return once the challenge is on chain.")
@pass_cli
def challenge(
    ctx: CliContext, root: str | None, signer_address: str | None, claim_id: int | None, withdraw: bool, no_wait: bool
) -> None:
    """Challenge SIGNER to prove on chain it holds a random cell of ROOT (it attested it); posts the deploy's bond.
    Waits for the answer or the deadline. A correct answer pays the signer the bond; once the deadline passed
    without one, `--claim ID` credits you the bond back plus the slashed part of the signer's stake."""
    import time

    from web3.logs import DISCARD

    from zerog.accounts import load_account
    from zerog.da.challenges import ChallengeStatus
    from zerog.da.retrieve import parse_root

    account = load_account(ctx.load(DASettings))
    if withdraw:
        contract = _challenge_contract(ctx, require_enabled=False)
        amount = contract.credits(account.address)
        if amount == 0:
            raise click.ClickException(f"{account.address} has no challenge credits to withdraw")
        tx = contract.withdraw(account)["transactionHash"].to_0x_hex()
        ctx.emit({"account": account.address, "amount": str(amount), "tx": tx}, f"withdrew {amount} wei (tx {tx})")
        return
    if claim_id is not None:
        contract = _challenge_contract(ctx, require_enabled=False)
        receipt = contract.claim(account, claim_id)
        events = contract.contract.events.ChallengeClaimed().process_receipt(receipt, errors=DISCARD)
        slashed = int(events[0]["args"]["slashed"]) if events else 0
        out = {**contract.get(claim_id).to_json(), "slashed": slashed, "tx": receipt["transactionHash"].to_0x_hex()}
        ctx.emit(out, _describe(out) + f": {slashed} wei slashed, credited to {out['challenger']} with the bond "
                 "(`zg da challenge --withdraw`)")  # fmt: skip
        return
    if root is None or signer_address is None:
        raise click.UsageError("ROOT and SIGNER are needed (or --claim ID, or --withdraw)")
    contract = _challenge_contract(ctx)
    c = contract.challenge(account, parse_root(root), signer_address)
    if not no_wait:
        if not ctx.as_json:
            ctx.console.print(f"[dim]…[/dim] {_describe(c.to_json())}", highlight=False)
        while c.status == ChallengeStatus.OPEN and contract.w3.eth.block_number <= c.deadline:
            time.sleep(1)
            c = contract.get(c.id)
    out = c.to_json()
    text = _describe(out)
    if c.status == ChallengeStatus.ANSWERED:
        text += ": the signer proved it holds the cell (the bond is its pay)"
    elif c.status == ChallengeStatus.OPEN and not no_wait:
        out["status"] = "missed"
        text += f": deadline missed, claim with `zg da challenge --claim {c.id}`"
    ctx.emit(out, text)


@da.command()
@click.option("--limit", type=int, default=20, show_default=True, help="How many, newest first.")
@pass_cli
def challenges(ctx: CliContext, limit: int) -> None:
    """The newest sampling challenges and how they ended."""
    contract = _challenge_contract(ctx, require_enabled=False)
    rows = [c.to_json() for c in contract.recent(limit)]
    enabled = contract.enabled()
    lines = [] if enabled else ["challenges are off on this chain (no EIP-2537 precompiles)"]
    lines += [_describe(r) for r in rows] or ["no challenges yet"]
    params = {
        "bond": str(contract.bond()),
        "responseBlocks": contract.response_blocks(),
        "slashBps": contract.slash_bps(),
    }
    ctx.emit({"enabled": enabled, **params, "challenges": rows}, "\n".join(lines))


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
    credits = _challenge_credits(ctx, account.address)
    text = f"{account.address}: {amount} wei of blob fees to withdraw"
    if credits is not None:
        text += f", {credits} wei from answered challenges"
    out = {"account": account.address, "earnings": str(amount), "challengeCredits": str(credits or 0)}
    ctx.emit(out, text)


def _challenge_credits(ctx: CliContext, account: str) -> int | None:
    """Bonds of challenges the signer answered, not withdrawn yet (None: no DAChallenges in this deployment)."""
    from zerog.errors import ComponentUnavailableError

    try:
        return _challenge_contract(ctx, require_enabled=False).credits(account)
    except ComponentUnavailableError:
        return None


@signer.command()
@_INDEX
@pass_cli
def withdraw(ctx: CliContext, index: int | None) -> None:
    """Withdraw this signer's credited blob fees (and bonds of answered challenges) to its account."""
    contracts, account = _signer_contracts(ctx, index)
    amount = contracts.earnings(account.address)
    credits = _challenge_credits(ctx, account.address) or 0
    if amount == 0 and credits == 0:  # the contracts would revert NothingToWithdraw: say so without paying gas
        raise click.ClickException(f"{account.address} has no earnings to withdraw (attest blobs to earn fees)")
    txs = []
    if amount:
        txs.append(contracts.withdraw_earnings(account)["transactionHash"].to_0x_hex())
    if credits:  # bonds of answered challenges
        txs.append(_challenge_contract(ctx, require_enabled=False).withdraw(account)["transactionHash"].to_0x_hex())
    total = amount + credits
    ctx.emit(
        {"account": account.address, "amount": str(total), "fees": str(amount), "challengeCredits": str(credits),
         "txs": txs},
        f"withdrew {total} wei to {account.address} (tx {', '.join(txs)})",
    )  # fmt: skip
