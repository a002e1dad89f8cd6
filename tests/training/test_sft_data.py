"""Tuning data: the loss mask covers exactly the answer tokens of every packed example."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from sciprep.tokenize import SciTokenizer
from sciprep.tokenize.specials import EOS, PAD, SPECIAL_IDS
from sciprep.training import Example, ExampleRows, load_prompt_examples, pack_examples
from sciprep.training.loop import IGNORE_INDEX
from tests.training.conftest import Sample

EOS_ID = SPECIAL_IDS[EOS]
PAD_ID = SPECIAL_IDS[PAD]
token = st.integers(30, 500)
example = st.builds(
    Example, id=st.just("e"), prompt=st.lists(token, min_size=1, max_size=12),
    answer=st.lists(token, min_size=1, max_size=6),
)  # fmt: skip
examples = st.lists(example, min_size=1, max_size=20)


@given(examples, st.integers(20, 48))
def test_labels_are_exactly_the_answer_tokens_and_their_end(batch: list[Example], context: int) -> None:
    packed = pack_examples(batch, context)
    tokens, labels = packed.tokens, packed.labels
    expected_labels = [t for e in batch for t in (*e.answer, EOS_ID)]
    assert labels[labels != IGNORE_INDEX].tolist() == expected_labels
    assert tokens.shape[1] == context + 1
    # Each example sits whole inside one row, in order.
    flat = [t for row_t, row_l in zip(tokens, labels, strict=True) for t, lab in zip(row_t, row_l, strict=True)
            if lab != IGNORE_INDEX]  # fmt: skip
    assert flat == expected_labels


def test_first_label_of_each_example_is_masked_even_without_a_prompt() -> None:
    batch = [Example("a", [], [40, 41]), Example("b", [], [42])]
    labels = pack_examples(batch, 16).labels
    assert labels[0, :6].tolist() == [IGNORE_INDEX, 41, EOS_ID, IGNORE_INDEX, EOS_ID, IGNORE_INDEX]


def test_shifted_targets_point_at_answer_tokens_from_the_previous_position() -> None:
    rows = ExampleRows([Example("a", [50, 51], [60, 61]), Example("b", [52], [62])], 12, seed=0)
    inputs, y = rows.batch(np.array([0]))
    x = inputs["input_ids"]
    positions = np.flatnonzero(y[0] != IGNORE_INDEX)
    # The input at each scored position is the token before the target in the same example.
    assert [(x[0, p], y[0, p]) for p in positions] in (
        [(51, 60), (60, 61), (61, EOS_ID), (52, 62), (62, EOS_ID)],
        [(52, 62), (62, EOS_ID), (51, 60), (60, 61), (61, EOS_ID)],
    )


@given(examples)
def test_each_example_is_one_segment_with_positions_from_zero(batch: list[Example]) -> None:
    packed = pack_examples(batch, 40)
    blocks = []
    for r in range(len(packed.tokens)):
        segments = packed.segments[r]
        assert (np.diff(segments) >= 0).all()  # contiguous blocks
        for s in np.unique(segments):
            cols = np.flatnonzero(segments == s)
            assert packed.positions[r, cols].tolist() == list(range(len(cols)))
            blocks.append(packed.tokens[r, cols].tolist())
    # Apart from padding-only tails, the blocks are exactly the examples, in order.
    assert [b for b in blocks if set(b) != {PAD_ID}] == [e.tokens for e in batch]


@given(examples, st.integers(20, 48))
def test_row_tokens_count_every_example_input_and_no_padding(batch: list[Example], context: int) -> None:
    rows = ExampleRows(batch, context, seed=0)
    all_rows = np.arange(len(rows.packed.tokens))
    inputs, _ = rows.batch(all_rows)
    # Example tokens are never <pad> here, so non-pad inputs are exactly the real ones.
    assert rows.row_tokens(all_rows).tolist() == (inputs["input_ids"] != PAD_ID).sum(axis=1).tolist()
    total = sum(len(e.tokens) for e in batch) - int((rows.packed.lengths == context + 1).sum())
    assert rows.unique_tokens_by_source().tolist() == [total]


def test_packed_examples_get_the_same_logits_as_alone() -> None:
    from sciprep.training import build_model, model_config

    model = build_model(model_config("tiny", 300, 32), 0).eval()
    batch = [Example("a", [40, 41, 42], [43, 44]), Example("b", [50, 51], [52]), Example("c", [60], [61, 62])]
    rows = ExampleRows(batch, 32, seed=0)
    inputs, _ = rows.batch(np.array([0]))
    with torch.no_grad():
        packed = model(**{k: torch.from_numpy(v) for k, v in inputs.items()}).logits[0]
        ids, segments = inputs["input_ids"][0], rows.packed.segments[0, :-1]
        for example in batch:
            start = int(np.flatnonzero(ids == example.tokens[0])[0])
            alone = model(input_ids=torch.tensor([example.tokens])).logits[0]
            assert segments[start] != segments[start - 1] or start == 0
            assert torch.allclose(packed[start : start + len(example.tokens)], alone, atol=1e-5)


def test_prompt_records_split_by_their_split_field(sample: Sample) -> None:
    tokenizer = SciTokenizer.load(sample.tokenizer)
    splits = load_prompt_examples(sample.corpus, tokenizer, 129, 0.05, 0)
    prompts = [d for d in sample.documents if d.kind == "prompt"]
    assert {e.id for e in splits.test} == {d.id for d in prompts if d.split == "test"}
    assert len(splits.train) + len(splits.test) + sum(splits.skipped.values()) == len(prompts)
    first = next(d for d in prompts if d.id == splits.train[0].id)
    assert tokenizer.decode(splits.train[0].answer) == first.answer
