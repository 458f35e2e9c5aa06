"""A small pattern language compiled into spaCy Matcher token patterns.

Red-flag patterns are clinical content that people review, so they are written as short readable
strings in YAML ("@cant control|hold ~3 @bladder") instead of spaCy's nested dictionaries.
Every word is compared with the token's NORM, which bot.nlu.patient_text sets to the canonical
form (lemma, spelling fixed), so the pattern writer never lists inflections or typos.

Syntax (one pattern = words separated by spaces):
    word        the word (canonicalised like the text is)
    a|b|@list   any of these; `@list` is a named list whose entries may be phrases
    go+away|b   "+" joins words into a phrase inside an alternation
    token?      optional (a word, an alternation or a list)
    ~N          up to N other words; never crosses a sentence end, "but", or a negation word
    %fever      a number that is a fever temperature (token extension `rf_fever`)
    %year       a year or a decade: 2019, 1990s, 90s
    %number     a count written in digits or words: 20, twenty
"""
from __future__ import annotations

import itertools
from typing import Callable, Dict, Iterable, List, Sequence

TokenSpec = Dict[str, object]
Sequence_ = List[TokenSpec]

SPECIALS: Dict[str, TokenSpec] = {
    "%fever": {"_": {"rf_fever": True}},
    "%year": {"TEXT": {"REGEX": r"^(?:(?:19|20)\d\d|'?\d0s|(?:19|20)\d0s)$"}},  # 2019, 90s, '80s, 1990s
    "%number": {"LIKE_NUM": True},
}


class PatternError(ValueError):
    """A pattern that cannot be compiled (unknown list, empty alternation...)."""


class PatternCompiler:
    def __init__(
        self,
        lists: Dict[str, Sequence[str]],
        canonical: Callable[[str], str],
        gap_blockers: Iterable[str],
        max_variants: int = 5000,
        token_count: Callable[[str], int] = lambda word: 1,
    ) -> None:
        self.lists = {name: list(entries) for name, entries in lists.items()}
        self.canonical = canonical
        self.token_count = token_count
        self.gap_spec: TokenSpec = {"NORM": {"NOT_IN": sorted(set(gap_blockers))}, "IS_SPACE": False, "OP": "?"}
        self.max_variants = max_variants
        self.words_used: set = set()
        self._list_cache: Dict[str, List[Sequence_]] = {}

    def compile(self, pattern: str) -> List[Sequence_]:
        """All spaCy token patterns a pattern string stands for."""
        if not isinstance(pattern, str):  # YAML reads bare no/yes/on/off as booleans
            raise PatternError(f"patterns and list entries must be quoted strings, got {pattern!r}")
        variants: List[Sequence_] = [[]]
        for item in pattern.split():
            options = self._item(item, pattern)
            variants = [v + o for v, o in itertools.product(variants, options)]
            if len(variants) > self.max_variants:
                raise PatternError(f"pattern {pattern!r} expands to more than {self.max_variants} variants")
        variants = [v for v in variants if any(spec.get("OP") != "?" for spec in v)]
        if not variants:
            raise PatternError(f"pattern {pattern!r} matches nothing (every token is optional)")
        return variants

    def _item(self, item: str, pattern: str) -> List[Sequence_]:
        if item.startswith("~"):
            try:
                n = int(item[1:])
            except ValueError:
                raise PatternError(f"bad gap {item!r} in {pattern!r}") from None
            return [[dict(self.gap_spec) for _ in range(n)]]
        if item in SPECIALS:
            return [[dict(SPECIALS[item])]]
        optional = item.endswith("?") and len(item) > 1
        if optional:
            item = item[:-1]
        words: set = set()
        phrases: List[Sequence_] = []
        for option in item.split("|"):
            if not option:
                raise PatternError(f"empty alternative in {item!r} of {pattern!r}")
            if "+" in option:  # a phrase inside an alternation: go+away|resolve
                phrases.extend(self.compile(option.replace("+", " ")))
            elif option.startswith("@"):
                for seq in self._list(option[1:], pattern):
                    if len(seq) == 1 and set(seq[0]) == {"NORM"}:
                        words.update(_norm_values(seq[0]))
                    else:
                        phrases.append(seq)
            else:
                if self.token_count(option) != 1:  # "wasn't", "pee-pee": the text has several tokens
                    raise PatternError(f"{option!r} in {pattern!r} is several tokens: write them apart (was not, pee - pee)")
                word = self.canonical(option)
                self.words_used.add(word)
                words.add(word)
        options: List[Sequence_] = []
        if words:
            options.append([_word_spec(words)])
        options.extend(phrases)
        if optional:
            if len(options) == 1 and len(options[0]) == 1 and "OP" not in options[0][0]:
                return [[{**options[0][0], "OP": "?"}]]
            return [[]] + options
        return options

    def _list(self, name: str, pattern: str) -> List[Sequence_]:
        if name not in self.lists:
            raise PatternError(f"unknown list @{name} in {pattern!r}")
        if name not in self._list_cache:
            self._list_cache[name] = []  # guards against a list that refers to itself
            seqs: List[Sequence_] = []
            for entry in self.lists[name]:
                seqs.extend(self.compile(entry))
            self._list_cache[name] = seqs
        return self._list_cache[name]


def _word_spec(words: set) -> TokenSpec:
    return {"NORM": next(iter(words))} if len(words) == 1 else {"NORM": {"IN": sorted(words)}}


def _norm_values(spec: TokenSpec) -> List[str]:
    value = spec["NORM"]
    return list(value["IN"]) if isinstance(value, dict) else [str(value)]
