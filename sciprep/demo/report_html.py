"""``DIR/report.html``: one self-contained page showing what every stage of the demo did.

Self-contained means it opens offline from a file: inline CSS, PNGs embedded as base64
``data:`` URIs, no external URL, font or script (one inline script only marks, on the
``<body>``, how many images decoded, for automated checks). All corpus text, reasons
and answers are untrusted and go through :func:`html.escape`. The page holds no
timestamps or run times, so the same run gives the same bytes; it is written atomically.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from sciprep.atomicio import write_text_atomic
from sciprep.demo.charts import MODALITY_COLOURS, tokens_by_source_png
from sciprep.demo.headlines import model_effect
from sciprep.demo.tuned_answers import describe_summary

#: Section ids, in page order, with their headings (tests and readers rely on the ids).
SECTIONS: dict[str, str] = {
    "sources": "Source mix and tokens per modality",
    "cleaning": "What cleaning removed, and why",
    "tokenizer": "Tokenizer",
    "training": "Pretraining: loss by epoch",
    "tuning": "Prompt tuning",
    "answers": "Citation and formula queries",
    "files": "Outputs, and how to continue from them",
}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1100px;
 padding:1.5rem;color:#1d2330;line-height:1.45}
h1{margin-bottom:.2rem}h2{border-bottom:2px solid #d8dde6;padding-bottom:.2rem;margin-top:2.2rem}
nav a{margin-right:1rem}table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}
th,td{border:1px solid #d8dde6;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f1f4f8}td.n{text-align:right;font-variant-numeric:tabular-nums}
.excerpt{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.8rem;white-space:pre-wrap;max-width:640px}
.tok{display:inline-block;border:1px solid #9fb3d1;background:#eef3fb;border-radius:3px;margin:1px;
 padding:0 3px;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.8rem;white-space:pre}
.ok{color:#1b7f3b}.bad{color:#b3261e}.muted{color:#5c6675}img{max-width:100%;border:1px solid #d8dde6}
"""

