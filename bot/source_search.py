"""The pages' own words as a last resort (issue #13, item 4): when no intent is confident, the best
sentence of the clinic's stored pages (BM25 over sentences, each with the section it stands under),
quoted with its page and section, instead of a bare "I didn't understand".

Plain BM25 (Robertson and Zaragoza 2009) over lower-cased, lightly stemmed content words: three short
pages need no index library. A passage counts only above `MIN_SCORE` with at least `MIN_TERMS` of the
question's content words in it; both were chosen on the project's own examples (education questions
should find a passage, small talk should not: tests/test_education_source_search.py).
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, List, Optional, Sequence

from bot import knowledge

MIN_SCORE = 5.0
MIN_TERMS = 2
K1, B = 1.2, 0.75
STOPWORDS = frozenset("""
a about above after again all also am an and any are as at be been before being below between both but by can
could did do does doing done down during each few for from further get gets got had has have having he her here
hers him his how i if in into is it its itself just me more most my myself no nor not now of off on once only or
other our out over own same she should so some such than that the their them then there these they this those
through to too under until up very was we were what when where which while who whom why will with would you your
yours yourself really thing things know tell please pls much many way ok okay hi hello thanks thank u ur im dont
cant wont isnt whats hows someone something anything people person like want need still even get
""".split())
WORD = re.compile(r"[a-z0-9]+")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
REFERENCE = re.compile(r"\(\d{4}\)")  # the pages' reference lists ("Rabb, C. (2010). ...") teach nothing


def terms(text: str) -> List[str]:
    """Content words, lightly stemmed ("injections" and "injection" meet; "nerves" and "nerve")."""
    out = []
    for word in WORD.findall(text.lower().replace("’", "'")):
        if word in STOPWORDS or len(word) < 3:
            continue
        for suffix in ("ations", "ation", "ings", "ing", "ies", "es", "ed", "s"):
            if len(word) > len(suffix) + 3 and word.endswith(suffix):
                word = word[: -len(suffix)]
                break
        out.append(word)
    return out


@dataclass(frozen=True)
class Passage:
    document: str
    page: str
    section: str  # the heading exactly as on the page
    text: str


def passages(kb: knowledge.Knowledge) -> List[Passage]:
    """Every sentence and list item of the stored pages, with the heading it stands under."""
    found: List[Passage] = []
    for doc in kb.documents.values():
        headings = set(doc.sections.values())
        section = doc.title
        for raw in doc.path.read_text(encoding="utf-8").splitlines():
            line = raw.strip().lstrip("•–- ").strip()
            if not line:
                continue
            if line in headings:
                section = line
                continue
            if REFERENCE.search(line):
                continue
            for sentence in SENTENCE_END.split(line):
                if len(terms(sentence)) >= 2:
                    found.append(Passage(doc.id, doc.title, section, sentence.strip()))
    return found


class SourceIndex:
    def __init__(self, units: Sequence[Passage]) -> None:
        self.units = list(units)
        self.bags = [Counter(terms(f"{u.section} {u.text}")) for u in self.units]
        self.lengths = [sum(bag.values()) for bag in self.bags]
        self.average = sum(self.lengths) / max(1, len(self.lengths))
        frequency = Counter(term for bag in self.bags for term in bag)
        n = len(self.units)
        self.idf: Dict[str, float] = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in frequency.items()}

    def scored(self, question: str) -> List[tuple]:
        query = set(terms(question))
        results = []
        for unit, bag, length in zip(self.units, self.bags, self.lengths):
            matched = [t for t in query if t in bag]
            score = sum(
                self.idf[t] * bag[t] * (K1 + 1) / (bag[t] + K1 * (1 - B + B * length / self.average)) for t in matched
            )
            results.append((score, len(matched), unit))
        return sorted(results, key=lambda r: -r[0])

    def best(self, question: str) -> Optional[Passage]:
        ranked = self.scored(question)
        if not ranked:
            return None
        score, matched, unit = ranked[0]
        return unit if score >= MIN_SCORE and matched >= MIN_TERMS else None


@lru_cache(maxsize=1)
def shared() -> SourceIndex:
    return SourceIndex(passages(knowledge.cached()))


SPECIFIC_TERMS = knowledge.KNOWLEDGE_DIR / "specific_terms.yml"


SERVICE_GROUP = "care_and_services"  # waiting lists, telehealth, benefits: the clinic's to answer
MEDICINES_GROUP = "medicines"  # named medicines: the pages' medicines answer is still the one to give


@lru_cache(maxsize=None)
def _unmentioned_terms(group: Optional[str] = None) -> "re.Pattern":
    """The listed specific terms (data/knowledge/specific_terms.yml; of one group, or all) that no page
    mentions, as one pattern."""
    import yaml

    pages = " ".join(p.text.lower() for p in passages(knowledge.cached()))
    groups = yaml.safe_load(SPECIFIC_TERMS.read_text(encoding="utf-8")) or {}
    listed = {str(t).lower() for name, terms_ in groups.items() if group in (None, name) for t in terms_}
    # mentioned also in another number: "facet joint" is in pages that say "facet joints"
    absent = sorted((t for t in listed if not re.search(rf"\b{re.escape(t.rstrip('s'))}(?:s|es)?\b", pages)), key=len, reverse=True)
    return re.compile(r"\b(%s)\b" % "|".join(re.escape(t) for t in absent), re.IGNORECASE)


def unmentioned(text: str, group: Optional[str] = None) -> List[str]:
    """Specific things a question names that the clinic's pages never mention ("is gabapentin used for
    this?" -> ["gabapentin"]), in the order asked, each once."""
    found: List[str] = []
    for match in _unmentioned_terms(group).finditer(text or ""):
        term = match.group(1)
        if term.lower() not in (f.lower() for f in found):
            found.append(term)
    return found
