"""Checkpoints: one torch file holding the format tag, the model's shape, its weights and how it was made.

Loading uses ``torch.load(weights_only=True)``: a checkpoint is data, never code, so a provider can load one
from anywhere (a path today, a storage root later) without trusting its author.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from services.compute_provider.model.network import ByteLM, ModelConfig
from zerog.errors import ZeroGError

FORMAT = "zerog-bytelm"
FORMAT_VERSION = 1


class CheckpointError(ZeroGError):
    """A checkpoint is missing, unreadable or not a ByteLM checkpoint."""


@dataclass
class Checkpoint:
    config: ModelConfig
    state_dict: dict[str, torch.Tensor]
    meta: dict[str, Any] = field(default_factory=dict)

    def model(self) -> ByteLM:
        """The network with these weights, in eval mode."""
        model = ByteLM(self.config)
        try:
            model.load_state_dict(self.state_dict)
        except RuntimeError as exc:
            raise CheckpointError(f"weights do not match the model shape {self.config}: {exc}") from exc
        return model.eval()


def save_checkpoint(path: Path, model: ByteLM, meta: dict[str, Any] | None = None) -> None:
    """Atomic (save_atomically): a provider never loads a truncated checkpoint."""
    payload = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "config": model.config.as_dict(),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "meta": dict(meta or {}),
    }
    save_atomically(path, payload)


def save_atomically(path: Path, payload: dict[str, Any]) -> None:
    """torch.save through a temporary file renamed over `path`: a crash mid-save never leaves a truncated file
    where a reader would load it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def load_tagged(path: Path, kind: str, fmt: str, version: int, error: type[ZeroGError]) -> dict[str, Any]:
    """The payload of a torch file tagged with `fmt` and `version`, read as data; `error` saying why otherwise."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle, zip and torch errors all mean "not a file we can read"
        raise error(f"{path} is not a readable torch {kind}: {exc}") from exc
    if not isinstance(payload, dict) or payload.get("format") != fmt:
        raise error(f"{path} is not a {fmt} {kind}")
    if payload.get("version") != version:
        raise error(f"{path} has format version {payload.get('version')}, this build reads {version}")
    return payload


def load_checkpoint(path: Path) -> Checkpoint:
    """Reads and checks a checkpoint; CheckpointError with the reason otherwise."""
    if not path.is_file():
        raise CheckpointError(f"no model checkpoint at {path} (train one with `zg compute model train`)")
    payload = load_tagged(path, "checkpoint", FORMAT, FORMAT_VERSION, CheckpointError)
    try:
        config = ModelConfig.from_dict(payload["config"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path} has an invalid model config: {exc}") from exc
    checkpoint = Checkpoint(config, payload["state_dict"], payload.get("meta") or {})
    checkpoint.model()  # shape check now, not at the first request
    return checkpoint
