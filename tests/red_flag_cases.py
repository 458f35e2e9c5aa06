"""The red-flag test phrasings (tests/data/red_flags/) and the recall/false-positive bookkeeping
shared by the detector test, the NLU test and the benchmark."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import yaml

DATA = Path(__file__).resolve().parent / "data" / "red_flags"
MAX_FALSE_POSITIVE_RATE = 0.02


def positives() -> List[Dict[str, str]]:
    return yaml.safe_load((DATA / "positives.yml").read_text(encoding="utf-8"))["positives"]


def negatives() -> List[str]:
    return yaml.safe_load((DATA / "negatives.yml").read_text(encoding="utf-8"))["negatives"]


def about_red_flags() -> List[Dict[str, str]]:
    return yaml.safe_load((DATA / "about_red_flags.yml").read_text(encoding="utf-8"))["about_red_flags"]


def all_texts() -> List[str]:
    return [p["text"] for p in positives()] + negatives() + [a["text"] for a in about_red_flags()]


@dataclass
class Score:
    """Recall on positives (right tier and category) and false positives on negatives."""

    misses: List[str] = field(default_factory=list)
    false_positives: List[str] = field(default_factory=list)
    n_positives: int = 0
    n_negatives: int = 0

    @property
    def recall(self) -> float:
        return 1 - len(self.misses) / max(1, self.n_positives)

    @property
    def false_positive_rate(self) -> float:
        return len(self.false_positives) / max(1, self.n_negatives)

    def report(self, label: str) -> str:
        lines = [
            f"{label}: recall {self.recall:.1%} ({self.n_positives - len(self.misses)}/{self.n_positives}), "
            f"false positives {self.false_positive_rate:.1%} ({len(self.false_positives)}/{self.n_negatives})"
        ]
        lines += [f"  MISS {m}" for m in self.misses]
        lines += [f"  FALSE POSITIVE {f}" for f in self.false_positives]
        return "\n".join(lines)


# classify(text) -> (tier or None, categories found)
Classifier = Callable[[str], Tuple[Optional[str], Sequence[str]]]


def score(classify: Classifier) -> Score:
    result = Score()
    for case in positives():
        result.n_positives += 1
        tier, categories = classify(case["text"])
        if tier != case["tier"] or case["category"] not in categories:
            result.misses.append(f"{case['text']!r}: expected {case['tier']}/{case['category']}, got {tier} {list(categories)}")
    for text in negatives():
        result.n_negatives += 1
        tier, categories = classify(text)
        if tier is not None:
            result.false_positives.append(f"{text!r}: {tier} {list(categories)}")
    return result
