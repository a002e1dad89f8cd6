"""Model size presets: an OPT decoder (Galactica's architecture) built from a name.

Galactica is OPT with GeLU activations, learned positional embeddings, biases,
pre-LayerNorm and tied input/output embeddings, so the result loads with
``transformers.AutoModelForCausalLM`` and no custom code. ``tiny`` (~1M parameters
plus embeddings) trains on a laptop CPU; ``125m`` matches Galactica 125M's shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sciprep.tokenize.specials import BOS, EOS, PAD, SPECIAL_IDS

if TYPE_CHECKING:
    from transformers import OPTConfig, OPTForCausalLM


@dataclass(frozen=True)
class ModelPreset:
    """The shape of one model size."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    max_positions: int
    dropout: float


PRESETS: dict[str, ModelPreset] = {
    "tiny": ModelPreset(hidden=128, layers=4, heads=4, ffn=512, max_positions=512, dropout=0.0),
    "mini": ModelPreset(hidden=256, layers=6, heads=8, ffn=1024, max_positions=1024, dropout=0.1),
    "small": ModelPreset(hidden=512, layers=8, heads=8, ffn=2048, max_positions=2048, dropout=0.1),
    "125m": ModelPreset(hidden=768, layers=12, heads=12, ffn=3072, max_positions=2048, dropout=0.1),
}


def model_config(
    preset: str, vocab_size: int, context_length: int, dropout: float | None = None
) -> OPTConfig:
    """The ``OPTConfig`` for ``preset``; raises ValueError for unknown names or a too-long context."""
    from transformers import OPTConfig

    if preset not in PRESETS:
        raise ValueError(f"unknown model preset {preset!r}; choose one of {sorted(PRESETS)}")
    shape = PRESETS[preset]
    if context_length > shape.max_positions:
        raise ValueError(
            f"context_length {context_length} exceeds preset {preset!r} "
            f"max positions {shape.max_positions}"
        )
    return OPTConfig(
        vocab_size=vocab_size,
        hidden_size=shape.hidden,
        num_hidden_layers=shape.layers,
        ffn_dim=shape.ffn,
        num_attention_heads=shape.heads,
        max_position_embeddings=shape.max_positions,
        word_embed_proj_dim=shape.hidden,
        dropout=shape.dropout if dropout is None else dropout,
        attention_dropout=0.0,
        activation_function="gelu",
        enable_bias=True,
        do_layer_norm_before=True,
        tie_word_embeddings=True,
        bos_token_id=SPECIAL_IDS[BOS],
        eos_token_id=SPECIAL_IDS[EOS],
        pad_token_id=SPECIAL_IDS[PAD],
    )


def build_model(config: OPTConfig, seed: int) -> OPTForCausalLM:
    """A freshly initialised model; the same ``seed`` gives the same weights."""
    import torch
    from transformers import OPTForCausalLM

    torch.manual_seed(seed)
    return OPTForCausalLM(config)

