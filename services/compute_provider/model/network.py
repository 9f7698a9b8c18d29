"""ByteLM: a small decoder-only transformer over bytes (256 byte values + one end-of-text token).

Byte-level means no tokenizer to ship: a token is one UTF-8 byte, so usage metering is exact and trivial.
Generation keeps a key/value cache per layer, so each new token costs one position's worth of compute.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F  # noqa: N812 - the conventional name

from zerog.compute.chat import EOT

#: Token ids 0..255 are bytes; EOT (256) ends a text (an assistant's answer). The SDK defines EOT: it counts the
#: tokens users pay for.
VOCAB_SIZE = EOT + 1


@dataclass(frozen=True)
class ModelConfig:
    """Shape of a ByteLM; stored in every checkpoint."""

    block_size: int = 128
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    vocab_size: int = VOCAB_SIZE

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd {self.n_embd} is not a multiple of n_head {self.n_head}")
        if min(self.block_size, self.n_layer, self.n_head, self.n_embd) <= 0:
            raise ValueError(f"every dimension must be positive: {self}")
        if self.vocab_size != VOCAB_SIZE:
            raise ValueError(f"a byte-level model has {VOCAB_SIZE} tokens, not {self.vocab_size}")

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        return cls(**{k: int(data[k]) for k in ("block_size", "n_layer", "n_head", "n_embd", "vocab_size")})


KVCache = list[tuple[Tensor, Tensor]]


class Attention(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.n_head = config.n_head
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd)
        self.proj = nn.Linear(config.n_embd, config.n_embd)

    def forward(self, x: Tensor, past: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        batch, length, width = x.shape
        q, k, v = self.qkv(x).split(width, dim=2)
        q, k, v = (t.view(batch, length, self.n_head, width // self.n_head).transpose(1, 2) for t in (q, k, v))
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        # With a cache the new positions attend to everything before them: causal only among themselves.
        if past is None or length > 1:
            mask = None if past is None else _cached_causal_mask(length, k.shape[2], x.device)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=past is None)
        else:
            y = F.scaled_dot_product_attention(q, k, v)
        return self.proj(y.transpose(1, 2).contiguous().view(batch, length, width)), (k, v)


def _cached_causal_mask(new: int, total: int, device: torch.device) -> Tensor:
    offset = total - new
    rows = torch.arange(new, device=device).unsqueeze(1) + offset
    return torch.arange(total, device=device).unsqueeze(0) <= rows


class Block(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(config.n_embd)
        self.attn = Attention(config)
        self.ln2 = nn.LayerNorm(config.n_embd)
        self.mlp = nn.Sequential(
            nn.Linear(config.n_embd, 4 * config.n_embd), nn.GELU(), nn.Linear(4 * config.n_embd, config.n_embd)
        )

    def forward(self, x: Tensor, past: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        attended, present = self.attn(self.ln1(x), past)
        x = x + attended
        return x + self.mlp(self.ln2(x)), present


class ByteLM(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.tok_emb = nn.Embedding(config.vocab_size, config.n_embd)
        self.pos_emb = nn.Embedding(config.block_size, config.n_embd)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight  # tied embeddings: fewer parameters, faster training
        self.apply(_init_weights)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, idx: Tensor, past: KVCache | None = None, start: int = 0) -> tuple[Tensor, KVCache]:
        """Logits for every position of `idx` (batch, length), which starts at position `start` after the
        cached `past`; returns them with the updated cache."""
        length = idx.shape[1]
        if start + length > self.config.block_size:
            raise ValueError(f"positions {start}..{start + length} exceed the block size {self.config.block_size}")
        positions = torch.arange(start, start + length, device=idx.device)
        x = self.tok_emb(idx) + self.pos_emb(positions)
        presents: KVCache = []
        for i, block in enumerate(self.blocks):
            x, present = block(x, past[i] if past is not None else None)
            presents.append(present)
        return self.head(self.ln_f(x)), presents

    def loss(self, idx: Tensor, targets: Tensor) -> Tensor:
        logits, _ = self(idx)
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def _init_weights(module: nn.Module) -> None:
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Embedding):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)
