"""A second reader under the red-flag lexicons: a small text classifier for crisis and red-flag
wordings that no pattern or concept combination knows ("nobody would even notice", "been saving my
oxys", "kms").

Why a separate model and not the intent classifier's red_flag_* intents: it is trained on many
persona-written phrasings per tier *and* on hard look-alikes ("this pain is killing me", "I give up
on physio", the dog's back legs) labelled NONE, which have no intent of their own in the domain; the
intent classifier's data stays about what to answer. Every other intent's examples count as NONE too,
so an ordinary question keeps its low score.

The data lives in data/safety_net/ (labelled, reviewed persona phrasings; never blind-set messages)
and data/nlu/ (the red_flag_* intents and everything else). The model is fitted once per process
from that data (deterministic: same data, same model) and kept on disk under build/, keyed by the
data, the settings and this module, so a server starts without refitting.

    >>> SafetyNet.shared().scores("nobody would miss me if i was gone")["CRISIS"] > 0.5
    True
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import yaml

from bot.nlu.fit_cache import OncePerProcess, load_or_fit
from bot.nlu.patient_text import fold_accents
from bot.paths import BUILD, ROOT

NET_DATA = ROOT / "data" / "safety_net"
NLU_DATA = ROOT / "data" / "nlu"
CACHE_DIR = BUILD / "safety_net"
NONE = "NONE"
TIERS = ("EMERGENCY", "CRISIS", "URGENT")
# what is read: each tier, and a refusal or minimising right after a tier reply ("he'll sleep it off")
READINGS = (*TIERS, "PUSHBACK")
LABEL_FOR_INTENT = {f"red_flag_{reading.lower()}": reading for reading in READINGS}
# a look-alike of one tier only ("this pain is killing me" is no crisis; it says nothing about the
# other tiers): "not_crisis" examples train the crisis reader alone
NOT_TIER_FOR_INTENT = {f"not_{reading.lower()}": reading for reading in READINGS}
SETTINGS = {"C": 8.0, "char_ngrams": (2, 5), "word_ngrams": (1, 2), "version": 1}


def normalise(text: str) -> str:
    """What the net reads: lower case, accents folded, runs of a letter cut to two ("sooo")."""
    folded = fold_accents(text.lower())
    out: List[str] = []
    for ch in folded:
        if len(out) >= 2 and ch == out[-1] == out[-2] and ch.isalpha():
            continue
        out.append(ch)
    return "".join(out)


def read_examples(files: Iterable[Path]) -> List[Tuple[str, str]]:
    """(text, label) pairs from Rasa NLU YAML files: red_flag_* intents by tier, not_<tier> as
    NOT_<TIER>, the rest NONE."""
    pairs: List[Tuple[str, str]] = []
    for path in sorted(files):
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in content.get("nlu") or []:
            intent = block.get("intent")
            if not intent:  # every other intent, bare answers ("no", "not sure") too, is NONE
                continue
            label = LABEL_FOR_INTENT.get(intent) or (f"NOT_{NOT_TIER_FOR_INTENT[intent]}" if intent in NOT_TIER_FOR_INTENT else NONE)
            for line in (block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    text = line[2:].strip()
                    if text and not text.startswith("/"):
                        pairs.append((_strip_entity_marks(text), label))
    return pairs


def _features(settings: Dict):
    """Character n-grams (typos, fragments, text-speak) beside words and word pairs, TF-IDF weighted."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion([
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(settings["char_ngrams"]), sublinear_tf=True, min_df=2)),
        ("words", TfidfVectorizer(analyzer="word", ngram_range=tuple(settings["word_ngrams"]), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b")),
    ])


def _strip_entity_marks(text: str) -> str:
    """Rasa's [words](entity) annotations read as the words."""
    return re.sub(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}", lambda m: m.group(1) or m.group(2) or "", text)


class SafetyNet(OncePerProcess):
    """Probabilities for one message: one reader per reading (EMERGENCY, CRISIS, URGENT, PUSHBACK),
    each trained on its own phrasings against everything else and its own look-alikes."""

    def __init__(self, examples: Sequence[Tuple[str, str]], settings: Dict = SETTINGS) -> None:
        from sklearn.linear_model import LogisticRegression

        texts = [normalise(t) for t, _ in examples]
        labels = [label for _, label in examples]
        # one vocabulary for all readers, so a message is analysed once
        self.features = _features(settings).fit(texts)
        matrix = self.features.transform(texts)
        self.readers = {}
        for reading in READINGS:
            rows = [i for i, label in enumerate(labels) if not label.startswith("NOT_") or label == f"NOT_{reading}"]
            reader = LogisticRegression(C=settings["C"], class_weight="balanced", max_iter=3000)
            self.readers[reading] = reader.fit(matrix[rows], [labels[i] == reading for i in rows])
        # all readers' weights side by side: a message costs one sparse product, not four predict calls
        self.weights = np.column_stack([self.readers[r].coef_[0] for r in READINGS])
        self.biases = np.array([self.readers[r].intercept_[0] for r in READINGS])

    def scores(self, text: str) -> Dict[str, float]:
        """The probability, per reading, that the message says it (each reader's predict_proba)."""
        row = self.features.transform([normalise(text)])
        margins = np.asarray(row @ self.weights).ravel() + self.biases
        return {reading: float(1.0 / (1.0 + np.exp(-m))) for reading, m in zip(READINGS, margins)}

    # ------------------------------------------------------------------ one per process
    @classmethod
    def training_files(cls) -> List[Path]:
        return sorted(NET_DATA.glob("*.yml")) + sorted(NLU_DATA.glob("*.yml"))

    @classmethod
    def fitted(cls, files: Optional[Sequence[Path]] = None, cache_dir: Path = CACHE_DIR) -> "SafetyNet":
        """The net for these data files, from the disk cache when the data and settings are unchanged."""
        files = list(files if files is not None else cls.training_files())
        return load_or_fit(cls, files, SETTINGS, Path(__file__), cache_dir, lambda: cls(read_examples(files)))

    @classmethod
    def _build(cls) -> "SafetyNet":
        return cls.fitted()
