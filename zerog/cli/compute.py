"""`zg compute`: inference services on chain, the user's ledger and sub-accounts, chat, and the provider."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from zerog.cli.context import CliContext, pass_cli, with_client
from zerog.cli.finetune import finetune
from zerog.cli.units import AMOUNT, og

if TYPE_CHECKING:
    from zerog.compute.client import Compute


with_compute = with_client("zerog.compute.client:Compute")


@click.group()
def compute() -> None:
    """The compute network: inference services, your ledger, chat, and running a provider."""


@compute.command("ls")
@with_compute
def list_services(ctx: CliContext, c: Compute) -> None:
    """List the inference and fine-tuning services registered on chain."""
    from zerog.finetune.client import FineTuning

    services = c.services()
    tuning = FineTuning(ctx.settings, w3=c.w3, deployment=c.deployment).services()
    rows = [s.to_json() for s in services] + [{"serviceType": "fine-tuning", **t.to_json()} for t in tuning]
    if ctx.as_json or not rows:
        ctx.emit(rows, "no compute services are registered (`zg compute provider start`)")
        return
    for s in services:
        signer = "the provider's own key" if s.signer == s.provider else s.signer
        ctx.console.print(
            f"[bold]{s.provider}[/bold]  {s.service_type.name.lower()}, stake {og(s.stake)}\n"
            f"  model  {s.model} at {s.url}\n"
            f"  price  {s.input_price} wei per input token, {s.output_price} wei per output token\n"
            f"  signer {signer} ({s.verifiability.name.lower().replace('_', ' ')})",
            highlight=False,
            soft_wrap=True,
        )
    for t in tuning:
        ctx.console.print(
            f"[bold]{t.provider}[/bold]  fine-tuning, stake {og(t.stake)}\n"
            f"  model  {t.model} (LoRA adapters) at {t.url}\n"
            f"  price  {t.price_per_token} wei per token trained; datasets up to {t.max_dataset_size} bytes, "
            f"{t.max_duration} s a task (`zg compute finetune`)",
            highlight=False,
            soft_wrap=True,
        )


@compute.command()
@click.argument("provider", required=False)
@with_compute
def account(ctx: CliContext, c: Compute, provider: str | None) -> None:
    """Your ledger balance, and your sub-account with PROVIDER if given."""
    balance = c.ledger_balance()
    data: dict[str, Any] = {"user": c.address, "ledger": str(balance)}
    lines = [f"{c.address}: {og(balance)} in the ledger"]
    if provider:
        sub = c.sub_account(provider)
        data["subAccount"] = {"provider": provider, **sub.to_json()}
        lines.append(f"with {provider}: {og(sub.balance)} ({og(sub.settled)} paid so far, voucher nonce {sub.nonce})")
        if sub.refund_pending:
            lines.append(f"refund of {og(sub.refund_pending)} pending, unlocks at {_when(sub.refund_unlock_at)}")
    ctx.emit(data, "\n".join(lines))


@compute.command()
@click.argument("amount", type=AMOUNT)
@with_compute
def deposit(ctx: CliContext, c: Compute, amount: int) -> None:
    """Deposit AMOUNT (0G; or '… wei') from your wallet into your ledger account."""
    receipt = c.deposit(amount)
    balance = c.ledger_balance()
    tx = receipt["transactionHash"].to_0x_hex()
    ctx.emit(
        {"amount": str(amount), "balance": str(balance), "txHash": tx}, f"deposited {og(amount)}; ledger {og(balance)}"
    )


@compute.command()
@click.argument("amount", type=AMOUNT, required=False)
@with_compute
def withdraw(ctx: CliContext, c: Compute, amount: int | None) -> None:
    """Withdraw AMOUNT (default: all) from your ledger account to your wallet."""
    amount, receipt = c.withdraw(amount)
    tx = receipt["transactionHash"].to_0x_hex()
    ctx.emit({"amount": str(amount), "txHash": tx}, f"withdrew {og(amount)} to {c.address}")


@compute.command()
@click.argument("provider")
@click.argument("amount", type=AMOUNT)
@with_compute
def transfer(ctx: CliContext, c: Compute, provider: str, amount: int) -> None:
    """Move AMOUNT into your sub-account with PROVIDER (depositing any shortfall from your wallet first) and
    acknowledge the provider's signer."""
    receipts = c.transfer(provider, amount)
    sub = c.sub_account(provider)
    txs = [r["transactionHash"].to_0x_hex() for r in receipts]
    ctx.emit(
        {"provider": provider, "amount": str(amount), "subAccount": sub.to_json(), "txHashes": txs},
        f"moved {og(amount)} to your sub-account with {provider}: it holds {og(sub.balance)}",
    )


