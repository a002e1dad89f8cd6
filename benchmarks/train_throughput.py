"""Training throughput: the sciprep trainer vs a bare PyTorch loop, same model and batch.

Both train the same preset model (same seed, AdamW 0.9/0.95, weight decay 0.1, clip
1.0) on the same packed windows. The bare loop is the minimum a training step needs
(index a window batch, forward, loss, backward, clip, step). The trainer runs its
full loop (per-epoch plan, accounting, logging, scheduling) with evaluation and
checkpointing only at the end; its steady-state tokens/s is the median of its own
logged windows, the bare loop is timed over identical windows of steps.

Run: ``python benchmarks/train_throughput.py [--preset tiny] [--steps 40]``.
Needs ``../shared/data`` (real arXiv text) for the corpus.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from sciprep.corpus.document import Document
from sciprep.corpus.shards import write_documents
from sciprep.tokenize import SciTokenizer
from sciprep.training import PretrainConfig, WindowPlanner, build_model, model_config, pack_corpus, pretrain
from sciprep.training.distributed import resolve_device
from sciprep.training.loop import autocast_context, make_optimizer, token_loss
from sciprep.training.metrics import read_metrics

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "arxiv" / "unarxive_sample.jsonl"


def cpu_model() -> str:
    """The CPU's marketing name (Linux), else the architecture."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.machine()


def build_packed(root: Path, vocab_size: int) -> Path:
    docs = []
    with open(DATA, encoding="utf-8") as fh:
        for line in fh:
            paper = json.loads(line)
            text = "\n\n".join(p["text"] for p in paper["body_text"][:40])
            docs.append(Document(id=paper["paper_id"], text=text, source="arxiv", kind="paper"))
    write_documents(root / "corpus" / "shards" / "arxiv-00000.parquet", docs)
    SciTokenizer().train([d.text for d in docs], vocab_size=vocab_size, sample_fraction=1.0).save(root / "tok")
    pack_corpus(root / "corpus", root / "tok", root / "packed", val_fraction=0.2, progress=False)
    return root / "packed"


def bare_loop(cfg: PretrainConfig, vocab: int, steps: int, window: int) -> list[float]:
    """tokens/s of each ``window`` steps of a minimal loop on the same windows."""
    device = resolve_device(cfg.device)
    model = build_model(model_config(cfg.preset, vocab, cfg.context_length), cfg.seed).to(device)
    optimizer = make_optimizer(model, cfg, device)
    planner = WindowPlanner(cfg.data, cfg.context_length, cfg.seed)
    per_epoch = len(planner.plan(0)) // cfg.batch_size
    rates, tokens, clock = [], 0, time.perf_counter()
    for step in range(steps):
        epoch, index = divmod(step, per_epoch)
        rows = planner.plan(epoch)[index * cfg.batch_size : (index + 1) * cfg.batch_size]
        inputs, targets = planner.batch(rows)
        x, y = torch.from_numpy(inputs["input_ids"]).to(device), torch.from_numpy(targets).to(device)
        with autocast_context(device, cfg.precision):
            loss = token_loss(model(input_ids=x).logits, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        tokens += x.numel()
        if (step + 1) % window == 0:
            if device.type == "cuda":
                torch.cuda.synchronize()
            loss.item()
            rates.append(tokens / (time.perf_counter() - clock))
            tokens, clock = 0, time.perf_counter()
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--context-length", type=int, default=128)
    parser.add_argument("--window", type=int, default=10, help="steps per throughput measurement")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--vocab-size", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not DATA.exists():
        print(f"benchmark needs {DATA}", file=sys.stderr)
        return 1
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        packed = build_packed(Path(tmp), args.vocab_size)
        cfg = PretrainConfig(data=str(packed), out=str(Path(tmp) / "run"), preset=args.preset,
                             context_length=args.context_length, batch_size=args.batch_size, epochs=None,
                             max_tokens=args.steps * args.batch_size * args.context_length, eval_windows=1,
                             log_interval=args.window, checkpoint_interval=0, progress=False)  # fmt: skip
        vocab = SciTokenizer.load(packed / "tokenizer").vocab_size
        ratios, bares, ours, gflops, mfu, walls = [], [], [], [], [], []
        for repeat in range(args.repeats):  # alternate (and swap order) so machine noise hits both alike
            if repeat % 2:
                start = time.perf_counter()
                pretrain(cfg)
                walls.append(time.perf_counter() - start)
            bare = statistics.median(bare_loop(cfg, vocab, args.steps, args.window)[1:])
            if not repeat % 2:
                start = time.perf_counter()
                pretrain(cfg)
                walls.append(time.perf_counter() - start)
            records = [r for r in read_metrics(cfg.out) if r["type"] == "train"][1:]
            mine = statistics.median(r["tokens_per_s"] for r in records)
            bares.append(bare)
            ours.append(mine)
            ratios.append(mine / bare)
            gflops.append(statistics.median(r["gflops_per_s"] for r in records))
            mfu += [r["mfu"] for r in records if "mfu" in r]
            cfg.resume = False
    device = resolve_device("auto")
    cpu = f"{cpu_model()}, {args.threads} thread(s), {os.cpu_count()} cores visible"
    name = torch.cuda.get_device_name() if device.type == "cuda" else cpu
    print(f"device: {name}; preset {args.preset}, batch {args.batch_size} x {args.context_length} tokens, "
          f"{args.steps} steps, {args.repeats} alternating repeats")
    print(f"bare PyTorch loop : {statistics.median(bares):12,.0f} tokens/s (median)")
    print(f"sciprep trainer   : {statistics.median(ours):12,.0f} tokens/s (median), "
          f"{statistics.median(gflops):.1f} GFLOP/s" + (f", MFU {statistics.median(mfu):.1%}" if mfu else ""))
    print(f"ratio             : {statistics.median(ratios):.3f}x median (per repeat: "
          + ", ".join(f"{r:.2f}" for r in ratios) + "; target >= 0.9x)")
    wall = statistics.median(walls)
    print(f"sciprep end-to-end wall for the run incl. model build, final eval, checkpoint, export: {wall:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
