"""LoRA adapters of a ByteLM (peft): low-rank updates of the attention and MLP linear layers, trained while the base
model stays frozen; saved as one torch file (data, read with ``weights_only``) that names the base checkpoint it
belongs to by name and content hash; merged into a plain ByteLM that the provider's TextGenerator serves:

    generator = TextGenerator.from_checkpoint(merged_checkpoint(base_path, adapter_path), name)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import torch
from peft import LoraConfig, PeftModel, get_peft_model, get_peft_model_state_dict, set_peft_model_state_dict

from services.compute_provider.model.checkpoint import Checkpoint, load_checkpoint, load_tagged, save_atomically
from services.compute_provider.model.network import ByteLM
from zerog.compute.finetune_data import Hyperparameters
from zerog.errors import ZeroGError
from zerog.market.client import content_hash

FORMAT = "zerog-bytelm-lora"
FORMAT_VERSION = 1

#: Every linear layer of a block (network.py): attention's qkv and output projections, the MLP's two layers.
TARGET_MODULES = ("attn.qkv", "attn.proj", "mlp.0", "mlp.2")


class AdapterError(ZeroGError):
    """An adapter file is unreadable, malformed, or belongs to another base model."""


@dataclass(frozen=True)
class LoraSpec:
    rank: int
    alpha: float
    dropout: float
    targets: tuple[str, ...] = TARGET_MODULES

    @classmethod
    def of(cls, hyperparameters: Hyperparameters) -> LoraSpec:
        return cls(hyperparameters.lora_rank, hyperparameters.lora_alpha, hyperparameters.lora_dropout)

    def as_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "alpha": self.alpha, "dropout": self.dropout, "targets": list(self.targets)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoraSpec:
        return cls(int(data["rank"]), float(data["alpha"]), float(data["dropout"]), tuple(map(str, data["targets"])))


def with_lora(model: ByteLM, spec: LoraSpec) -> PeftModel:
    """`model` (changed in place: its targets become LoRA layers) wrapped in a PeftModel; only the LoRA weights
    train. Their initialization draws from torch's global generator: seed it for a reproducible run."""
    config = LoraConfig(
        r=spec.rank, lora_alpha=spec.alpha, lora_dropout=spec.dropout, target_modules=list(spec.targets)
    )
    return cast(PeftModel, get_peft_model(model, config))


def checkpoint_hash(path: Path) -> str:
    """What an adapter names its base checkpoint by: keccak256 of the file, as the marketplace's content hash."""
    return "0x" + content_hash(path).hex()


@dataclass
class Adapter:
    spec: LoraSpec
    state_dict: dict[str, torch.Tensor]
    base_name: str
    base_hash: str
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(
        cls, model: PeftModel, spec: LoraSpec, base_name: str, base_hash: str, meta: dict[str, Any] | None = None
    ) -> Adapter:
        """The adapter weights of a model `with_lora` made (copied: later training does not change them)."""
        weights = {k: v.detach().cpu().clone() for k, v in get_peft_model_state_dict(model).items()}
        return cls(spec, weights, base_name, base_hash, dict(meta or {}))

    def apply(self, base: ByteLM) -> PeftModel:
        """`base` (changed in place) with this adapter, in eval mode."""
        model = with_lora(base, self.spec)
        try:
            result = set_peft_model_state_dict(model, self.state_dict)
        except RuntimeError as exc:  # a shape differs: another base shape or rank
            raise AdapterError(f"the adapter does not fit the base model: {exc}") from exc
        missing = [k for k in result.missing_keys if ".lora_" in k]
        if result.unexpected_keys or missing:
            raise AdapterError(
                "the adapter does not fit the base model: "
                f"unexpected {result.unexpected_keys[:3]}, missing {missing[:3]}"
            )
        return model.eval()

    def merge(self, base: ByteLM) -> ByteLM:
        """A plain ByteLM computing what `base` with this adapter computes (`base` is changed in place)."""
        return cast(ByteLM, self.apply(base).merge_and_unload())


def save_adapter(path: Path, adapter: Adapter) -> None:
    """Atomic (save_atomically); only tensors, numbers and strings: ``torch.load(weights_only=True)`` reads it."""
    save_atomically(
        path,
        {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "lora": adapter.spec.as_dict(),
            "state_dict": adapter.state_dict,
            "base": {"name": adapter.base_name, "hash": adapter.base_hash},
            "meta": dict(adapter.meta),
        },
    )


def load_adapter(path: Path) -> Adapter:
    """Reads and checks an adapter file; AdapterError with the reason otherwise."""
    if not path.is_file():
        raise AdapterError(f"no adapter at {path}")
    payload = load_tagged(path, "adapter", FORMAT, FORMAT_VERSION, AdapterError)
    try:
        spec = LoraSpec.from_dict(payload["lora"])
        state_dict = payload["state_dict"]
        base = payload["base"]
        base_name, base_hash = str(base["name"]), str(base["hash"])
    except (KeyError, TypeError, ValueError) as exc:
        raise AdapterError(f"{path} is a malformed adapter: {exc}") from exc
    if not isinstance(state_dict, dict) or not all(isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise AdapterError(f"{path} is a malformed adapter: its state_dict is not a dict of tensors")
    return Adapter(spec, state_dict, base_name, base_hash, dict(payload.get("meta") or {}))


def merged_checkpoint(base_path: Path, adapter_path: Path) -> Checkpoint:
    """The base checkpoint with the adapter merged into its weights, for `TextGenerator.from_checkpoint`;
    AdapterError if the adapter was trained on another checkpoint."""
    adapter = load_adapter(adapter_path)
    digest = checkpoint_hash(base_path)
    if digest != adapter.base_hash:
        raise AdapterError(
            f"{adapter_path} adapts {adapter.base_name} ({adapter.base_hash}), "
            f"not the checkpoint at {base_path} ({digest})"
        )
    base = load_checkpoint(base_path)
    model = adapter.merge(base.model())
    state_dict = {k: v.detach() for k, v in model.state_dict().items()}
    meta = {"base": {"name": adapter.base_name, "hash": adapter.base_hash}, "adapter": adapter.meta}
    return Checkpoint(base.config, state_dict, meta)
