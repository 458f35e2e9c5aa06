"""spaCy's Matcher, run only on the patterns that can match the message at hand.

The red-flag patterns compile into about 3,600 token patterns. spaCy's Matcher tries every one of
them at every token, so a 17-word message cost about 4 ms, most of a turn's NLU. Nearly all patterns
need one particular word (a NORM value, or one of a few): a pattern about the bladder cannot match
a message with no bladder word in it. This matcher files each pattern under the required token
whose words are rarest in everyday patient text, and keeps one spaCy Matcher per such "anchor";
for a message it runs only the matchers whose anchor words occur in it (plus the few patterns
that have no anchor). The matches are exactly spaCy's: the same patterns, matched by spaCy, on the
same Doc; only patterns that cannot match are skipped. tests/test_red_flags_anchored_matcher.py
compares both on every test phrasing.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Callable, Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

from spacy.matcher import Matcher
from spacy.tokens import Doc
from spacy.vocab import Vocab

TokenSpec = Dict[str, object]
Match = Tuple[int, int, int]
REQUIRED_OPS = (None, "1", "+")  # a token that must be present once or more


def anchor_words(spec: TokenSpec) -> Optional[FrozenSet[str]]:
    """The words one of which a token must have as its NORM, or None (no such requirement)."""
    if spec.get("OP") not in REQUIRED_OPS:
        return None
    value = spec.get("NORM")
    if isinstance(value, str):
        return frozenset([value])
    if isinstance(value, dict) and set(value) == {"IN"}:
        return frozenset(value["IN"])
    return None


class AnchoredMatcher:
    """The part of spaCy's Matcher interface this project uses: add(key, patterns), len, call."""

    def __init__(self, vocab: Vocab, validate: bool = False, word_weight: Callable[[str], float] = lambda w: 1.0) -> None:
        """word_weight: how common a word is (higher = more common); the rarest required token anchors."""
        self.vocab = vocab
        self.validate = validate
        self.word_weight = word_weight
        self._patterns: Dict[str, List[List[TokenSpec]]] = {}
        self._matchers: Dict[Optional[FrozenSet[str]], Matcher] = {}
        self._by_word: Dict[str, List[FrozenSet[str]]] = {}
        self._built = True

    def add(self, key: str, patterns: Iterable[List[TokenSpec]]) -> None:
        self._patterns.setdefault(key, []).extend(patterns)
        self._built = False

    def __len__(self) -> int:
        """The number of keys, as len() of spaCy's Matcher."""
        return len(self._patterns)

    @property
    def patterns(self) -> Dict[str, List[List[TokenSpec]]]:
        """Every pattern added, by key."""
        return {key: list(patterns) for key, patterns in self._patterns.items()}

    def anchor(self, pattern: List[TokenSpec]) -> Optional[FrozenSet[str]]:
        """The required token whose words are rarest (fewest and least common), or None."""
        candidates = [words for words in map(anchor_words, pattern) if words]
        if not candidates:
            return None
        return min(candidates, key=lambda words: (sum(self.word_weight(w) for w in words), len(words), sorted(words)))

    def build(self) -> None:
        """Files the patterns under their anchors (done on first use; call it to fail early on a bad pattern)."""
        grouped: Dict[Optional[FrozenSet[str]], Dict[str, List[List[TokenSpec]]]] = defaultdict(lambda: defaultdict(list))
        for key, patterns in self._patterns.items():
            for pattern in patterns:
                grouped[self.anchor(pattern)][key].append(pattern)
        matchers = {}
        by_word: Dict[str, List[FrozenSet[str]]] = defaultdict(list)
        for anchor, keyed in grouped.items():
            matcher = Matcher(self.vocab, validate=self.validate)
            for key, patterns in keyed.items():
                matcher.add(key, patterns)
            matchers[anchor] = matcher
            if anchor is not None:
                for word in anchor:
                    by_word[word].append(anchor)
        self._by_word = dict(by_word)
        self._matchers = matchers
        self._built = True

    @property
    def group_count(self) -> int:
        """How many spaCy Matchers the patterns were split into."""
        if not self._built:
            self.build()
        return len(self._matchers)

    def __call__(self, doc: Doc) -> List[Match]:
        """(match_id, start, end) for every match of every pattern, as spaCy's Matcher gives them
        (in an order of its own: callers that care sort them)."""
        if not self._built:
            self.build()
        matchers = self._matchers
        active: Set[Optional[FrozenSet[str]]] = {None} if None in matchers else set()
        for word in {token.norm_ for token in doc}:
            active.update(self._by_word.get(word, ()))
        matches: List[Match] = []
        for anchor in active:
            matches.extend(matchers[anchor](doc))
        return matches
