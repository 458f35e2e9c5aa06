"""The anchored matcher (bot/nlu/anchored_matcher.py) finds exactly what spaCy's Matcher finds with
all the red-flag patterns at once: same (pattern key, start, end) on every test phrasing, every
training example and every held-out message, and on texts chosen to stress anchoring."""
from __future__ import annotations

from pathlib import Path
from typing import List, Set, Tuple

import pytest
import yaml
from spacy.errors import MatchPatternError
from spacy.matcher import Matcher

import red_flag_cases as cases
from bot.nlu.anchored_matcher import AnchoredMatcher, anchor_words
from bot.nlu.red_flag_matcher import RedFlagMatcher

ROOT = Path(__file__).resolve().parent.parent
EDGE_TEXTS = [
    "", " ", "?", "102", "temp 38.9", "fever 101.5 and chills", "i i i i i", "not not not",
    "BLADDER!!!", "cant pee cant poop cant feel my legs", "my bum is numb", "pee " * 60,
    "i dont want to be here anymore", "wound is oozing and red", "both legs gave out, no wait, only one",
]


def every_message() -> List[str]:
    texts = cases.all_texts() + EDGE_TEXTS
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")) + sorted((ROOT / "tests" / "data").glob("**/heldout*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            examples = block.get("examples", "")
            texts += [line[2:].strip() for line in examples.splitlines() if line.startswith("- ")]
    return texts


@pytest.fixture(scope="module")
def detector() -> RedFlagMatcher:
    return RedFlagMatcher.shared()


@pytest.fixture(scope="module")
def plain_matcher(detector) -> Matcher:
    matcher = Matcher(detector.text.nlp.vocab)
    for key, patterns in detector.matcher.patterns.items():
        matcher.add(key, patterns)
    return matcher


def found(matcher, doc, vocab) -> Set[Tuple[str, int, int]]:
    return {(vocab.strings[match_id], start, end) for match_id, start, end in matcher(doc)}


def test_same_matches_as_spacy_matcher_on_every_known_message(detector, plain_matcher):
    texts = every_message()
    assert len(texts) > 2000
    vocab = detector.text.nlp.vocab
    different, with_matches = [], 0
    for text in texts:
        doc = detector.text(text)
        expected = found(plain_matcher, doc, vocab)
        with_matches += bool(expected)
        if found(detector.matcher, doc, vocab) != expected:
            different.append(text)
    assert not different, different[:10]
    assert with_matches > 500  # the comparison covers real matches, not only empty results


def test_patterns_are_split_by_anchor_and_only_some_run_per_message(detector):
    matcher = detector.matcher
    assert matcher.group_count > 50
    assert sum(len(p) for p in matcher.patterns.values()) > 1000
    doc = detector.text("my back hurts after the surgery")
    words = {token.norm_ for token in doc}
    assert len({anchor for word in words for anchor in matcher._by_word.get(word, ())}) < matcher.group_count / 4


def test_anchor_is_the_rarest_required_word(detector):
    common = {"i", "not", "my"}
    matcher = AnchoredMatcher(detector.text.nlp.vocab, word_weight=lambda w: 50.0 if w in common else 1.0)
    pattern = [{"NORM": "i"}, {"NORM": {"NOT_IN": ["but"]}, "OP": "?"}, {"NORM": {"IN": ["bladder", "pee"]}}, {"NORM": "my", "OP": "?"}]
    assert matcher.anchor(pattern) == frozenset({"bladder", "pee"})
    assert anchor_words({"NORM": "pee", "OP": "?"}) is None  # optional: not required
    assert anchor_words({"NORM": {"NOT_IN": ["x"]}}) is None
    assert anchor_words({"NORM": "pee", "OP": "+"}) == frozenset({"pee"})
    assert matcher.anchor([{"LOWER": "pee"}, {"NORM": "x", "OP": "*"}]) is None


def test_patterns_without_an_anchor_run_on_every_message(detector):
    vocab = detector.text.nlp.vocab
    matcher = AnchoredMatcher(vocab)
    matcher.add("lower", [[{"LOWER": "numb"}]])
    matcher.add("norm", [[{"NORM": "leg"}, {"NORM": "numb"}]])
    doc = detector.text("my leg numb")
    assert found(matcher, doc, vocab) == {("lower", 2, 3), ("norm", 1, 3)}
    assert found(matcher, detector.text("numb"), vocab) == {("lower", 0, 1)}
    assert len(matcher) == 2 and matcher.group_count == 2


def test_adding_after_use_rebuilds(detector):
    vocab = detector.text.nlp.vocab
    matcher = AnchoredMatcher(vocab)
    matcher.add("first", [[{"NORM": "leg"}]])
    assert found(matcher, detector.text("leg"), vocab) == {("first", 0, 1)}
    matcher.add("second", [[{"NORM": "arm"}]])
    assert found(matcher, detector.text("leg arm"), vocab) == {("first", 0, 1), ("second", 1, 2)}


def test_a_bad_pattern_fails_when_the_detector_is_built(detector, tmp_path):
    vocab = detector.text.nlp.vocab
    matcher = AnchoredMatcher(vocab, validate=True)
    matcher.add("bad", [[{"NORM": "leg", "NOT_A_KEY": 1}]])
    with pytest.raises(MatchPatternError):
        matcher.build()
