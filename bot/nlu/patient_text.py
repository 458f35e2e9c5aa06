"""Tokens with canonical forms for patient-written text: lemma, SMS spellings and typos fixed.

Frightened people type fast on phones: "bladdder", "cnt pee", "legs r numm", "peeing my pants".
Each token's NORM is set to one canonical word so that a pattern word matches every way of
writing it. The order is: collapse letters repeated 3+ times ("numbbb"), the explicit spelling
table, the explicit forms table, the tokenizer's own norms ("ca" -> "can", "n't" -> "not"), the
lemma lookup table, and last a spelling corrector that only touches words it does not know
(not in the lemma table and not listed as real words), changing them into a pattern word at edit
distance 1 (2 for words of 8+ letters) when exactly one such word is that close.
"""
from __future__ import annotations

import os
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, cast

import spacy
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc, Token

from bot.paths import BUILD

_REPEATS = re.compile(r"(.)\1{2,}")
_FEVER = re.compile(r"^(\d{2,3}(?:[.,]\d{1,2})?)\s*°?\s*([fc])?$")

if not Token.has_extension("rf_fever"):
    Token.set_extension("rf_fever", default=False)


def fever_value(text: str) -> bool:
    """True for a temperature that is a fever: 100.4 F / 38.0 C or more (a plausible body reading)."""
    m = _FEVER.match(text.lower().strip())
    if not m:
        return False
    value = float(m.group(1).replace(",", "."))
    unit = m.group(2)
    if unit == "c" or (unit is None and 35.0 <= value <= 43.0):
        return 38.0 <= value <= 43.0
    if unit == "f" or (unit is None and 95.0 <= value <= 110.0):
        return 100.4 <= value <= 110.0
    return False


def fold_accents(text: str) -> str:
    """"oriné" -> "orine", "pipí" -> "pipi": Spanish is typed with and without accents alike."""
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of two letters counts 1); > limit stops early."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: List[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


MAX_TYPO_LENGTH = 30  # longer than any pattern word plus two typos


def _deletes(word: str, depth: int) -> set:
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


