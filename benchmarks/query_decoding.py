"""Speed of citation queries against the paths users compare them with.

On one reference index (the TUGboat BibTeX sample of ``../shared/data``, 2,700 entries,
through ``sciprep corpus build`` and ``sciprep query index``) and one random-initialised
Llama (4 layers, d=256, tokenizer trained on the same corpus), prints per query:

* sciprep trie-constrained beam search (prompt + beam key/value cache);
* the same search with no cache (the whole sequence re-run at each step);
* ``transformers`` ``generate(num_beams=..., prefix_allowed_tokens_fn=trie)``, the
  GENRE / galai way of constraining generation, and how often its top answer agrees;
* BM25 retrieval: sciprep's inverted-index numpy BM25 vs a pure-Python BM25 that
  scores every document (rank_bm25's approach), with top-10 agreement.

Targets: constrained search >= 2x the HF generate path and >= 2x the uncached path;
BM25 >= 10x the pure-Python scorer with identical rankings.

    python benchmarks/query_decoding.py [--queries 20] [--beam 8] [--threads 1]
"""

from __future__ import annotations

import argparse
import math
import random
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from sciprep.cli import main as sciprep
from sciprep.corpus.shards import iter_documents
from sciprep.query import BM25, CitationSearcher, LanguageModel, QueryIndex, beam_search, citation_prompt
from sciprep.query.bm25 import analyze
from sciprep.tokenize import SciTokenizer
from sciprep.tokenize.specials import END_REF, SPECIAL_IDS

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


class _Uncached:
    """NextTokenModel that re-runs prompt + continuation at every step (the naive loop)."""

    def __init__(self, lm: LanguageModel, prompt: list[int]) -> None:
        self.lm, self.prompt = lm, prompt

    def next_logprobs(self, continuations: Sequence[Sequence[int]]) -> np.ndarray:
        ids = torch.tensor([self.prompt + list(c) for c in continuations])
        with torch.inference_mode():
            logits = self.lm.model(input_ids=ids).logits[:, -1].float()
        return torch.log_softmax(logits, dim=-1).numpy()

    def token_logprobs(self, continuations: Sequence[Sequence[int]]) -> list[np.ndarray]:
        raise TypeError("not used by beam_search")


