"""Formula retrieval and hybrid ranking: each formula is found by its own words."""

from __future__ import annotations

from pathlib import Path

import pytest

from sciprep.corpus.document import Document
from sciprep.corpus.shards import write_documents
from sciprep.query import FormulaSearcher, LanguageModel, QueryIndex, build_index
from sciprep.query.formula_search import FormulaSettings

THEOREM = "\\begin{equation}\n  P(A \\mid B) = \\frac{P(B \\mid A)\\, P(A)}{P(B)} .\n\\end{equation}"
RADIUS = "\\begin{equation}\n  r_{\\mathrm{s}} = \\frac{2 G M}{c^2},\n\\end{equation}"
BAYES = (
    "For events [START_MATH]$A$[END_MATH] and [START_MATH]$B$[END_MATH] with [START_MATH]$P(B) > 0$[END_MATH], "
    "Bayes' theorem [START_REF] An Essay towards Solving a Problem in the Doctrine of Chances, Bayes[END_REF] "
    f"states [START_MATH]{THEOREM}[END_MATH] The denominator is the evidence, obtained by marginalising over "
    "all hypotheses, [START_MATH]$P(B) = \\sum_i P(B \\mid A_i) P(A_i)$[END_MATH]."
)
BLACK_HOLE = (
    f"Its characteristic length is the Schwarzschild radius [START_MATH]{RADIUS}[END_MATH] where "
    "[START_MATH]$G$[END_MATH] is the gravitational constant. The Newtonian escape velocity from radius "
    "[START_MATH]$r$[END_MATH] is [START_MATH]$v_e = \\sqrt{2GM/r}$[END_MATH]; setting "
    "[START_MATH]$v_e = c$[END_MATH] recovers the same length. A neutron star has a radius of about "
    "[START_MATH]$12\\,\\mathrm{km}$[END_MATH], a few times its Schwarzschild radius."
)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> QueryIndex:
    root = tmp_path_factory.mktemp("formulas")
    docs = [Document(id=i, text=t, source="test", kind="paper") for i, t in (("bayes", BAYES), ("bh", BLACK_HOLE))]
    write_documents(root / "corpus" / "shards" / "docs-00000.parquet", docs)
    build_index(root / "corpus", root / "index", progress=False)
    return QueryIndex.load(root / "index")


def test_each_formula_is_indexed_with_the_words_that_introduce_it(index: QueryIndex) -> None:
    context = {f.body.strip(): f.context for f in index.formulas}
    assert context["P(B) > 0"] == "with"
    assert context[THEOREM.split("\n")[1].strip()].startswith(", Bayes' theorem")
    sentence = {f.body.strip(): f.sentence for f in index.formulas}
    assert sentence["P(B) = \\sum_i P(B \\mid A_i) P(A_i)"].startswith("The denominator")


def test_retrieval_ranks_the_named_formula_above_others_in_its_sentence(index: QueryIndex) -> None:
    answers = FormulaSearcher(index).search("Bayes' theorem", k=3, method="retrieval")
    assert answers[0].text == THEOREM
    assert answers[0].score > answers[1].score
    assert FormulaSearcher(index).search("the Schwarzschild radius", k=3, method="retrieval")[0].text == RADIUS


def test_hybrid_does_not_prefer_a_formula_for_being_short(index: QueryIndex, tiny_model: Path) -> None:
    lm = LanguageModel.load(tiny_model)  # random weights: its total log-probability favours short formulas
    searcher = FormulaSearcher(index, lm, FormulaSettings(beam=2, max_tokens=24))
    assert searcher.search("Bayes' theorem", k=3, method="hybrid")[0].text == THEOREM
    assert searcher.search("the Schwarzschild radius", k=3, method="hybrid")[0].text == RADIUS
