"""A prefix trie over token-id sequences: the set of answers generation may produce.

Each index entry's tokenised ``Title, Surname[END_REF]`` is one path; the node reached
after the last token holds the entry's index. At every decoding step the trie says
which next tokens keep the output inside the index, which is all a logits mask needs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class TokenTrie:
    """Token-id sequences stored as a trie; node 0 is the root.

    ``values[i]`` is attached to the node at the end of ``sequences[i]``; two identical
    sequences share one node and keep both values, in insertion order.
    """

    def __init__(self, sequences: Sequence[Sequence[int]], values: Sequence[int]) -> None:
        if len(sequences) != len(values):
            raise ValueError(f"{len(sequences)} sequences but {len(values)} values")
        self._children: list[dict[int, int]] = [{}]
        self._values: dict[int, list[int]] = {}
        self._allowed_cache: dict[int, np.ndarray] = {}
        for seq, value in zip(sequences, values):
            if not seq:
                raise ValueError(f"empty token sequence for value {value}")
            node = 0
            for tok in seq:
                nxt = self._children[node].get(int(tok))
                if nxt is None:
                    nxt = len(self._children)
                    self._children.append({})
                    self._children[node][int(tok)] = nxt
                node = nxt
            self._values.setdefault(node, []).append(int(value))
        self.size = len(sequences)

    def __len__(self) -> int:
        return self.size

    def child(self, node: int, token: int) -> int | None:
        """The node after ``token`` from ``node``, or None when that leaves the trie."""
        return self._children[node].get(int(token))

    def allowed(self, node: int) -> np.ndarray:
        """Sorted token ids that continue a path from ``node`` (empty at a leaf)."""
        cached = self._allowed_cache.get(node)
        if cached is None:
            cached = np.array(sorted(self._children[node]), dtype=np.int64)
            self._allowed_cache[node] = cached
        return cached

    def values(self, node: int) -> list[int]:
        """Values of the sequences ending exactly at ``node``."""
        return self._values.get(node, [])

    def walk(self, tokens: Sequence[int]) -> int | None:
        """The node reached by ``tokens`` from the root, or None when they leave the trie."""
        node: int | None = 0
        for tok in tokens:
            assert node is not None
            node = self.child(node, tok)
            if node is None:
                return None
        return node

    def lookup(self, tokens: Sequence[int]) -> list[int]:
        """Values of exactly ``tokens`` ([] when it is not a stored sequence)."""
        node = self.walk(tokens)
        return [] if node is None else self.values(node)
