"""The provider daemon as a real subprocess (`python -m services.compute_provider`) on a real chain with the
contracts deployed by `ape run deploy`, and users paying it through the SDK."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from chain_node.process import free_port
from services.compute_provider.model.checkpoint import save_checkpoint
from services.compute_provider.model.network import EOT, ByteLM, ModelConfig
from tests.daemon_process import DaemonProcess
from zerog.devnet.settings import NetworkSettings

#: The model the shared daemon trains on its first start (a few seconds).
TEST_MODEL = "zg-bytelm-test"


class ProviderDaemon(DaemonProcess):
    """One provider process; its log is in `<data_dir>/provider.log`."""

    # The shared daemon trains its model on its first start.
    start_timeout = 120

    def __init__(self, settings: NetworkSettings) -> None:
        super().__init__(settings, "provider", "services.compute_provider", settings.compute_port)


def provider_settings(settings: NetworkSettings, data_dir: Path, **overrides: Any) -> NetworkSettings:
    port = free_port()
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "compute_port": port,
        "compute_url": None,
        "compute_model_name": TEST_MODEL,
        "compute_model_dir": data_dir / "models",
        "compute_settle_interval": 3600,
        **overrides,
    }
    return settings.model_copy(update=values)


def slow_checkpoint(path: Path) -> Path:
    """An untrained but real ByteLM big enough to stream slowly on CPU (~10 ms/token), which never ends a
    text: its end-of-text embedding is zero, so greedy decoding never picks it."""
    torch.manual_seed(0)
    model = ByteLM(ModelConfig(block_size=256, n_layer=6, n_head=8, n_embd=384))
    with torch.no_grad():
        model.tok_emb.weight[EOT].zero_()
    save_checkpoint(path, model, {"name": "slow-test"})
    return path