_SCRIPT = """
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var decoded = images.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute("data-images-decoded", decoded + "/" + images.length);
});
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _num(value: float | int | None, digits: int = 3) -> str:
    if value is None:
        return "–"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.{digits}f}"


def _table(header: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    """A table; ``rows`` hold already-escaped HTML cells, ``numeric`` column indexes align right."""
    numeric = numeric or set()
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(row))
        + "</tr>" for row in rows
    )  # fmt: skip
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _png(data: bytes, alt: str) -> str:
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}">'


def _sources(f: dict[str, Any]) -> str:
    stats, corpus = f["tokenizer"], f["corpus"]
    modalities = [m for m in MODALITY_COLOURS if stats["tokens"].get(m)]
    total = stats["total_tokens"] or 1
    rows = []
    for name, s in stats["sources"].items():
        built = corpus["sources"].get(name, {})
        rows.append([_e(name), _num(built.get("documents")), _num(s["documents"]),
                     *[_num(s["tokens"].get(m, 0)) for m in modalities], _num(s["total"]),
                     f"{s['total'] / total:.1%}", _e(f"{built.get('weight', 1.0):g}")])  # fmt: skip
    table = _table(["source", "documents built", "after cleaning", *modalities, "tokens", "share", "weight"], rows,
                   numeric=set(range(1, len(modalities) + 6)))  # fmt: skip
    chart = _png(tokens_by_source_png(stats), "tokens per modality by source")
    rejects = _table(["source", "file", "position", "reason"],
                     [[_e(r["source"]), _e(r["file"]), _e(r["position"]), _e(r["reason"])] for r in corpus["rejects"]])
    return (f"<p>{_num(corpus['documents'])} documents were built from {len(corpus['sources'])} sources; "
            f"{_num(corpus['rejected'])} input record(s) could not be used and are kept as rejects with their reason. "
            f"Tokens are counted with the trained tokenizer on the cleaned corpus; <code>markup</code> is the "
            f"Galactica tags around spans.</p>{table}{chart}"
            f"<h3>Corpus rejects</h3>{rejects if corpus['rejects'] else '<p>None.</p>'}")  # fmt: skip


def _cleaning(f: dict[str, Any]) -> str:
    c = f["cleaning"]
    steps = _table(["step", "in", "removed", "modified", "rejected"],
                   [[_e(s["label"]), _num(s["entered"]), _num(s["removed"]), _num(s["modified"]), _num(s["rejected"])]
                    for s in c["steps"]], numeric={1, 2, 3, 4})  # fmt: skip
    removed = _table(["step", "reason", "document", "excerpt"],
                     [[_e(r["step"]), _e(r["reason"]), _e(f"{r['source']}/{r['id']}"),
                       f'<div class="excerpt">{_e(r["excerpt"])}</div>'] for r in c["removed_examples"]])  # fmt: skip
    redactions = "".join(f'<p><b>{_e(r["source"])}/{_e(r["id"])}</b></p><div class="excerpt">{_e(r["excerpt"])}</div>'
                         for r in c["redactions"])  # fmt: skip
    by_step = ", ".join(f"{_e(row['step'])} {row['removed']}" for row in c["removed_by_step"]) or "nothing"
    return (f'<p class="ok">in {_num(c["in"])} = kept {_num(c["kept"])} + removed {_num(c["removed"])} + rejected '
            f'{_num(c["rejected"])}</p><p>Removed by step: {by_step}. Every removed document is kept in '
            f"<code>clean/excluded/</code> with its step, reason and score.</p>{steps}"
            f"<h3>Removed documents (examples)</h3>{removed}"
            f"<h3>Redacted personal data (kept documents the <code>pii</code> step edited)</h3>"
            f"{redactions or '<p>None.</p>'}")  # fmt: skip


def _visible(piece: str) -> str:
    """A token piece with its whitespace made visible (spaces as ·, line breaks as ↵)."""
    return piece.replace(" ", "·").replace("\n", "↵")


def _tokenizer(f: dict[str, Any]) -> str:
    t = f["tokenizer"]
    rows = [[_e(m), _num(t["bytes"].get(m, 0)), _num(t["tokens"].get(m, 0)), _num(t["tokens_per_byte"][m], 3)]
            for m in MODALITY_COLOURS if m in t["tokens_per_byte"]]  # fmt: skip
    examples = "".join(
        f"<h4>{_e(x['kind'])}: {x['token_count']} tokens for {x['bytes']} bytes</h4>"
        f'<div class="excerpt">{_e(x["text"])}</div><p>'
        + "".join(f'<span class="tok">{_e(_visible(piece))}</span>' for piece in x["tokens"])
        + (" <span class='muted'>…</span>" if x["token_count"] > len(x["tokens"]) else "") + "</p>"
        for x in t["examples"]
    )  # fmt: skip
    return (f"<p>Vocabulary {_num(t['vocab_size'])} (requested {_num(t['requested_vocab_size'])}), trained on "
            f"{_num(t['sample_docs'])} documents; SMILES split per {_e(t['smiles_mode'])}. SMILES, protein and DNA "
            f"are one token per character and digits are single tokens, so those modalities cost about one "
            f"token per byte, while prose shares BPE merges.</p>"
            f"{_table(['modality', 'bytes', 'tokens', 'tokens per byte'], rows, numeric={1, 2, 3})}"
            f"<h3>Examples, as token pieces</h3><p class='muted'>· is a space, ↵ a line break.</p>"
            f"{examples}")  # fmt: skip


def _training(f: dict[str, Any], images: dict[str, bytes]) -> str:
    p, t = f["packing"], f["pretraining"]
    modalities = sorted({m for e in t["epochs"] for m in e["val_by_modality"]})
    rows = [[_num(e["epoch"], 2), _num(e["train_loss"]), _num(e["val_loss"]),
             *[_num(e["val_by_modality"].get(m)) for m in modalities]] for e in t["epochs"]]  # fmt: skip
    splits = _table(["split", "documents", "tokens", "tokens by modality"],
                    [[_e(n), _num(s["documents"]), _num(s["tokens"]),
                      _e(", ".join(f"{m} {v:,}" for m, v in s["modality_tokens"].items() if v))]
                     for n, s in p["splits"].items()], numeric={1, 2})  # fmt: skip
    m = t["model"]
    header = ["epoch", "train loss", "val loss", *[f"val {x}" for x in modalities]]
    losses = _table(header, rows, set(range(len(header))))
    image = _png(images["run"], "pretraining loss") if "run" in images else ""
    if p["one_sided"]:
        coverage = (f"no seed tried gave every group both splits; these have documents in one split only: "
                    f"{_e(', '.join(p['one_sided']))}")  # fmt: skip
    else:
        coverage = "the seed chosen so every modality has training and validation documents"
    return (f"<p>Held-out rule: <code>is_validation(id, {p['val_fraction']}, {p['split_seed']})</code>, "
            f"{coverage}. {_num(p['held_out_prompts'])} held-out prompts are kept out of every stream.</p>{splits}"
            f"<p>Model: OPT decoder, {_num(m['parameters'])} parameters, {m['layers']} layers, hidden size "
            f"{m['hidden']}, vocabulary {_num(m['vocab_size'])}. {_num(t['tokens_seen'])} tokens seen in "
            f"{t['epochs_completed']:g} epochs ({t['steps']} steps); repeats per source: "
            f"{_e(', '.join(f'{k} {v:.1f}' for k, v in t['repeats'].items()))}.</p>"
            f"{losses}"
            f"{image}")  # fmt: skip


def _tuning(f: dict[str, Any], images: dict[str, bytes]) -> str:
    t = f["tuning"]
    rows = [[_num(e["epoch"], 2), _num(e["answer_loss"]), _num(e["exact_match"], 2), _num(e["examples"])]
            for e in t["evaluations"]]  # fmt: skip

    def answer(text: str, exact: bool) -> str:
        return f'<span class="{"ok" if exact else "muted"}">{_e(text) or "(empty)"}</span>'

    qa = _table(["held-out prompt", "reference", "pretrained model", "tuned model"],
                [[f'<div class="excerpt">{_e(a["prompt"])}</div>', _e(a["reference"]),
                  answer(a["pretrained"], a["pretrained_exact"]), answer(a["tuned"], a["tuned_exact"])]
                 for a in t["answers"]])  # fmt: skip
    counts, summary = t["counts"], t["summary"]
    image = _png(images["tuned"], "tuning loss") if "tuned" in images else ""
    return (f"<p>{_num(counts.get('train_examples'))} training and {_num(counts.get('held_out_examples'))} "
            f"held-out question/answer records; loss on answer tokens only. Held-out answers are scored alone "
            f"(answer-token loss) and by exact match of the greedy answer.</p>"
            f"{_table(['epoch', 'held-out answer loss', 'exact match', 'examples'], rows, {0, 1, 2, 3})}{image}"
            f"<h3>Held-out questions</h3>{qa}"
            f'<p class="{"bad" if summary["collapsed"] else "muted"}">{_e(describe_summary(summary))}</p>'
            f"<p class='muted'>A model this small, trained for seconds, rarely answers a question it has not "
            f"seen exactly; the answer loss is the figure that moves.</p>")  # fmt: skip


def _answers(f: dict[str, Any]) -> str:
    parts = []
    for q in f["answers"]:
        rows = []
        for rank, a in enumerate(q["answers"], 1):
            source = ", ".join(f"{k}={v}" for k, v in a["source"].items() if v)
            if a["document"]:
                source = f"{a['document']} ({source})"
            flags = "" if a["grounded"] else " (not in index)"
            rows.append([_num(rank), f'<div class="excerpt">{_e(a["text"])}</div>', _num(a["confidence"]),
                         _e(a["method"] + flags), _e(source),
                         f'<div class="excerpt">{_e(a["context"])}</div>'])  # fmt: skip
        header = ["rank", "answer", "confidence", "method", "source", "context"]
        parts.append(f"<h3>{_e(q['kind'])}: <span class='excerpt'>{_e(q['query'])}</span></h3>"
                     + _table(header, rows, {0, 2}))  # fmt: skip
    for what, report in f.get("evaluation", {}).items():
        keys = sorted({k for row in report.get("methods", {}).values() for k, v in row.items() if isinstance(v, float)})
        rows = [[_e(m), *[_num(row.get(k)) for k in keys]] for m, row in report.get("methods", {}).items()]
        parts.append(f"<h3>Held-out evaluation: {_e(what)} ({_num(report.get('cases', 0))} cases)</h3>"
                     + (_table(["method", *keys], rows, set(range(1, len(keys) + 1))) if rows else "<p>No cases.</p>")
                     + f"<p>{_e(model_effect(report))}</p>")  # fmt: skip
    intro = "<p>Answers are constrained to, or retrieved from, what the corpus contains; each names its source.</p>"
    return intro + "".join(parts)


#: Each output: path (relative to the demo directory), format, and a command that continues from it.
CONTINUE_WITH: list[tuple[str, str, str]] = [
    ("recipe.yaml", "corpus recipe (absolute paths)", "sciprep corpus build recipe.yaml --out corpus2"),
    ("corpus/", "Parquet shards + manifest.json + rejects.parquet", "sciprep corpus stats corpus"),
    ("clean/", "cleaned shards, excluded/, report.json", "sciprep clean --in corpus --out clean2"),
    ("tokenizer/", "tokenizer.json (Hugging Face) + configs",
     "echo 'Aspirin CC(=O)Oc1ccccc1C(=O)O' | sciprep tokenize --tokenizer tokenizer --wrap"),
    ("packed/", "memory-mapped token files + packed.json",
     "sciprep train pretrain --data packed --out run2 --epochs 8"),
    ("run/", "model/ (safetensors + config.json), checkpoints/, metrics.jsonl, loss.png", "sciprep train plot run"),
    ("tuned/", "tuned model, same layout as run/",
     "sciprep ask tuned/model 'the Schwarzschild radius' --index index --kind formula"),
    ("index/", "reference and formula index", "sciprep eval citations --model run/model --index index"),
    ("answers/, eval/", "JSON answers of sciprep ask and eval reports", ""),
]


def _files() -> str:
    rows = [[f"<code>{_e(p)}</code>", _e(what), f"<code>{_e(cmd)}</code>" if cmd else ""]
            for p, what, cmd in CONTINUE_WITH]
    return "<p>Paths are relative to the demo directory.</p>" + _table(["path", "format", "continue with"], rows)


def render_report(figures: dict[str, Any], images: dict[str, bytes]) -> str:
    """The report page for the demo's ``figures`` and PNG ``images`` (``run``, ``tuned`` loss plots)."""
    body = {
        "sources": _sources(figures), "cleaning": _cleaning(figures), "tokenizer": _tokenizer(figures),
        "training": _training(figures, images), "tuning": _tuning(figures, images),
        "answers": _answers(figures), "files": _files(),
    }  # fmt: skip
    nav = "".join(f'<a href="#{key}">{_e(title)}</a>' for key, title in SECTIONS.items())
    sections = "".join(f'<section id="{key}"><h2>{_e(title)}</h2>{body[key]}</section>'
                       for key, title in SECTIONS.items())  # fmt: skip
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>sciprep demo report</title><style>{_CSS}</style></head>"
            f"<body><h1>sciprep demo report</h1><p class='muted'>Every figure below is read from the files the "
            f"stages wrote; <code>figures.json</code> holds the same numbers.</p><nav>{nav}</nav>{sections}"
            f"<script>{_SCRIPT}</script></body></html>\n")  # fmt: skip


def write_report(path: Path, figures: dict[str, Any], layout: Any) -> Path:
    """Render the report with the loss plots ``train plot`` wrote, and write it atomically."""
    images = {name: (layout.root / name / "loss.png").read_bytes()
              for name in ("run", "tuned") if (layout.root / name / "loss.png").is_file()}  # fmt: skip
    # Rendered from the figures as figures.json stores them (sorted keys), so the page is
    # a pure function of that file and the plots.
    write_text_atomic(path, render_report(json.loads(json.dumps(figures, sort_keys=True)), images))
    return path
