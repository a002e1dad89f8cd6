"""``sciprep demo``: the whole flow, end to end, on a corpus shipped with sciprep.

The demo drives each stage through its own command, exactly as a user would, so it is
also a worked example: every directory it writes (corpus, cleaned corpus, tokenizer,
packed tokens, pretraining run, tuned model, index, answers) is in that stage's normal
format and can be opened or rerun alone. It ends with ``DIR/report.html``, one
self-contained page showing what each stage did. It needs no download: the corpus is in
``sciprep/demo/data`` and the extra molecules come with RDKit.

Importing this package is cheap (no torch); the stages import what they need when run.
"""

from sciprep.demo.cli import register
from sciprep.demo.flow import CITATION_QUERIES, FORMULA_QUERIES, QUICK, DemoLayout, DemoSettings, run_demo
from sciprep.demo.holdout import covering_split_seed
from sciprep.demo.inputs import DATA_DIR, write_recipe
from sciprep.demo.report_html import SECTIONS, render_report, write_report
from sciprep.demo.token_stats import token_statistics

__all__ = [
    "CITATION_QUERIES", "DATA_DIR", "FORMULA_QUERIES", "QUICK", "SECTIONS", "DemoLayout", "DemoSettings",
    "covering_split_seed", "register", "render_report", "run_demo", "token_statistics", "write_recipe",
    "write_report",
]  # fmt: skip
