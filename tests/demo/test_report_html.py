"""``DIR/report.html``: self-contained, every section present, corpus text escaped, renders in Chromium."""

from __future__ import annotations

import base64
import copy
import json
import re
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sciprep.corpus.shards import iter_documents
from sciprep.demo.report_html import SECTIONS, render_report
from sciprep.demo.token_stats import EXAMPLE_KINDS
from sciprep.demo.tuned_answers import describe_summary
from sciprep.tokenize.specials import MARKUP

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHROMIUM = Path("/usr/bin/chromium")
HOSTILE = '<script>alert("corpus")</script><img src="https://example.org/x.png">'


class _Page(HTMLParser):
    """Elements and attributes of a page, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.images: list[str] = []
        self.scripts: list[dict[str, str | None]] = []
        self.links: list[str] = []
        self.urls: list[str] = []
        self.data: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.append(values["id"] or "")
        if tag == "img":
            self.images.append(values.get("src") or "")
        if tag == "script":
            self.scripts.append(values)
        if tag == "link":
            self.links.append(values.get("href") or "")
        self.urls += [v for k, v in attrs if k in ("src", "href", "action", "srcset", "poster") and v]

    def handle_data(self, data: str) -> None:
        self.data.append(data)


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    return page


def _figures_and_images(demo_run: Path) -> tuple[dict, dict[str, bytes]]:  # type: ignore[type-arg]
    figures = json.loads((demo_run / "figures.json").read_text(encoding="utf-8"))
    images = {name: (demo_run / name / "loss.png").read_bytes() for name in ("run", "tuned")}
    return figures, images


def test_report_has_every_section_and_only_embedded_png_images(demo_run: Path) -> None:
    text = (demo_run / "report.html").read_text(encoding="utf-8")
    page = _parse(text)
    assert list(SECTIONS) == [i for i in page.ids if i in SECTIONS]
    assert len(page.images) >= 3  # source mix chart, pretraining and tuning loss curves
    for src in page.images:
        prefix = "data:image/png;base64,"
        assert src.startswith(prefix)
        assert base64.b64decode(src[len(prefix):], validate=True)[:8] == PNG_SIGNATURE
    assert not [u for u in page.urls if not u.startswith(("data:", "#"))]
    assert not page.links and all("src" not in s for s in page.scripts)
    assert not re.search(r"url\(|@import|https?://", "".join(re.findall(r"<style>(.*?)</style>", text, re.S)))


def test_report_shows_the_figures_of_every_stage(demo_run: Path) -> None:
    figures, _ = _figures_and_images(demo_run)
    page = " ".join(_parse((demo_run / "report.html").read_text(encoding="utf-8")).data)
    c = figures["cleaning"]
    assert f"in {c['in']:,} = kept {c['kept']:,} + removed {c['removed']:,} + rejected {c['rejected']:,}" in page
    for row in c["removed_examples"]:
        assert row["reason"] in page
    text = "\n".join(d.text for d in iter_documents(demo_run / "clean"))
    in_corpus = {kind for kind in EXAMPLE_KINDS if MARKUP[kind][0] in text and MARKUP[kind][1] in text}
    assert {"smiles", "amino", "dna", "math", "ref", "work"} <= in_corpus
    assert [x["kind"] for x in figures["tokenizer"]["examples"]] == [k for k in EXAMPLE_KINDS if k in in_corpus]
    work = next(x for x in figures["tokenizer"]["examples"] if x["kind"] == "work")
    assert work["tokens"][0] == MARKUP["work"][0] and work["text"] in text
    assert figures["answers"][0]["answers"][0]["text"] in page
    assert all(a["prompt"] in page for a in figures["tuning"]["answers"])


def test_report_states_the_constant_baseline_and_distinct_answers_of_tuning(demo_run: Path) -> None:
    figures, images = _figures_and_images(demo_run)
    answers, summary = figures["tuning"]["answers"], figures["tuning"]["summary"]
    training = Counter(d.answer.strip() for d in iter_documents(demo_run / "clean")
                       if d.kind == "prompt" and d.split == "train" and d.answer)  # fmt: skip
    assert training[summary["baseline_answer"]] == max(training.values())
    assert summary["baseline_exact"] == sum(a["reference"] == summary["baseline_answer"] for a in answers)
    assert summary["distinct_tuned"] == len({a["tuned"] for a in answers}) and summary["questions"] == len(answers)
    page = " ".join(_parse(render_report(figures, images)).data)
    assert describe_summary(summary) in page
    assert f"always answers {summary['baseline_answer']!r}" in page
    assert f"gave {summary['distinct_tuned']} distinct answer(s)" in page
    collapsed = copy.deepcopy(figures)
    for a in collapsed["tuning"]["answers"]:
        a["tuned"] = "2"
    collapsed["tuning"]["summary"] = {**summary, "distinct_tuned": 1, "collapsed": True}
    assert "The tuned model collapsed" in " ".join(_parse(render_report(collapsed, images)).data)


def test_report_names_one_sided_groups_instead_of_claiming_every_modality_is_covered(demo_run: Path) -> None:
    figures, images = _figures_and_images(demo_run)
    covered = " ".join(_parse(render_report(figures, images)).data)
    assert figures["packing"]["one_sided"] == [] and "every modality has training and validation" in covered
    figures["packing"]["one_sided"] = ["dna", "papers"]
    page = " ".join(_parse(render_report(figures, images)).data)
    assert "one split only: dna, papers" in page and "every modality has training and validation" not in page


def test_report_says_plainly_when_the_model_changed_no_evaluation_figure(demo_run: Path) -> None:
    figures, images = _figures_and_images(demo_run)
    methods = figures["evaluation"]["citations"]["methods"]
    methods["hybrid"] = dict(methods["retrieval"])
    assert "the model changed nothing" in " ".join(_parse(render_report(figures, images)).data)
    methods["hybrid"]["accuracy_at_1"] = methods["retrieval"]["accuracy_at_1"] + 0.25
    page = " ".join(_parse(render_report(figures, images)).data)
    assert "the model changed nothing" not in page and "differ from BM25's alone: accuracy_at_1" in page


def test_report_is_a_pure_function_of_the_stage_outputs(demo_run: Path) -> None:
    figures, images = _figures_and_images(demo_run)
    assert render_report(figures, images) == (demo_run / "report.html").read_text(encoding="utf-8")


def test_corpus_text_in_the_report_is_escaped(demo_run: Path) -> None:
    figures, images = _figures_and_images(demo_run)
    hostile = copy.deepcopy(figures)
    hostile["cleaning"]["removed_examples"][0]["excerpt"] = HOSTILE
    hostile["cleaning"]["removed_examples"][0]["reason"] = HOSTILE
    hostile["answers"][0]["answers"][0]["text"] = HOSTILE
    hostile["tuning"]["answers"][0]["tuned"] = HOSTILE
    hostile["tokenizer"]["examples"][0]["tokens"][0] = HOSTILE
    text = render_report(hostile, images)
    page = _parse(text)
    assert len(page.scripts) == len(_parse(render_report(figures, images)).scripts) == 1
    assert not any(src.startswith("https:") for src in page.images)
    assert text.count("&lt;script&gt;alert(&quot;corpus&quot;)&lt;/script&gt;") == 5


def _chromium(*args: str, user_dir: Path) -> subprocess.CompletedProcess[str]:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={user_dir}"]  # fmt: skip
    return subprocess.run([str(CHROMIUM), *flags, *args], capture_output=True, text=True, timeout=90, check=False)


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed (apt-get install chromium)")
def test_report_renders_offline_in_headless_chromium(demo_run: Path, tmp_path: Path) -> None:
    from PIL import Image

    report = (demo_run / "report.html").as_uri()
    expected_images = len(_parse((demo_run / "report.html").read_text(encoding="utf-8")).images)
    dom = _chromium("--virtual-time-budget=5000", "--dump-dom", report, user_dir=tmp_path / "profile-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert f'data-images-decoded="{expected_images}/{expected_images}"' in dom.stdout
    rendered = _parse(dom.stdout)
    assert set(SECTIONS) <= set(rendered.ids)
    shot = tmp_path / "report.png"
    run = _chromium("--window-size=1200,2400", f"--screenshot={shot}", report, user_dir=tmp_path / "profile-shot")
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20) or []
    assert image.size == (1200, 2400) and len(colours) > 50  # text, tables and a chart, not a blank page
