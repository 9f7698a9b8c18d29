"""The compute provider's settings (``ZG_COMPUTE_*``) and the values derived from them."""

from __future__ import annotations

from pathlib import Path

from eth_account.signers.local import LocalAccount
from pydantic import Field, SecretStr

from services.common.settings import DaemonSettings
from zerog.accounts import account_from_key, role_account
from zerog.compute.settings import ComputeSettings
from zerog.config import ETHER
from zerog.storage.settings import StorageSettings

#: Dev account holding the provider's key on the local network (0: users and the deployer, 1: the faucet).
DEV_PROVIDER_INDEX = 2
DEFAULT_COMPUTE_PORT = 8700


class ProviderSettings(ComputeSettings, StorageSettings, DaemonSettings):
    # Where it listens, and the URL it registers on chain (what users connect to).
    compute_host: str = "127.0.0.1"
    compute_port: int = DEFAULT_COMPUTE_PORT
    compute_url: str | None = None
    # The model served: its name in /v1/models, and a checkpoint path. Without a path the provider serves
    # <compute_model_dir>/<name>.pt, training it there on first use (`zg compute model train`).
    compute_model_name: str = "zg-bytelm-tiny"
    compute_model_path: Path | None = None
    compute_model_dir: Path = Path.home() / ".cache" / "zerog" / "models"
    # Or serve a model from Storage: a marketplace listing (its name, linked to the listing), or a storage root
    # (the listing of that root if there is one, else under compute_model_name). Downloaded, proof-checked,
    # decrypted with the provider's key if private, and loaded before the service registers.
    compute_listing: int | None = Field(default=None, gt=0)
    compute_model_root: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{64}$")
    # A fine-tuned LoRA adapter (a `zg compute finetune get` result, stored on Storage in the clear or v2-encrypted
    # to the provider) merged into the model before it is served.
    compute_adapter_root: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{64}$")
    # Prices registered on chain, in wei per token (byte-level model: one token per UTF-8 byte).
    compute_input_price_wei: int = Field(default=10**12, ge=0)
    compute_output_price_wei: int = Field(default=2 * 10**12, ge=0)
    # Default and largest max_tokens of a request (its cost is reserved before the model runs).
    compute_max_tokens: int = Field(default=256, gt=0)
    # Stake the provider locks when it registers (at least compute_min_stake_wei).
    compute_stake_wei: int = Field(default=ETHER, ge=0)
    # Seconds between settlement rounds, and vouchers per settlement transaction.
    compute_settle_interval: float = Field(default=60, gt=0)
    compute_settle_batch: int = Field(default=100, ge=1, le=500)
    # Fine-tuning: a second service (FineTuningServing) training LoRA adapters of the served model, one task at a
    # time: wei per token trained, the largest dataset taken (bytes), and seconds a task may take.
    compute_fine_tuning: bool = False
    compute_finetune_price_wei: int = Field(default=10**10, ge=0)
    compute_finetune_max_dataset_bytes: int = Field(default=1 << 20, gt=0)
    compute_finetune_max_duration: int = Field(default=3600, gt=0)
    # Provider's key (registers, settles) and the key signing receipts (default: the provider's key); dev
    # account 2 on the local network.
    compute_provider_private_key: SecretStr | None = None
    compute_signer_private_key: SecretStr | None = None


def db_path(settings: ProviderSettings, chain_id: int, serving: str, provider: str) -> Path:
    """The provider's SQLite store: vouchers, receipts, settlements. One per (chain, contract, provider key), so
    a restart on another port still finds the vouchers it must settle, and a fresh chain never sees vouchers
    signed for another one. Losing it loses the unsettled vouchers."""
    return settings.data_dir / "compute" / f"provider-{chain_id}-{serving.lower()}-{provider.lower()}.db"


def finetune_db_path(settings: ProviderSettings, chain_id: int, contract: str, provider: str) -> Path:
    """The fine-tuning tasks' store and work directory (datasets, training checkpoints, results)."""
    return settings.data_dir / "compute" / f"finetune-{chain_id}-{contract.lower()}-{provider.lower()}" / "tasks.db"


def provider_url(settings: ProviderSettings) -> str:
    """The URL registered on chain: ZG_COMPUTE_URL, else where the daemon listens."""
    return (settings.compute_url or f"http://{settings.compute_host}:{settings.compute_port}").rstrip("/")


def model_path(settings: ProviderSettings) -> Path:
    """The checkpoint to serve: ZG_COMPUTE_MODEL_PATH, else the cached `<model dir>/<name>.pt`."""
    if settings.compute_model_path is not None:
        return settings.compute_model_path
    return settings.compute_model_dir / f"{settings.compute_model_name}.pt"


def load_provider(settings: ProviderSettings) -> LocalAccount:
    """The provider's key (registers, settles, is paid): ZG_COMPUTE_PROVIDER_PRIVATE_KEY, or dev account 2 on
    the local network only."""
    return role_account(settings, "compute_provider_private_key", DEV_PROVIDER_INDEX, "compute provider")


def load_signer(settings: ProviderSettings) -> LocalAccount:
    """The key signing receipts: ZG_COMPUTE_SIGNER_PRIVATE_KEY, else the provider's own key."""
    if settings.compute_signer_private_key is not None:
        return account_from_key(settings.compute_signer_private_key.get_secret_value())
    return load_provider(settings)
