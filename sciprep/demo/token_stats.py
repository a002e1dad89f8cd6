"""Tokenizer statistics on a corpus: tokens and tokens per byte per modality, and examples.

Galactica's tokenizer treats each modality by its own rules (one token per SMILES,
amino-acid or nucleotide character, split digits in math, BPE in prose), so a single
tokens-per-byte figure hides what matters. Here every markup span is encoded on its
own, with its tags, exactly as the tokenizer encodes it inside a document (no merge
crosses a span boundary), and counted apart; the tags themselves are counted as
``markup``. The sum over modalities is the document's token count.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sciprep.corpus.modality import MODALITIES
from sciprep.corpus.shards import iter_documents
from sciprep.tokenize.specials import MARKUP

#: Markup kind -> the modality its content counts to (as in the corpus manifest).
SPAN_MODALITY = {"math": "math", "smiles": "smiles", "i_smiles": "smiles", "amino": "amino", "dna": "dna",
                 "ref": "ref"}  # fmt: skip
#: Kinds of span shown as tokenised examples in the report, in this order (``work``: a worked
#: solution, whose content is counted by the modalities inside it, not as a modality of its own).
EXAMPLE_KINDS = ("smiles", "i_smiles", "amino", "dna", "math", "ref", "work")
#: Token pieces shown per example.
EXAMPLE_TOKENS = 48

_WORK = re.compile(f"{re.escape(MARKUP['work'][0])}.*?{re.escape(MARKUP['work'][1])}", re.DOTALL)
_SPAN = re.compile(
    "|".join(f"(?P<{kind}>{re.escape(MARKUP[kind][0])}.*?{re.escape(MARKUP[kind][1])})" for kind in SPAN_MODALITY),
    re.DOTALL,
)


def tagged_spans(text: str) -> Iterator[tuple[str, str]]:
    """``(kind, span with its tags)`` for each markup span of ``text``, in order."""
    for match in _SPAN.finditer(text):
        kind = match.lastgroup or ""
        yield kind, match.group(kind)


def _tag_bytes(kind: str) -> int:
    return sum(len(tag.encode("utf-8")) for tag in MARKUP[kind])


def token_statistics(tokenizer_dir: Path, corpus_dir: Path) -> dict[str, Any]:
    """Tokens, bytes and tokens per byte per modality and per source; examples of each span kind."""
    from sciprep.tokenize.tokenizer import SciTokenizer

    tok = SciTokenizer.load(tokenizer_dir)
    docs = list(iter_documents(corpus_dir))
    doc_tokens = [len(ids) for ids in tok.encode_batch([d.text for d in docs])]
    spans = [(i, kind, span) for i, d in enumerate(docs) for kind, span in tagged_spans(d.text)]
    span_tokens = [len(ids) for ids in tok.encode_batch([span for _, _, span in spans])] if spans else []
    modalities = (*MODALITIES, "markup")
    tokens = dict.fromkeys(modalities, 0)
    nbytes = dict.fromkeys(modalities, 0)
    by_source: dict[str, dict[str, Any]] = {}
    per_doc_span_tokens = [0] * len(docs)
    per_doc_span_bytes = [0] * len(docs)
    for (i, kind, span), count in zip(spans, span_tokens, strict=True):
        modality = SPAN_MODALITY[kind]
        content_tokens, content_bytes = count - 2, len(span.encode("utf-8")) - _tag_bytes(kind)
        tokens[modality] += content_tokens
        nbytes[modality] += content_bytes
        tokens["markup"] += 2
        nbytes["markup"] += _tag_bytes(kind)
        per_doc_span_tokens[i] += count
        per_doc_span_bytes[i] += len(span.encode("utf-8"))
        source = by_source.setdefault(docs[i].source, _source_entry(modalities))
        source["tokens"][modality] += content_tokens
        source["tokens"]["markup"] += 2
    for i, doc in enumerate(docs):
        prose_tokens = doc_tokens[i] - per_doc_span_tokens[i]
        tokens["text"] += prose_tokens
        nbytes["text"] += len(doc.text.encode("utf-8")) - per_doc_span_bytes[i]
        source = by_source.setdefault(doc.source, _source_entry(modalities))
        source["documents"] += 1
        source["tokens"]["text"] += prose_tokens
    for source in by_source.values():
        source["total"] = sum(source["tokens"].values())
    total = sum(doc_tokens)
    return {
        "vocab_size": tok.vocab_size,
        "requested_vocab_size": tok.info.get("requested_vocab_size"),
        "sample_docs": tok.info.get("sample_docs"),
        "smiles_mode": tok.info.get("smiles"),
        "tokens": tokens,
        "bytes": nbytes,
        "tokens_per_byte": {m: round(tokens[m] / nbytes[m], 4) for m in modalities if nbytes[m]},
        "total_tokens": total,
        "total_bytes": sum(nbytes.values()),
        "sources": dict(sorted(by_source.items())),
        "examples": _examples(tok, spans + [(i, "work", m.group(0)) for i, d in enumerate(docs)
                                             for m in _WORK.finditer(d.text)]),
    }


def _source_entry(modalities: tuple[str, ...]) -> dict[str, Any]:
    return {"documents": 0, "tokens": dict.fromkeys(modalities, 0)}


def _examples(tok: Any, spans: list[tuple[int, str, str]]) -> list[dict[str, Any]]:
    """The first span of each example kind (the shortest display math and worked solution) as token pieces."""
    chosen: dict[str, str] = {}
    for _, kind, span in spans:
        if kind not in EXAMPLE_KINDS:
            continue
        if kind in ("math", "work"):
            display = kind == "work" or "\\begin{equation}" in span or "\\[" in span
            if display and (kind not in chosen or len(span) < len(chosen[kind])):
                chosen[kind] = span
        else:
            chosen.setdefault(kind, span)
    out = []
    for kind in EXAMPLE_KINDS:
        if kind in chosen:
            pieces = tok.tokens(chosen[kind])
            out.append({"kind": kind, "text": chosen[kind], "tokens": pieces[:EXAMPLE_TOKENS],
                        "token_count": len(pieces), "bytes": len(chosen[kind].encode("utf-8"))})  # fmt: skip
    return out