@compute.command()
@click.argument("provider")
@click.argument("amount", type=AMOUNT, required=False)
@click.option("--process", "process_only", is_flag=True, help="Only finish an unlocked refund.")
@with_compute
def refund(ctx: CliContext, c: Compute, provider: str, amount: int | None, process_only: bool) -> None:
    """Get funds back from your sub-account with PROVIDER: asks for AMOUNT (default: all) back, or, once a
    pending refund's timelock has passed, returns it to your ledger (then `zg compute withdraw`)."""
    from zerog.compute.client import ComputeError

    sub = c.sub_account(provider)
    now = c.w3.eth.get_block("latest")["timestamp"]
    if sub.refund_pending and (process_only or amount is None):
        if now < sub.refund_unlock_at:
            raise ComputeError(
                f"the refund of {og(sub.refund_pending)} unlocks at {_when(sub.refund_unlock_at)} "
                f"(in {sub.refund_unlock_at - now} s); the provider can settle what you promised until then"
            )
        returned, receipt = c.process_refund(provider)
        tx = receipt["transactionHash"].to_0x_hex()
        ctx.emit({"returned": str(returned), "txHash": tx}, f"{og(returned)} returned to your ledger balance")
        return
    if process_only:
        raise ComputeError(f"no refund is pending from {provider}")
    asked, unlock_at, receipt = c.request_refund(provider, amount)
    tx = receipt["transactionHash"].to_0x_hex()
    ctx.emit(
        {"requested": str(asked), "unlockAt": unlock_at, "txHash": tx},
        f"refund of {og(asked)} requested; run `zg compute refund {provider}` again after {_when(unlock_at)}",
    )


@compute.command()
@click.argument("provider")
@click.argument("prompt")
@click.option("--system", help="A system message before the prompt.")
@click.option("--max-tokens", type=click.IntRange(min=1), help="Most tokens (bytes) to generate.")
@click.option("--temperature", type=click.FloatRange(0, 2), default=0.7, show_default=True)
@click.option("--no-stream", is_flag=True, help="Wait for the whole answer instead of streaming it.")
@with_compute
def chat(
    ctx: CliContext,
    c: Compute,
    provider: str,
    prompt: str,
    system: str | None,
    max_tokens: int | None,
    temperature: float,
    no_stream: bool,
) -> None:
    """Ask PROVIDER's model PROMPT and stream the answer; every request is paid with a voucher."""
    import openai

    from zerog.compute.client import ComputeError

    session = c.session(provider)
    client = session.openai_client(max_retries=0)
    messages: list[dict[str, str]] = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": prompt})
    args: dict[str, Any] = {"model": session.service.model, "messages": messages, "temperature": temperature}
    if max_tokens:
        args["max_tokens"] = max_tokens
    text = ""
    try:
        if no_stream:
            text = client.chat.completions.create(**args).choices[0].message.content or ""
            if not ctx.as_json:
                click.echo(text)
        else:
            for chunk in client.chat.completions.create(stream=True, **args):
                if chunk.choices and chunk.choices[0].delta.content:
                    delta = chunk.choices[0].delta.content
                    text += delta
                    if not ctx.as_json:
                        click.echo(delta, nl=False)
                        sys.stdout.flush()
            if not ctx.as_json:
                click.echo()
    except openai.APIStatusError as exc:
        error = (exc.body or {}).get("error", exc.body) if isinstance(exc.body, dict) else exc.body
        message = error.get("message") if isinstance(error, dict) else str(error)
        raise ComputeError(f"provider refused ({exc.status_code}): {message}") from exc
    except openai.APIConnectionError as exc:
        raise ComputeError(f"provider {provider} at {session.service.url} does not answer: {exc}") from exc
    receipt = session.receipts[-1] if session.receipts else None
    if ctx.as_json:
        ctx.emit({"text": text, "receipt": receipt.to_json() if receipt else None}, "")
    elif receipt is not None:
        ctx.console.print(
            f"[dim]{receipt.input_tokens}+{receipt.output_tokens} tokens, {receipt.fee} wei; "
            f"owed to the provider in total: {og(session.owed)}[/dim]",
            highlight=False,
        )


