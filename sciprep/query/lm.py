"""A trained model directory as a :class:`~sciprep.query.decoding.NextTokenModel`.

A model directory holds ``config.json`` + ``model.safetensors`` (loaded with
``transformers.AutoModelForCausalLM``) and the tokenizer files (``SciTokenizer``).
torch and transformers are imported when a model is loaded, not when this module is,
so the CLI starts fast.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from sciprep.tokenize.specials import EOS, PAD

#: Prompt tokens kept by default (the most recent ones); longer contexts are cut on the left.
DEFAULT_MAX_CONTEXT = 384


class TextTokenizer(Protocol):
    """What decoding needs from a tokenizer (``SciTokenizer`` provides it)."""

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: Sequence[int]) -> str: ...

    def token_to_id(self, token: str) -> int | None: ...


def special_id(tokenizer: TextTokenizer, token: str) -> int:
    """The id of a special token, or a clear error when the tokenizer lacks it."""
    tid = tokenizer.token_to_id(token)
    if tid is None:
        raise ValueError(f"tokenizer has no {token!r} token; was it trained with sciprep's special tokens?")
    return int(tid)


class LanguageModel:
    """A causal LM plus tokenizer, evaluated deterministically in inference mode."""

    def __init__(
        self, model: Any, tokenizer: TextTokenizer, max_context: int = DEFAULT_MAX_CONTEXT, batch_size: int = 8
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        limit = int(getattr(model.config, "max_position_embeddings", 0) or 2048)
        self.max_length = limit
        self.max_context = min(max_context, limit)
        self.batch_size = batch_size
        self.separator_id = special_id(tokenizer, EOS)
        self.pad_id = special_id(tokenizer, PAD)

    @classmethod
    def load(cls, model_dir: str | os.PathLike[str], max_context: int = DEFAULT_MAX_CONTEXT) -> LanguageModel:
        """Load ``model_dir`` (config.json, model.safetensors, tokenizer files)."""
        path = Path(model_dir)
        if not (path / "config.json").is_file():
            raise FileNotFoundError(
                f"{path}: not a model directory (no config.json); pass the trainer's RUN_DIR/model"
            )
        import torch
        from transformers import AutoModelForCausalLM

        from sciprep.tokenize import SciTokenizer

        tokenizer = SciTokenizer.load(path)
        try:
            # safetensors only: a pickled pytorch_model.bin could run code on load.
            model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, use_safetensors=True)
        except OSError as err:
            raise FileNotFoundError(f"{path}: cannot load the model weights ({err})") from err
        if tokenizer.vocab_size > model.config.vocab_size:
            raise ValueError(
                f"{path}: tokenizer has {tokenizer.vocab_size} ids but the model only "
                f"{model.config.vocab_size}; the tokenizer files do not belong to this model"
            )
        model.eval()
        return cls(model, tokenizer, max_context=max_context)

    def prompt(self, text: str, reserve: int) -> PromptedModel:
        """``text`` as a prompt, leaving ``reserve`` positions for the continuation.

        The prompt keeps its last tokens when it is too long; ``</s>`` starts it when
        it fits whole, because that is what precedes a document start in training
        (packed streams separate documents with ``</s>`` and hold no ``<s>``).
        """
        ids = self.tokenizer.encode(text)
        room = max(1, min(self.max_context, self.max_length - reserve))
        if len(ids) < room:
            ids = [self.separator_id, *ids]
        return PromptedModel(self, ids[-room:])


class PromptedModel:
    """A :class:`LanguageModel` with a fixed prompt: implements ``NextTokenModel``.

    The prompt runs once. Its key/value cache, and the cache of every continuation
    asked for in the previous call, are kept: when a beam step asks for continuations
    that each extend one of those by a token (the usual case), only that token is run.
    Other requests recompute their continuation tokens on top of the prompt cache.
    """

    def __init__(self, lm: LanguageModel, prompt_ids: list[int]) -> None:
        self.lm = lm
        self.prompt_ids = prompt_ids
        params = inspect.signature(lm.model.forward).parameters
        self._cache_arg = "cache" if "cache" in params else "past_key_values"
        self._keep_arg = "logits_to_keep" in params
        self._rows: dict[tuple[int, ...], tuple[list[tuple[Any, Any]], np.ndarray]] = {}

    def _run(self, ids: Any, mask: Any, kv: list[tuple[Any, Any]] | None, last_only: bool) -> tuple[Any, Any]:
        """Forward pass; returns (log-probabilities, per-layer (keys, values))."""
        import torch
        from transformers import DynamicCache

        kwargs: dict[str, Any] = {"input_ids": ids, "use_cache": True}
        if mask is not None:
            kwargs["attention_mask"] = mask
        if kv is not None:
            kwargs[self._cache_arg] = DynamicCache(ddp_cache_data=kv)
        if last_only and self._keep_arg:
            kwargs["logits_to_keep"] = 1
        with torch.inference_mode():
            out = self.lm.model(**kwargs)
        cache = getattr(out, "cache", None) or out.past_key_values
        return torch.log_softmax(out.logits.float(), dim=-1), [(layer.keys, layer.values) for layer in cache.layers]

    def _root(self) -> tuple[list[tuple[Any, Any]], np.ndarray]:
        if () not in self._rows:
            import torch

            logp, kv = self._run(torch.tensor([self.prompt_ids], dtype=torch.long), None, None, True)
            self._rows[()] = (kv, logp[0, -1].numpy())
        return self._rows[()]

    def _batch_kv(self, rows: list[list[tuple[Any, Any]]]) -> list[tuple[Any, Any]]:
        import torch

        if len(rows) == 1:
            return rows[0]
        return [
            (torch.cat([r[i][0] for r in rows]), torch.cat([r[i][1] for r in rows])) for i in range(len(rows[0]))
        ]

    def _step(self, continuations: Sequence[Sequence[int]]) -> np.ndarray:
        """One-token extension of cached continuations; caches the new ones."""
        import torch

        parents = [self._rows[tuple(c[:-1])] for c in continuations]
        kv = self._batch_kv([p[0] for p in parents])
        ids = torch.tensor([[c[-1]] for c in continuations], dtype=torch.long)
        logp, new_kv = self._run(ids, None, kv, True)
        rows = logp[:, -1].numpy()
        root = self._rows[()]
        self._rows = {(): root}
        for j, cont in enumerate(continuations):
            self._rows[tuple(cont)] = ([(k[j : j + 1], v[j : j + 1]) for k, v in new_kv], rows[j])
        return rows

    def _full(self, continuations: Sequence[Sequence[int]]) -> Any:
        """``[n, max_len, vocab]`` log-probabilities after each continuation token (right-padded)."""
        import torch

        kv, _ = self._root()
        n = len(continuations)
        width = max(len(c) for c in continuations)
        ids = torch.full((n, width), self.lm.pad_id, dtype=torch.long)
        mask = torch.zeros((n, len(self.prompt_ids) + width), dtype=torch.long)
        mask[:, : len(self.prompt_ids)] = 1
        for i, cont in enumerate(continuations):
            ids[i, : len(cont)] = torch.tensor(list(cont), dtype=torch.long)
            mask[i, len(self.prompt_ids) : len(self.prompt_ids) + len(cont)] = 1
        expanded = [(k.expand(n, -1, -1, -1), v.expand(n, -1, -1, -1)) for k, v in kv]
        logp, _ = self._run(ids, mask, expanded, False)
        return logp

    def next_logprobs(self, continuations: Sequence[Sequence[int]]) -> np.ndarray:
        _, last = self._root()
        if all(not c for c in continuations):
            return np.stack([last] * len(continuations))
        if all(c and tuple(c[:-1]) in self._rows for c in continuations):
            return self._step(continuations)
        out: list[np.ndarray] = []
        for lo in range(0, len(continuations), self.lm.batch_size):
            chunk = continuations[lo : lo + self.lm.batch_size]
            logp = self._full([c or [self.lm.pad_id] for c in chunk])
            out.extend(logp[j, len(c) - 1].numpy() if c else last for j, c in enumerate(chunk))
        return np.stack(out)

    def token_logprobs(self, continuations: Sequence[Sequence[int]]) -> list[np.ndarray]:
        _, last = self._root()
        out: list[np.ndarray] = []
        for lo in range(0, len(continuations), self.lm.batch_size):
            chunk = continuations[lo : lo + self.lm.batch_size]
            logp = self._full([c or [self.lm.pad_id] for c in chunk])
            for j, cont in enumerate(chunk):
                rows = logp[j, : max(0, len(cont) - 1)].numpy()
                out.append(np.concatenate([last[None, :], rows]) if cont else np.zeros((0, last.size)))
        return out