class _PythonBM25:
    """rank_bm25-style Okapi BM25: a dict of term counts per document, every document scored."""

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.docs = [Counter(analyze(t)) for t in texts]
        self.lengths = [sum(d.values()) for d in self.docs]
        self.avg = sum(self.lengths) / len(self.docs)
        df: Counter[str] = Counter()
        for d in self.docs:
            df.update(d.keys())
        n = len(self.docs)
        self.idf = {t: math.log1p((n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.k1, self.b = k1, b

    def search(self, query: str, k: int) -> list[int]:
        terms = Counter(analyze(query))
        scores = []
        for i, (doc, length) in enumerate(zip(self.docs, self.lengths)):
            s = 0.0
            for t, q in terms.items():
                tf = doc.get(t, 0)
                if tf:
                    norm = self.k1 * (1 - self.b + self.b * length / self.avg)
                    s += q * self.idf[t] * tf * (self.k1 + 1) / (tf + norm)
            scores.append((-s, i))
        return [i for s, i in sorted(scores)[:k] if s < 0]


def _timed(fn, repeat: int = 1) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for _ in range(repeat):
        out = fn()
    return (time.perf_counter() - start) / repeat, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--beam", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="sciprep-query-bench-") as tmp:
        _run(args, Path(tmp))


def _run(args: argparse.Namespace, work: Path) -> None:
    assert sciprep(["corpus", "build", str(DATA / "bib" / "tugboat.bib"), "--out", str(work / "corpus"),
                    "--no-progress"]) == 0  # fmt: skip
    assert sciprep(["query", "index", str(work / "corpus"), "--out", str(work / "index"), "--no-progress"]) == 0
    texts = [d.text for d in iter_documents(work / "corpus")]
    tokenizer = SciTokenizer().train(texts, vocab_size=8000, sample_fraction=1.0, seed=0, min_sample_docs=1)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=tokenizer.vocab_size, hidden_size=256, intermediate_size=688, num_hidden_layers=4,
                         num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=1024,
                         bos_token_id=0, pad_token_id=1, eos_token_id=SPECIAL_IDS[END_REF], tie_word_embeddings=True)
    LlamaForCausalLM(config).save_pretrained(work / "model")
    tokenizer.save(work / "model")
    index = QueryIndex.load(work / "index")
    lm = LanguageModel.load(work / "model")
    searcher = CitationSearcher(index, lm)
    trie = searcher.trie
    rng = random.Random(0)
    picks = rng.sample(index.references, args.queries)
    contexts = [f"The TUGboat article on {' '.join(e.title.split()[:4])} by {e.surname}" for e in picks]
    end = SPECIAL_IDS[END_REF]
    print(f"{len(index.references)} references, trie of {len(trie)} entries, {args.queries} queries, "
          f"beam {args.beam}, {args.threads} thread(s)")

    t_ours, ours = _timed(lambda: [searcher.constrained(c, k=5) for c in contexts])

    def uncached() -> list[list[int]]:
        out = []
        for c in contexts:
            prompt = lm.prompt(citation_prompt(c), reserve=searcher.settings.max_tokens).prompt_ids
            hyps = beam_search(_Uncached(lm, prompt), beam=args.beam, k=5, max_steps=searcher.settings.max_tokens,
                               end_id=end, trie=trie)
            out.append(hyps[0].values[0])
        return out

    t_nocache, nocache = _timed(uncached)

    def hf_generate() -> list[str]:
        out = []
        for c in contexts:
            prompt = lm.prompt(citation_prompt(c), reserve=searcher.settings.max_tokens).prompt_ids
            n = len(prompt)

            def allowed(_: int, ids: torch.Tensor, n: int = n) -> list[int]:
                node = trie.walk(ids[n:].tolist())
                return [end] if node is None else trie.allowed(node).tolist() or [end]

            with torch.inference_mode():
                gen = lm.model.generate(torch.tensor([prompt]), num_beams=args.beam, num_return_sequences=1,
                                        max_new_tokens=searcher.settings.max_tokens, do_sample=False,
                                        prefix_allowed_tokens_fn=allowed, eos_token_id=end, pad_token_id=1)
            out.append(lm.tokenizer.decode(gen[0, n:].tolist()).replace(END_REF, "").strip())
        return out

    t_hf, hf = _timed(hf_generate)
    agree_nocache = sum(o[0].source["index_id"] == index.references[i].id for o, i in zip(ours, nocache))
    agree_hf = sum(o[0].text == h for o, h in zip(ours, hf))
    n = args.queries
    print(f"constrained beam search (cached)  {1000 * t_ours / n:8.1f} ms/query")
    print(f"same search, no cache             {1000 * t_nocache / n:8.1f} ms/query   "
          f"speed-up x{t_nocache / t_ours:.2f}, same top-1 {agree_nocache}/{n}")
    print(f"HF generate + prefix_allowed_fn   {1000 * t_hf / n:8.1f} ms/query   "
          f"speed-up x{t_hf / t_ours:.2f}, same top-1 {agree_hf}/{n} (HF ranks by unrenormalised log-prob)")

    docs = [" ".join([e.title, e.surname, e.raw]) for e in index.references] * 10
    queries = [e.title for e in rng.sample(index.references, 200)]
    t_build, bm25 = _timed(lambda: BM25(docs))
    t_pybuild, pybm25 = _timed(lambda: _PythonBM25(docs))
    t_q, fast = _timed(lambda: [[i for i, _ in bm25.search(q, 10)] for q in queries])
    t_pyq, slow = _timed(lambda: [pybm25.search(q, 10) for q in queries])
    same = sum(a == b for a, b in zip(fast, slow))
    print(f"BM25 over {len(docs)} documents: build {t_build:.2f}s (pure Python {t_pybuild:.2f}s); "
          f"{1000 * t_q / len(queries):.2f} ms/query vs {1000 * t_pyq / len(queries):.2f} ms/query "
          f"-> x{t_pyq / t_q:.1f}, identical top-10 {same}/{len(queries)}")


if __name__ == "__main__":
    main()