# ---------------------------------------------------------------- provider


@compute.group()
def provider() -> None:
    """Run an inference provider."""


@provider.command("start")
@click.option("--port", type=int, help="Port to listen on (default 8700).")
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--url", help="URL to register on chain (default: http://HOST:PORT).")
@click.option("--model-path", type=click.Path(path_type=Path, dir_okay=False), help="Checkpoint to serve.")
@click.option("--model-name", help="Model name (default zg-bytelm-tiny).")
@click.option("--model-root", help="Serve the checkpoint stored under this root (0x...) on Storage.")
@click.option("--listing", type=click.IntRange(min=1), help="Serve the model of this marketplace listing.")
@click.option("--adapter", help="Merge this fine-tuned LoRA adapter (its Storage root) into the model.")
@click.option("--fine-tuning", is_flag=True, default=None, help="Also run a fine-tuning service.")
@pass_cli
def provider_start(
    ctx: CliContext,
    port: int | None,
    host: str | None,
    url: str | None,
    model_path: Path | None,
    model_name: str | None,
    model_root: str | None,
    listing: int | None,
    adapter: str | None,
    fine_tuning: bool | None,
) -> None:
    """Serve the OpenAI-compatible API in the foreground: trains the model if it is not cached (or fetches it from
    Storage: --model-root, --listing; proof-checked, decrypted with the provider's key if private, linked to its
    listing), registers the service, settles vouchers periodically and on Ctrl-C."""
    import logging

    from services.compute_provider.__main__ import serve
    from services.compute_provider.config import ProviderSettings

    settings = ctx.load(
        ProviderSettings,
        compute_port=port,
        compute_host=host,
        compute_url=url,
        compute_model_path=model_path,
        compute_model_name=model_name,
        compute_model_root=model_root,
        compute_listing=listing,
        compute_adapter_root=adapter,
        compute_fine_tuning=fine_tuning,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    code = serve(settings)  # without torch: MissingExtraError, a clean CLI error
    if code:
        raise SystemExit(code)


@provider.command("withdraw")
@pass_cli
def provider_withdraw(ctx: CliContext) -> None:
    """Withdraw the provider's earnings (settled vouchers, returned stake) to its wallet."""
    from services.compute_provider.config import ProviderSettings, load_provider
    from zerog.compute.client import Compute, ComputeError

    settings = ctx.load(ProviderSettings)
    c = Compute(settings, load_provider(settings))
    if not c.earnings():
        raise ComputeError(f"provider {c.address} has no earnings to withdraw")
    amount, receipt = c.withdraw_earnings()
    tx = receipt["transactionHash"].to_0x_hex()
    ctx.emit({"amount": str(amount), "txHash": tx}, f"withdrew {og(amount)} of earnings to {c.address}")


# ---------------------------------------------------------------- model


@compute.group()
def model() -> None:
    """The provider's model."""


@model.command("train")
@click.option("--name", help="Recipe to train (default: the configured model, zg-bytelm-tiny).")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Checkpoint path.")
@click.option("--force", is_flag=True, help="Train again even if the checkpoint exists.")
@pass_cli
def model_train(ctx: CliContext, name: str | None, out: Path | None, force: bool) -> None:
    """Train the model on the project's own corpus (CPU, a minute or two) into the model cache."""
    from services.compute_provider.config import ProviderSettings, model_path
    from zerog.errors import ConfigError
    from zerog.extras import PROVIDER, importing

    with importing(PROVIDER):
        from services.compute_provider.model.train import ensure_model

    settings = ctx.load(ProviderSettings)
    name = name or settings.compute_model_name
    path = out or (
        model_path(settings) if name == settings.compute_model_name else settings.compute_model_dir / f"{name}.pt"
    )

    def progress(step: int, steps: int, loss: float) -> None:
        if not ctx.as_json and (step % 25 == 0 or step == steps):
            click.echo(f"\rstep {step}/{steps}  loss {loss:.3f}", nl=step == steps, err=True)

    try:
        path, trained = ensure_model(path, name, force=force, progress=progress)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    ctx.emit(
        {"name": name, "path": str(path), "trained": trained},
        f"{'trained' if trained else 'already cached:'} {name} at {path}",
    )


def _when(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


compute.add_command(finetune)
