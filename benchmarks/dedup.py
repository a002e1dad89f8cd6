"""Near-duplicate detection: sciprep vs datatrove, datasketch and rensa on real papers.

Builds a labelled set from the arXiv papers in ``../shared/data/arxiv/unarxive_sample.jsonl``:
each paper is cut into ~500-word passages (consecutive sentences); half of the
passages get four edited copies (2%, 5%, 10% and 20% of words substituted,
inserted or deleted, with words drawn from the same paper, plus adjacent-sentence
swaps), the other half stand alone. Other passages of the same paper are the hard
negatives, and so is a copy of every passage with at least ``MIN_NUMBERS`` numeric
words in which every digit is replaced by a random other digit (the same prose with
other measurements: a different paper, which tools that ignore numbers merge). A
predicted cluster is correct when it joins a passage with its own edited copies and
nothing else.

Prints, for each system and setting, documents/second (end to end: text in,
clusters out; best of ``--repeat`` runs after a warm-up) and pairwise precision,
recall and F1, plus recall per edit rate. Peers run only where importable; install
them in a separate virtualenv, never in the project's::

    python -m venv /tmp/dedup-bench
    /tmp/dedup-bench/bin/pip install "datatrove[processing]" spacy datasketch rensa
    /tmp/dedup-bench/bin/pip install -e . --no-deps
    /tmp/dedup-bench/bin/pip install pyarrow tqdm rdkit biopython "bibtexparser>=2.0.0b7" \
        defusedxml "pylatexenc<3" pyyaml
    /tmp/dedup-bench/bin/python benchmarks/dedup.py 2>/dev/null   # stderr: datatrove's progress bars

Peers shingle with the same words as sciprep (runs of letters and digits,
lowercased; word 5-grams) except datatrove, which uses its own normaliser
(spaCy words, numbers collapsed) as its users get it. Peers cluster by union-find
over LSH candidates, as their pipelines do; sciprep verifies candidates first.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sciprep.cleaning.minhash import MinHashConfig, MinHasher
from sciprep.cleaning.near_duplicates import (
    DEFAULT_MIN_COVERAGE,
    DEFAULT_MIN_NUMBER_AGREEMENT,
    DEFAULT_THRESHOLD,
    candidate_graph,
    cluster,
)

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "arxiv" / "unarxive_sample.jsonl"
EDIT_RATES = (0.02, 0.05, 0.10, 0.20)
#: Numeric words a passage needs before a numbers-changed copy of it is added.
MIN_NUMBERS = 5
_DIGIT = re.compile(r"\d")
_NUMERIC_WORD = re.compile(r"\S*\d\S*")
_MARKER = re.compile(r"\{\{(cite|formula):([^}]*)\}\}")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[$])")
_WORD = re.compile(r"[^\W_]+")


@dataclass
class LabelledSet:
    """Documents, their true cluster (an original and its edits share one), paper and kind."""

    texts: list[str]
    cluster: np.ndarray
    paper: np.ndarray
    kind: list[str]


def _paper_text(record: dict) -> str:
    refs = record.get("ref_entries") or {}

    def marker(m: re.Match[str]) -> str:
        if m.group(1) == "formula":
            entry = refs.get(m.group(2)) or {}
            return f" ${entry.get('latex', '')}$ " if entry.get("latex") else " "
        return " "

    return "\n\n".join(_MARKER.sub(marker, p["text"]) for p in record.get("body_text") or [])


def _passages(text: str, target: int, minimum: int, cap: int) -> list[list[str]]:
    """Consecutive sentences grouped into passages of about ``target`` words."""
    out: list[list[str]] = []
    current: list[str] = []
    count = 0
    for sentence in _SENTENCE_END.split(text):
        sentence = " ".join(sentence.split())
        if not sentence:
            continue
        current.append(sentence)
        count += len(sentence.split())
        if count >= target:
            out.append(current)
            current, count = [], 0
            if len(out) == cap:
                break
    if current and count >= minimum and len(out) < cap:
        out.append(current)
    return out


def _edit(sentences: list[str], rate: float, vocab: list[str], rng: np.random.Generator) -> str:
    """Swap ``round(rate * 20)`` adjacent sentence pairs, then edit ``rate`` of the words."""
    sents = list(sentences)
    for _ in range(int(round(rate * 20))):
        i = int(rng.integers(0, len(sents) - 1)) if len(sents) > 1 else 0
        if i + 1 < len(sents):
            sents[i], sents[i + 1] = sents[i + 1], sents[i]
    words = " ".join(sents).split()
    for _ in range(max(1, int(round(rate * len(words))))):
        op = int(rng.integers(0, 3))
        pos = int(rng.integers(0, len(words)))
        if op == 0:
            words[pos] = vocab[int(rng.integers(0, len(vocab)))]
        elif op == 1:
            words.insert(pos, vocab[int(rng.integers(0, len(vocab)))])
        elif len(words) > 1:
            del words[pos]
    return " ".join(words)


def _change_numbers(text: str, rng: np.random.Generator) -> str:
    """``text`` with every digit replaced by a different one (prose untouched)."""
    return _DIGIT.sub(lambda m: str((int(m.group()) + int(rng.integers(1, 10))) % 10), text)


def build_set(path: Path, seed: int = 0, target: int = 500, cap: int = 16) -> LabelledSet:
    """The labelled near-duplicate set (deterministic for a given file and seed)."""
    rng = np.random.default_rng(seed)
    numbers_rng = np.random.default_rng([seed, 1])  # own stream: the edited copies stay as before
    texts: list[str] = []
    clusters: list[int] = []
    papers: list[int] = []
    kinds: list[str] = []
    with open(path, encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    next_cluster = 0
    for p_idx, record in enumerate(records):
        text = _paper_text(record)
        vocab = sorted(set(text.split()))
        for passage in _passages(text, target, minimum=target // 2, cap=cap):
            texts.append(" ".join(passage))
            clusters.append(next_cluster)
            papers.append(p_idx)
            if rng.random() < 0.5:
                kinds.append("original")
                for rate in EDIT_RATES:
                    texts.append(_edit(passage, rate, vocab, rng))
                    clusters.append(next_cluster)
                    papers.append(p_idx)
                    kinds.append(f"edit {rate:.0%}")
            else:
                kinds.append("single")
            next_cluster += 1
            original = " ".join(passage)
            if len(_NUMERIC_WORD.findall(original)) >= MIN_NUMBERS:
                texts.append(_change_numbers(original, numbers_rng))
                clusters.append(next_cluster)
                papers.append(p_idx)
                kinds.append("numbers changed")
                next_cluster += 1
    return LabelledSet(texts, np.array(clusters), np.array(papers), kinds)


def _pairs(*labels: np.ndarray) -> int:
    """Number of document pairs that agree on every one of ``labels``."""
    _, counts = np.unique(np.stack(labels, axis=1), axis=0, return_counts=True)
    return int((counts * (counts - 1) // 2).sum())


def pair_scores(data: LabelledSet, predicted: np.ndarray) -> tuple[float, float, float, int, int]:
    """Pairwise precision, recall, F1; false pairs; false pairs between passages of one paper."""
    truth = data.cluster
    tp, true_pairs, pred_pairs = _pairs(truth, predicted), _pairs(truth), _pairs(predicted)
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    same_paper_false = _pairs(data.paper, predicted) - tp
    return precision, recall, f1, pred_pairs - tp, same_paper_false


def _union_find(n: int, pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.array([find(i) for i in range(n)])


def _shingle_sets(texts: Sequence[str], ngram: int) -> list[list[str]]:
    out = []
    for text in texts:
        words = _WORD.findall(text.lower())
        if len(words) < ngram:
            out.append([" ".join(words)] if words else [])
        else:
            out.append(list({" ".join(words[i : i + ngram]) for i in range(len(words) - ngram + 1)}))
    return out


@dataclass(frozen=True)
class Setting:
    name: str
    ngram: int
    bands: int
    rows: int
    num_perm: int


def run_sciprep(texts: Sequence[str], s: Setting, threshold: float, min_coverage: float, numbers: float) -> np.ndarray:
    cfg = MinHashConfig(ngram=s.ngram, num_perm=s.num_perm, bands=s.bands, rows=s.rows)
    sketch = MinHasher(cfg).sketch(texts)
    graph = candidate_graph(sketch, cfg)
    return cluster(sketch, graph, cfg.ngram, threshold, min_coverage, min_number_agreement=numbers).keeper


def run_datasketch(texts: Sequence[str], s: Setting) -> np.ndarray:
    from datasketch import MinHash, MinHashLSH

    sets = _shingle_sets(texts, s.ngram)
    hashes = MinHash.bulk([[x.encode("utf-8") for x in shingles] for shingles in sets], num_perm=s.num_perm)
    lsh = MinHashLSH(num_perm=s.num_perm, params=(s.bands, s.rows))
    for i, (m, shingles) in enumerate(zip(hashes, sets)):
        if shingles:
            lsh.insert(i, m)
    pairs = [(i, j) for i, (m, sh) in enumerate(zip(hashes, sets)) if sh for j in lsh.query(m) if j != i]
    return _union_find(len(texts), pairs)


def run_rensa(texts: Sequence[str], s: Setting) -> np.ndarray:
    from rensa import RMinHash, RMinHashLSH

    sets = _shingle_sets(texts, s.ngram)
    hashes = RMinHash.from_token_sets(sets, s.num_perm, 0)
    lsh = RMinHashLSH(0.5, s.num_perm, s.bands)
    keys = [i for i, sh in enumerate(sets) if sh]
    lsh.insert_pairs([(i, hashes[i]) for i in keys])
    found = lsh.query_all([hashes[i] for i in keys])
    pairs = [(i, j) for i, cands in zip(keys, found) for j in cands if j != i]
    return _union_find(len(texts), pairs)


def run_datatrove(texts: Sequence[str], s: Setting) -> np.ndarray:
    import os
    import struct

    os.environ.setdefault("TQDM_DISABLE", "1")
    from datatrove.data import Document
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupSignature,
    )

    from datatrove.utils.logging import logger

    logger.remove()  # its per-bucket log lines would drown the table
    cfg = MinhashConfig(n_grams=s.ngram, num_buckets=s.bands, hashes_per_bucket=s.rows)
    with tempfile.TemporaryDirectory(prefix="dedup-bench-dt-") as tmp:
        root = Path(tmp)
        docs = (Document(text=t, id=str(i)) for i, t in enumerate(texts))
        MinhashDedupSignature(output_folder=str(root / "sigs"), config=cfg).run(docs, rank=0, world_size=1)
        for bucket in range(s.bands):
            MinhashDedupBuckets(str(root / "sigs"), str(root / "buckets"), config=cfg).run(
                rank=bucket, world_size=s.bands
            )
        MinhashDedupCluster(str(root / "buckets"), str(root / "remove"), config=cfg).run()
        pairs = []
        for dup in sorted((root / "buckets").glob("*.dups")):
            data = dup.read_bytes()
            pairs += [(d1, d2) for _, d1, _, d2 in struct.iter_unpack("<4I", data)]
    return _union_find(len(texts), pairs)


def _edit_recall(data: LabelledSet, predicted: np.ndarray) -> dict[str, float]:
    first_of: dict[int, int] = {}
    for i, c in enumerate(data.cluster.tolist()):
        first_of.setdefault(c, i)
    out = {}
    for rate in EDIT_RATES:
        label = f"edit {rate:.0%}"
        idx = [i for i, k in enumerate(data.kind) if k == label]
        hits = sum(predicted[i] == predicted[first_of[int(data.cluster[i])]] for i in idx)
        out[label] = hits / len(idx) if idx else float("nan")
    return out


def _numbers_merged(data: LabelledSet, predicted: np.ndarray) -> float:
    """Share of numbers-changed copies clustered with the passage they were made from."""
    merged, total, source = 0, 0, -1
    for i, kind in enumerate(data.kind):
        if kind in ("original", "single"):
            source = i
        elif kind == "numbers changed":
            total += 1
            merged += int(predicted[i] == predicted[source])
    return merged / total if total else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds (best is reported; datatrove: 1)")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, help="sciprep: minimum Jaccard")
    parser.add_argument("--min-coverage", type=float, default=DEFAULT_MIN_COVERAGE, help="sciprep: minimum coverage")
    parser.add_argument(
        "--min-number-agreement", type=float, default=DEFAULT_MIN_NUMBER_AGREEMENT, help="sciprep: 0 turns it off"
    )
    parser.add_argument("--no-datatrove", action="store_true", help="skip datatrove (slowest peer)")
    args = parser.parse_args()
    if not args.data.is_file():
        raise SystemExit(f"benchmark data not found: {args.data} (pass --data)")

    data = build_set(args.data, args.seed)
    words = np.array([len(t.split()) for t in data.texts])
    print(
        f"{len(data.texts)} documents ({int(np.sum(np.array(data.kind) == 'original'))} originals x "
        f"{len(EDIT_RATES)} edits, {data.kind.count('single')} singles, "
        f"{data.kind.count('numbers changed')} numbers-changed copies) from {len(set(data.paper.tolist()))} "
        f"papers; words/doc mean {words.mean():.0f}; true pairs "
        f"{int(sum(c * (c - 1) // 2 for c in np.unique(data.cluster, return_counts=True)[1]))}"
    )
    default = MinHashConfig()
    ours = Setting(f"sciprep default {default.ngram}-gram {default.bands}x{default.rows}", default.ngram, default.bands, default.rows, default.num_perm)
    fineweb = Setting("FineWeb 5-gram 14x8", 5, 14, 8, 112)
    runs: list[tuple[str, Setting, Callable[[Setting], np.ndarray], int]] = []
    for setting in (ours, fineweb):
        runs.append(
            (
                f"sciprep (J>={args.threshold}, cov>={args.min_coverage}, num>={args.min_number_agreement})",
                setting,
                lambda s: run_sciprep(data.texts, s, args.threshold, args.min_coverage, args.min_number_agreement),
                args.repeat,
            )
        )
    peers: list[tuple[str, str, Callable[[Sequence[str], Setting], np.ndarray], int]] = [
        ("rensa", "rensa", run_rensa, args.repeat),
        ("datasketch", "datasketch", run_datasketch, args.repeat),
        ("datatrove", "datatrove", run_datatrove, 1),
    ]
    for name, module, fn, repeat in peers:
        if name == "datatrove" and args.no_datatrove:
            print(f"skipping {name}: --no-datatrove")
            continue
        try:
            __import__(module)
        except ImportError as err:
            print(f"skipping {name}: not importable here ({err}); see the module docstring")
            continue
        for setting in (ours, fineweb):
            runs.append((name, setting, lambda s, fn=fn: fn(data.texts, s), repeat))

    # Interleaved rounds: load from other processes on a shared machine hits every system alike.
    labels = [fn(setting) for _, setting, fn, _ in runs]  # warm-up (imports, caches) and the output
    best = [float("inf")] * len(runs)
    for round_ in range(args.repeat):
        for k, (_, setting, fn, repeat) in enumerate(runs):
            if round_ < repeat:
                start = time.perf_counter()
                fn(setting)
                best[k] = min(best[k], time.perf_counter() - start)
    speed = [len(data.texts) / seconds for seconds in best]
    baseline = {setting.name: speed[k] for k, (name, setting, _, _) in enumerate(runs) if name == "rensa"}

    header = f"{'system':42} {'setting':26} {'docs/s':>7} {'x rensa':>7} {'P':>6} {'R':>6} {'F1':>6} " + " ".join(
        f"{f'R@{r:.0%}':>6}" for r in EDIT_RATES
    ) + f" {'FP':>6} {'FP-same':>7} {'N-merged':>8}"
    print(header)
    print("-" * len(header))
    for k, (name, setting, _, _) in enumerate(runs):
        p, r, f1, false_pairs, same_paper = pair_scores(data, labels[k])
        per_rate = _edit_recall(data, labels[k])
        ratio = f"{speed[k] / baseline[setting.name]:7.2f}" if setting.name in baseline else f"{'-':>7}"
        print(
            f"{name:42} {setting.name:26} {speed[k]:7.0f} {ratio} {p:6.3f} {r:6.3f} {f1:6.3f} "
            + " ".join(f"{v:6.2f}" for v in per_rate.values())
            + f" {false_pairs:6d} {same_paper:7d} {_numbers_merged(data, labels[k]):8.2f}"
        )
    print("P/R/F1: pairwise over true clusters; R@x: edited copies at x found with their original;")
    print("FP: false pairs; FP-same: false pairs between passages of one paper (hard negatives);")
    print("N-merged: share of numbers-changed copies merged with the passage they were made from.")
    _sensitivity(data)


def _sensitivity(data: LabelledSet) -> None:
    """Pairwise P/R/F1 of sciprep's default banding over a grid of decision thresholds."""
    cfg = MinHashConfig()
    sketch = MinHasher(cfg).sketch(data.texts)
    graph = candidate_graph(sketch, cfg)
    coverages = (0.0, 0.3, 0.45, 0.6)
    print(f"\nsciprep decision sensitivity ({cfg.bands}x{cfg.rows}, one sketch): P / R / F1")
    print(f"{'min Jaccard':>11} " + " ".join(f"{f'coverage>={c}':>20}" for c in coverages))
    for threshold in (0.1, 0.15, 0.17, 0.2, 0.3, 0.5):
        cells = []
        for coverage in coverages:
            p, r, f1, _, _ = pair_scores(data, cluster(sketch, graph, cfg.ngram, threshold, coverage).keeper)
            cells.append(f"{p:.3f} / {r:.3f} / {f1:.3f}")
        print(f"{threshold:11.2f} " + " ".join(f"{c:>20}" for c in cells))
    print(f"\nnumber agreement (J>={DEFAULT_THRESHOLD}, cov>={DEFAULT_MIN_COVERAGE}): P / R / F1 / N-merged")
    for agreement in (0.0, 0.1, 0.2, 0.3, 0.5, 0.7):
        keeper = cluster(sketch, graph, cfg.ngram, min_number_agreement=agreement).keeper
        p, r, f1, _, _ = pair_scores(data, keeper)
        print(f"{agreement:11.2f} {p:.3f} / {r:.3f} / {f1:.3f} / {_numbers_merged(data, keeper):.3f}")


if __name__ == "__main__":
    main()
