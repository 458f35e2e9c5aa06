"""The leaner count-vector featurizer (bot/nlu/lean_count_vectors.py) gives Rasa's exact features:
the same sparse matrices (shape, dtype, rows, columns, counts) for every message, word and
character n-gram alike, and Rasa's own code wherever adding up per token would not be exact."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml
from rasa.core.channels.channel import UserMessage
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer

from bot.nlu.lean_count_vectors import LeanCountVectorsFeaturizer, counts_add_up_over_tokens
from bot.paths import ROOT

ODD_TEXTS = ["", " ", "x", "ΟΔΟΣ ΚΑΙ ΣΑΣ", "can't won't y'all", "a  b\tc\nd", "🙂🙂 x 🙂", "what about " * 100,
             "e\u0301 café naïve", "I CAN'T FEEL MY LEGS!!!", "pee pee pee", "12 34.5 100.4F", "<b>hi</b>", "'; DROP TABLE"]


def all_texts() -> list:
    texts = list(ODD_TEXTS)
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")) + sorted((ROOT / "tests" / "data").glob("**/*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []) or []:
            texts += [line[2:].strip() for line in block.get("examples", "").splitlines() if line.startswith("- ")]
    return texts


@pytest.fixture(scope="module")
def featurizers(agent):
    runner = agent.processor.graph_runner
    found = [runner._instantiated_nodes[name]._component for name in runner._graph_schema.nodes
             if runner._graph_schema.nodes[name].uses is LeanCountVectorsFeaturizer]
    return found


@pytest.fixture(scope="module")
def tokenized(agent):
    """Messages as the featurizers receive them (after the tokenizer)."""
    runner = agent.processor.graph_runner
    tokenizer = next(n for n, node in runner._graph_schema.nodes.items() if "Tokenizer" in node.uses.__name__)
    texts = all_texts()
    return runner.run(inputs={"__message__": [UserMessage(t) for t in texts]}, targets=[tokenizer])[tokenizer]


def same_matrix(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return (a.format == b.format == "coo" and a.shape == b.shape and a.dtype == b.dtype
            and a.row.dtype == b.row.dtype and a.col.dtype == b.col.dtype
            and np.array_equal(a.row, b.row) and np.array_equal(a.col, b.col) and np.array_equal(a.data, b.data))


def test_the_model_uses_it_for_words_and_character_ngrams(featurizers):
    analyzers = sorted(f.vectorizers["text"].analyzer for f in featurizers)
    assert analyzers == ["char_wb", "word"]
    assert all(counts_add_up_over_tokens(f.vectorizers["text"]) for f in featurizers)


def test_same_matrices_as_rasa_for_every_message_twice(featurizers, tokenized):
    assert len(tokenized) > 2000
    for featurizer in featurizers:
        nonzero = 0
        for _ in range(2):  # the second pass is served from the per-token memo
            for message in tokenized:
                tokens = featurizer._get_processed_message_tokens_by_attribute(message, "text")
                ours = featurizer._create_features("text", [tokens])
                rasas = CountVectorsFeaturizer._create_features(featurizer, "text", [tokens])
                assert same_matrix(ours[0][0], rasas[0][0]), message.get("text")  # sequence: one row per token
                assert same_matrix(ours[1][0], rasas[1][0]), message.get("text")  # sentence
                nonzero += ours[1][0] is not None and ours[1][0].nnz > 0
        assert nonzero > 2000


@pytest.mark.parametrize("change", ["binary", "char", "bigrams"])
def test_settings_where_adding_up_is_not_exact_use_rasas_code(featurizers, tokenized, change):
    featurizer = copy.copy(next(f for f in featurizers if f.vectorizers["text"].analyzer == "word"))
    vectorizer = copy.deepcopy(featurizer.vectorizers["text"])
    if change == "binary":
        vectorizer.binary = True
    elif change == "char":
        vectorizer.analyzer = "char"  # single characters, spaces between the tokens included
        vectorizer.vocabulary_ = {" ": 0, "p": 1}
    else:
        vectorizer.ngram_range = (1, 2)
        vectorizer.vocabulary_ = {**vectorizer.vocabulary_, "back pain": len(vectorizer.vocabulary_)}
    featurizer.vectorizers = {**featurizer.vectorizers, "text": vectorizer}
    featurizer.__dict__.pop("_counters", None)
    assert not counts_add_up_over_tokens(vectorizer)
    tokens = ["my", "back", "pain", "pain"]
    ours = featurizer._create_features("text", [tokens])
    rasas = CountVectorsFeaturizer._create_features(featurizer, "text", [tokens])
    assert same_matrix(ours[1][0], rasas[1][0]) and same_matrix(ours[0][0], rasas[0][0])
    sentence = dict(zip(ours[1][0].col.tolist(), ours[1][0].data.tolist()))
    if change == "char":
        assert sentence[0] == 3  # the spaces that join the tokens: no token alone has them
    if change == "bigrams":
        assert sentence[vectorizer.vocabulary_["back pain"]] == 1  # a pair of tokens: no token alone has it
