"""Charts of the demo report, drawn with matplotlib (Agg) and returned as PNG bytes.

PNG bytes are deterministic for the same data (matplotlib writes no timestamp into a
PNG), so the report stays byte-identical across reruns.
"""

from __future__ import annotations

import io
from typing import Any

#: Modalities in chart order, with the colour of each bar segment.
MODALITY_COLOURS = {
    "text": "#4c72b0", "math": "#dd8452", "smiles": "#55a868", "amino": "#c44e52", "dna": "#8172b3",
    "ref": "#937860", "markup": "#8c8c8c",
}  # fmt: skip


def tokens_by_source_png(token_stats: dict[str, Any]) -> bytes:
    """Horizontal stacked bars: tokens of each modality in each source."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sources = list(token_stats["sources"])
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(sources) + 1.4), constrained_layout=True)
    left = [0] * len(sources)
    for modality, colour in MODALITY_COLOURS.items():
        values = [token_stats["sources"][s]["tokens"].get(modality, 0) for s in sources]
        if any(values):
            ax.barh(sources, values, left=left, color=colour, label=modality)
            left = [a + b for a, b in zip(left, values, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("tokens (cleaned corpus, trained tokenizer)")
    ax.legend(ncols=len(MODALITY_COLOURS), loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False, fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()