class PatientText:
    """Makes spaCy Docs whose token NORMs are canonical words (see module docstring)."""

    def __init__(
        self,
        spacy_path: Path,
        spelling: Dict[str, str],
        forms: Dict[str, str],
        split_tokens: Dict[str, Sequence[Sequence[str]]],
        not_typos: Iterable[str],
    ) -> None:
        self.nlp = spacy.load(spacy_path)
        self.lemmas: Dict[str, str] = _lemma_lookup()
        self.spelling = {k.lower(): v.lower() for k, v in spelling.items()}
        self.forms = {k.lower(): v.lower() for k, v in forms.items()}
        self.known = set(self.lemmas) | set(self.lemmas.values()) | common_words()
        self.known_strings = {str(w) for w in not_typos}
        for surface, pieces in split_tokens.items():
            for variant in {surface, surface.capitalize(), surface.upper()}:
                orths = _split_like(variant, [p[0] for p in pieces])
                cast(Tokenizer, self.nlp.tokenizer).add_special_case(
                    variant, [{"ORTH": o, "NORM": p[1]} for o, p in zip(orths, pieces)]
                )
        self._vocabulary: Dict[str, str] = {}
        self._delete_index: Dict[str, set] = {}

    # ---------------------------------------------------------------- canonical forms
    def canonical_word(self, word: str) -> str:
        """Canonical form of one word as written in a pattern (no typo correction)."""
        lower = fold_accents(word.lower())
        return self._canonical(lower, lower)


    def _canonical(self, lower: str, norm: str) -> str:
        if lower in self.spelling:
            return self.spelling[lower]
        if lower in self.forms:
            return self.forms[lower]
        if norm != lower:  # the tokenizer's norm for contraction pieces: "ca" -> "can"
            return self.forms.get(norm, self.lemmas.get(norm, norm))
        return self.lemmas.get(lower, lower)

    def set_vocabulary(self, words: Iterable[str]) -> None:
        """The canonical words the patterns use: typos are corrected only into these."""
        vocabulary: Dict[str, str] = {}
        words = {w for w in words if w and " " not in w}
        for w in words:
            vocabulary[w] = w
        for surface, lemma in self.lemmas.items():
            if lemma in words:
                vocabulary.setdefault(str(surface), lemma)
        for table in (self.forms, self.spelling):
            for surface, canonical in table.items():
                if canonical in words:
                    vocabulary.setdefault(surface, canonical)
        self._vocabulary = vocabulary
        index: Dict[str, set] = {}
        for surface in vocabulary:
            if len(surface) >= 4:
                for d in _deletes(surface, 2 if len(surface) >= 7 else 1):
                    index.setdefault(d, set()).add(surface)
        self._delete_index = index
        self.correct.cache_clear()

    def is_known(self, word: str) -> bool:
        return word in self.known or word in self.known_strings or word in self._vocabulary

    @lru_cache(maxsize=20000)  # noqa: B019 (keeps its PatientText alive; each lives for the process)
    def correct(self, word: str) -> Optional[str]:
        """The pattern word an unknown word is a typo of, or None."""
        if len(word) < 5 or len(word) > MAX_TYPO_LENGTH or not word.isalpha() or self.is_known(word):
            return None  # a longer "word" is no typo of ours, and its deletions would fill memory
        limit = 2 if len(word) >= 8 else 1
        candidates = set()
        for d in _deletes(word, limit):
            candidates |= self._delete_index.get(d, set())
        best: Dict[str, int] = {}
        for surface in candidates:
            dist = edit_distance(word, surface, limit)
            if dist <= limit:
                canonical = self._vocabulary[surface]
                best[canonical] = min(dist, best.get(canonical, dist))
        if not best:
            return None
        top = min(best.values())
        winners = [c for c, d in best.items() if d == top]
        return winners[0] if len(winners) == 1 else None

    # ---------------------------------------------------------------- documents
    def __call__(self, text: str) -> Doc:
        # The tokenizer's exceptions are case-sensitive ("cannot" splits, "CANNOT" does not): read the
        # lower-case text when lower-casing keeps every offset (it nearly always does).
        lower = text.lower()
        doc = self.nlp.make_doc(lower if len(lower) == len(text) else text)
        for token in doc:
            if token.is_space:
                continue
            lower = fold_accents(token.lower_)
            collapsed = _REPEATS.sub(r"\1\1", lower)
            canonical = self._canonical(collapsed, token.norm_ if token.norm_ != token.lower_ else collapsed)
            if canonical == collapsed and not self.is_known(collapsed):
                canonical = self.correct(collapsed) or canonical
            token.norm_ = canonical
            if token.like_num or token.text[:1].isdigit():
                token._.rf_fever = fever_value(token.text)
        return doc


COMMON_WORDS_FILE = BUILD / "common_english_words.txt"
COMMON_WORD_MIN_LOG_PROB = -15.0  # ~55k words; typos like "paralized" (-17.5) stay below


@lru_cache(maxsize=1)
def common_words() -> frozenset:
    """Words common enough in English to be real words, never typos to correct.

    Taken from spaCy's English word probabilities (spacy-lookups-data) once, then cached under
    build/ (reading the full table takes seconds and a lot of memory).
    """
    if COMMON_WORDS_FILE.exists():
        return frozenset(COMMON_WORDS_FILE.read_text(encoding="utf-8").split())
    import spacy_lookups_data
    import srsly

    probs = srsly.read_gzip_json(spacy_lookups_data.get_file("en_lexeme_prob.json.gz"))
    words = sorted(w for w, p in probs.items() if p >= COMMON_WORD_MIN_LOG_PROB and w.strip() and " " not in w)
    del probs
    COMMON_WORDS_FILE.parent.mkdir(parents=True, exist_ok=True)
    tmp = COMMON_WORDS_FILE.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text("\n".join(words), encoding="utf-8")
    os.replace(tmp, COMMON_WORDS_FILE)
    return frozenset(words)


@lru_cache(maxsize=1)
def _lemma_lookup() -> Dict[str, str]:
    """spaCy's English lemma lookup table as plain strings (the pipeline's copy is keyed by hashes)."""
    import spacy_lookups_data
    import srsly

    return dict(srsly.read_gzip_json(spacy_lookups_data.get_file("en_lemma_lookup.json.gz")))


def _split_like(surface: str, pieces: List[str]) -> List[str]:
    """Cut `surface` into pieces with the lengths of `pieces` (keeps the original letters/case)."""
    out, i = [], 0
    for p in pieces:
        out.append(surface[i:i + len(p)])
        i += len(p)
    if i != len(surface):
        raise ValueError(f"split pieces {pieces} do not spell {surface!r}")
    return out
