"""Deterministic red-flag detection: EMERGENCY, CRISIS and URGENT symptoms in one message.

Plain Python over a spaCy Doc (no Rasa), so tests, benchmarks and the Rasa component
(bot.nlu.red_flags) all call the same code. Content lives in red_flag_patterns.yml; this module
compiles it, matches it, and asks bot.nlu.red_flag_context whether each match is really reported.

    >>> detector = RedFlagMatcher.shared()
    >>> detector.detect("I can't control my bladder").tier
    'EMERGENCY'
"""
from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import yaml

from bot.nlu.anchored_matcher import AnchoredMatcher
from bot.nlu.fit_cache import OncePerProcess
from bot.nlu.patient_text import PatientText
from bot.nlu.red_flag_context import HYPOTHETICAL, TRIGGER_KINDS, ContextSettings, MessageContext
from bot.nlu.token_patterns import PatternCompiler
from bot.paths import SPACY_MODEL

PATTERNS_FILE = Path(__file__).with_name("red_flag_patterns.yml")
CONCEPTS_FILE = Path(__file__).with_name("red_flag_concepts.yml")
TIER_ORDER = ("EMERGENCY", "CRISIS", "URGENT")
TERM_QUESTION = "term question"
ASKED_REASONS = (HYPOTHETICAL, TERM_QUESTION)  # set aside as a question, not as somebody's report
CONCEPT_GAP = 8  # words allowed between two concepts of one combination (never across a clause end)


def concept_spans(
    combination: Sequence[str], spans: Dict[str, List[Tuple[int, int]]], context: MessageContext, gap: int = CONCEPT_GAP
) -> List[Tuple[Tuple[int, int], Tuple[Tuple[int, int], ...]]]:
    """Where every concept of a combination stands in one sentence, in any order, at most `gap` words
    apart, with no negation word between them (as a pattern's `~N` gap): (whole span, the parts).

    [c_urine, c_cannot] fires for "can't pee", "no puedo orinar" and "haven't been able to have a wee"
    alike: an unseen wording of known concepts is caught without a phrase of its own. Parts in different
    clauses ("I keep trying to pee and I can't start") are each judged too (RedFlagMatcher.detect).
    """
    per_concept = [spans.get(f"concept:{name}", []) for name in combination]
    if not all(per_concept):
        return []
    found = set()
    by_sentence: Dict[int, List[List[Tuple[int, int]]]] = {}
    for index, concept_spans_found in enumerate(per_concept):
        for span in concept_spans_found:
            by_sentence.setdefault(context.sentence[span[0]], [[] for _ in per_concept])[index].append(span)
    for choice in _near_choices(by_sentence.values(), context, gap):
        ordered = sorted(choice)
        if any(a[1] > b[0] for a, b in zip(ordered, ordered[1:])):
            continue  # one word cannot stand for two concepts
        if any(context.words_between(a[1], b[0]) > gap or context.negator_between(a[1], b[0]) for a, b in zip(ordered, ordered[1:])):
            continue
        found.add(((ordered[0][0], max(e for _, e in ordered)), tuple(ordered)))
    return sorted(found)


def across_sentences(
    combination: Sequence[str], spans: Dict[str, List[Tuple[int, int]]], context: MessageContext, limit: int = 3
) -> List[Tuple[Tuple[int, int], Tuple[Tuple[int, int], ...]]]:
    """Every concept of a combination anywhere in the message, in separate sentences or not: (whole span,
    the parts). For the halves of a plan a person tells apart ("Nothing matters now. I've got the rope
    ready."); the detector judges each part in its own clause, so a denied or quoted half does not count,
    and two parts in one clause with a negation between them ("my calf isn't swollen") are no combination.
    The first `limit` spans of each concept are enough: a long message must not cost a product of all."""
    per_concept = [sorted(set(spans.get(f"concept:{name}", [])))[:limit] for name in combination]
    if not all(per_concept):
        return []
    found = set()
    for choice in itertools.product(*per_concept):
        ordered = sorted(choice)
        if any(a[1] > b[0] for a, b in zip(ordered, ordered[1:])):
            continue  # one word cannot stand for two concepts
        if any(context.same_clause(a[0], b[0]) and context.negator_between(a[1], b[0]) for a, b in zip(ordered, ordered[1:])):
            continue
        found.add(((ordered[0][0], max(e for _, e in ordered)), tuple(ordered)))
    return sorted(found)


def _near_choices(sentences, context: MessageContext, gap: int):
    """One span per concept, all within reach of each other, sentence by sentence. Only spans near the first
    concept's are paired with it: pairing every span with every other was quadratic in a long unpunctuated
    message (20,000 characters of "cant pee" took 9.7 s and held up everyone's replies)."""
    for groups in sentences:
        if not all(groups):
            continue
        longest = max(context.word_pos[e] - context.word_pos[s] for group in groups for s, e in group)
        reach = (len(groups) - 1) * (gap + longest + 1)
        ordered = [sorted(group) for group in groups]
        positions = [[context.word_pos[s] for s, _ in group] for group in ordered]
        for anchor in ordered[0]:
            at = context.word_pos[anchor[0]]
            near = [[anchor]] + [group[bisect.bisect_left(pos, at - reach):bisect.bisect_right(pos, at + reach)]
                                 for group, pos in zip(ordered[1:], positions[1:])]
            if all(near):
                yield from itertools.product(*near)


@dataclass(frozen=True)
class Category:
    name: str
    tier: str
    summary: str
    reason: str
    hypothetical_applies: bool
    resolved_rules_out: bool
    summary_es: str = ""
    reason_es: str = ""

    def words(self, language: str = "en") -> Tuple[str, str]:
        """(summary, reason) in the reply's language; English where no Spanish is written."""
        if language == "es":
            return self.summary_es or self.summary, self.reason_es or self.reason
        return self.summary, self.reason


@dataclass(frozen=True)
class Finding:
    """One red flag the message reports."""

    tier: str
    category: str
    text: str
    start: int  # character offsets in the message
    end: int
    summary: str

    def as_dict(self) -> Dict[str, object]:
        return {"tier": self.tier, "category": self.category, "text": self.text,
                "start": self.start, "end": self.end, "summary": self.summary}


@dataclass(frozen=True)
class RuledOut:
    """A match that the context rules set aside (kept for staff review and debugging)."""

    category: str
    text: str
    reason: str

    def as_dict(self) -> Dict[str, str]:
        return {"category": self.category, "text": self.text, "reason": self.reason}


@dataclass
class Detection:
    findings: List[Finding] = field(default_factory=list)
    ruled_out: List[RuledOut] = field(default_factory=list)
    context_cue: bool = False  # the message negates, dates or questions something
    pushback: bool = False  # refusal, minimising or "can it wait" (meaningful after a red-flag reply)
    retraction: bool = False  # a correction: "I meant my dog", "it's not new"
    self_claim: bool = False  # "actually it's me", "soy yo": what was asked about is happening to the writer
    going: bool = False  # "ringing 911 now", "mi yerno nos lleva": going or calling, not negated (after a red-flag reply)
    recent_surgery: bool = False  # "oh and my fusion was 6 days ago": after a same-day question, that makes it same-day
    unsure: List[str] = field(default_factory=list)  # categories named too vaguely to settle: ask
    term_question: bool = False  # a question about a word ("what is cauda equina?"), not a report
    third_person: bool = False  # the finding is about somebody else (a caregiver writes)
    words: frozenset = frozenset()  # the message's canonical words (for classifier anchors)

    @property
    def tiers(self) -> List[str]:
        present = {f.tier for f in self.findings}
        return [t for t in TIER_ORDER if t in present]

    @property
    def tier(self) -> Optional[str]:
        """The highest tier found, or None."""
        tiers = self.tiers
        return tiers[0] if tiers else None

    @property
    def categories(self) -> List[str]:
        return [f.category for f in self.findings]

    def ruled_out_tiers(self, categories: Dict[str, Category]) -> List[str]:
        return sorted({categories[r.category].tier for r in self.ruled_out if r.category in categories})

    def asked_about(self, categories: Dict[str, Category]) -> Optional[str]:
        """The most serious category set aside only because it was asked about or supposed ("what if
        someone couldn't pee?", "what is cauda equina?"): a next "actually it's me" reports it."""
        asked = [categories[r.category] for r in self.ruled_out if r.reason in ASKED_REASONS and r.category in categories]
        asked.sort(key=lambda c: TIER_ORDER.index(c.tier))
        return asked[0].name if asked else None


class RedFlagMatcher(OncePerProcess):   # shared(): one per process (loading compiles a few thousand patterns)

    def __init__(
        self,
        patterns_file: Path = PATTERNS_FILE,
        spacy_path: Path = SPACY_MODEL,
        validate: bool = False,
        concepts_file: Optional[Path] = CONCEPTS_FILE,
    ) -> None:
        """validate=True checks every compiled pattern against spaCy's schema (slow; tests do it)."""
        content = yaml.safe_load(Path(patterns_file).read_text(encoding="utf-8"))
        if concepts_file is not None:
            content = merge_content(content, yaml.safe_load(Path(concepts_file).read_text(encoding="utf-8")))
        self.tiers = {t["name"]: t for t in content["tiers"]}
        self.text = PatientText(
            spacy_path,
            spelling=content.get("spelling", {}),
            forms=content.get("forms", {}),
            split_tokens=content.get("split_tokens", {}),
            not_typos=content.get("not_typos", []),
        )
        ctx = content.get("context", {})
        self.settings = ContextSettings.from_yaml(ctx, self.text.canonical_word)
        blockers = set(self.settings.clause_end_punct) | set(self.settings.negators) | {
            self.text.canonical_word(w) for w in ("but", "however", "although", "though", "yet", "except", "whereas", "unless")
        }
        compiler = PatternCompiler(
            content.get("lists", {}), self.text.canonical_word, blockers, token_count=lambda w: len(self.text.nlp.make_doc(w))
        )
        common_words = {self.text.canonical_word(w) for w in self.text.nlp.Defaults.stop_words}
        self.matcher = AnchoredMatcher(
            self.text.nlp.vocab, validate=validate, word_weight=lambda word: 50.0 if word in common_words else 1.0
        )
        for kind in TRIGGER_KINDS:
            self._add(compiler, f"ctx:{kind}", ctx.get(kind, []))
        # Figures of speech and other subjects that set aside any category they overlap
        # ("wet myself laughing", "dead on my feet", "the pipe is leaking").
        self._add(compiler, "excl:*", content.get("idioms", []))
        self._add(compiler, "pushback", content.get("pushback", []))
        self._add(compiler, "term", content.get("term_questions", []))
        self._add(compiler, "retraction", content.get("retraction", []))
        self._add(compiler, "corrected", content.get("corrected_report", []))
        self._add(compiler, "going", content.get("going", []))
        self._add(compiler, "self_claim", content.get("self_claim", []))
        self._add(compiler, "recent_surgery", content.get("recent_surgery", []))
        self._add(compiler, "chronic", content.get("chronic", []))
        self._add(compiler, "over_since", content.get("over_since", []))
        self._add(compiler, "chronic_overridden", content.get("chronic_overridden_by", []))
        self._add(compiler, "third_person", content.get("third_person", []))
        self.categories: Dict[str, Category] = {}
        self.combinations: Dict[str, List[List[str]]] = {}
        self.across: Dict[str, List[List[str]]] = {}
        compiled_concepts: set = set()
        for name, spec in content["categories"].items():
            if spec["tier"] not in TIER_ORDER:
                raise ValueError(f"category {name}: unknown tier {spec['tier']!r}")
            self.categories[name] = Category(
                name=name,
                tier=spec["tier"],
                summary=spec["summary"],
                reason=spec["reason"],
                hypothetical_applies=bool(spec.get("hypothetical", True)),
                resolved_rules_out=bool(spec.get("resolved_rules_out", False)),
                summary_es=spec.get("summary_es", ""),
                reason_es=spec.get("reason_es", ""),
            )
            self._add(compiler, f"find:{name}", spec.get("patterns", []))
            self.combinations[name] = [list(c) for c in spec.get("concepts", [])]
            self.across[name] = [list(c) for c in spec.get("across_sentences", [])]
            for concept in {c for combination in self.combinations[name] + self.across[name] for c in combination}:
                if concept not in compiled_concepts:
                    compiled_concepts.add(concept)
                    self._add(compiler, f"concept:{concept}", [f"@{concept}"])
            self._add(compiler, f"excl:{name}", spec.get("exclude", []))
            self._add(compiler, f"unsure:{name}", spec.get("unsure", []))
        self.classifier_anchors: Dict[str, frozenset] = {
            name: frozenset(self.text.canonical_word(w) for w in tier.get("classifier_anchors", []))
            for name, tier in self.tiers.items()
        }
        self.text.set_vocabulary(compiler.words_used)
        self.matcher.build()
        self.pattern_count = len(self.matcher)

    def _add(self, compiler: PatternCompiler, key: str, patterns: List[str]) -> None:
        specs = [seq for p in patterns for seq in compiler.compile(p)]
        if specs:
            self.matcher.add(key, specs)


    # ------------------------------------------------------------------ detection
    def detect(self, text: str) -> Detection:
        doc = self.text(text or "")
        spans: Dict[str, List[Tuple[int, int]]] = {}
        strings = self.text.nlp.vocab.strings
        for match_id, start, end in self.matcher(doc):
            spans.setdefault(strings[match_id], []).append((start, end))
        triggers = {kind: sorted(set(spans.get(f"ctx:{kind}", []))) for kind in TRIGGER_KINDS}
        context = MessageContext(doc, self.settings, triggers)
        detection = Detection()
        accepted_spans: List[Tuple[int, int]] = []
        terms = spans.get("term", [])
        candidates: Dict[str, List[Tuple[int, int]]] = {}
        parts: Dict[Tuple[int, int], Tuple[Tuple[int, int], ...]] = {}
        for name in self.categories:
            for combination in self.combinations[name]:
                for whole, pieces in concept_spans(combination, spans, context):
                    parts.setdefault(whole, pieces)
                    candidates.setdefault(name, []).append(whole)
            for combination in self.across[name]:
                for whole, pieces in across_sentences(combination, spans, context):
                    parts.setdefault(whole, pieces)
                    candidates.setdefault(name, []).append(whole)
            candidates[name] = _minimal(spans.get(f"find:{name}", []) + candidates.get(name, []))
        context.set_aside_negations_inside(span for found in candidates.values() for span in found)
        for name, category in self.categories.items():
            found = candidates[name]
            if not found:
                continue
            if terms:
                asked = [f for f in found if any(ts < f[1] and f[0] < te for ts, te in terms)]
                detection.ruled_out.extend(RuledOut(name, doc[s:e].text, TERM_QUESTION) for s, e in asked[:1])
                found = [f for f in found if f not in asked]
                detection.term_question = detection.term_question or bool(asked)
                if not found:
                    continue
            exclusions = spans.get(f"excl:{name}", []) + spans.get("excl:*", [])
            accepted = None
            rejected: List[RuledOut] = []
            for start, end in found:
                reason = context.judge((start, end), exclusions, category.hypothetical_applies, category.resolved_rules_out)
                pieces = parts.get((start, end), ())
                if reason is None and category.tier != "CRISIS" and self._long_standing(start, spans, context):
                    reason = "long-standing"  # "been like that 20 years", "always have": not a new sign
                if reason is None and pieces and not all(context.same_clause(start, s) for s, _ in pieces):
                    reason = next(  # parts across clauses: each must stand ("my bladder's fine and I can't walk")
                        (r for r in (context.judge(p, exclusions, category.hypothetical_applies, category.resolved_rules_out) for p in pieces) if r),
                        None,
                    )
                if reason is None:
                    accepted = (start, end)
                    break
                rejected.append(RuledOut(name, doc[start:end].text, reason))
            if accepted:
                accepted_spans.append(accepted)
                span = _whole_words(doc, *accepted)
                detection.findings.append(
                    Finding(category.tier, name, span.text, span.start_char, span.end_char, category.summary)
                )
            else:
                detection.ruled_out.extend(rejected)
        # A concept combination inside another category's own phrase says the same thing in other
        # words ("can't control my bladder" is not also "can't pee"): the phrase names it.
        phrased = [(f, span) for f, span in zip(detection.findings, accepted_spans) if span in spans.get(f"find:{f.category}", [])]
        kept = [
            (f, span) for f, span in zip(detection.findings, accepted_spans)
            if (f, span) in phrased or not any(p.category != f.category and ps[0] <= span[0] and span[1] <= ps[1] for p, ps in phrased)
        ]
        if spans.get("retraction") and spans.get("corrected"):
            # "I told you earlier I couldn't pee. I meant I couldn't poop": what the writer says they said
            # before, in a message that corrects it, is the mistake, not a report
            corrected = [(f, span) for f, span in kept if any(context.same_sentence(c[0], span[0]) for c in spans["corrected"])]
            detection.ruled_out.extend(RuledOut(f.category, f.text, "corrected") for f, _ in corrected)
            kept = [pair for pair in kept if pair not in corrected]
        detection.findings = [f for f, _ in kept]
        accepted_spans = [span for _, span in kept]
        for name in self.categories:  # known harmless look-alikes ("can't walk far"), for the record
            reported = {f.category for f in detection.findings} | {r.category for r in detection.ruled_out}
            if name not in reported:
                detection.ruled_out.extend(
                    RuledOut(name, doc[s:e].text, "excluded") for s, e in sorted(set(spans.get(f"excl:{name}", [])))[:1]
                )
        detection.context_cue = context.has_cue or bool(spans.get("excl:*"))  # an idiom: the classifier may not decide
        detection.pushback = bool(spans.get("pushback"))
        detection.retraction = bool(spans.get("retraction"))
        detection.self_claim = bool(spans.get("self_claim"))
        detection.recent_surgery = bool(spans.get("recent_surgery"))
        detection.going = any(context.judge(span, [], False) is None for span in spans.get("going", []))
        if not detection.findings:
            detection.unsure = [  # a vague sign is judged like a clear one: negated, past, long over
                name for name in self.categories
                if any(
                    context.judge(span, spans.get("excl:*", []), True) is None
                    and (self.categories[name].tier == "CRISIS" or not self._long_standing(span[0], spans, context))
                    for span in spans.get(f"unsure:{name}", [])
                )
            ]
        others = spans.get("third_person", [])
        # about somebody else: in the finding's sentence; with no finding (the safety net decides), anywhere
        starts = [start for start, _ in accepted_spans] or [0]
        detection.third_person = any(
            context.same_sentence(ts, start) or not accepted_spans for ts, _ in others for start in starts
        )
        detection.words = frozenset(t.norm_ for t in doc)
        detection.findings.sort(key=lambda f: (TIER_ORDER.index(f.tier), f.start))
        return detection

    @staticmethod
    def _long_standing(start: int, spans: Dict[str, List[Tuple[int, int]]], context: MessageContext) -> bool:
        """Said in its sentence to be long-standing, or anywhere in the message to be over ("it's been
        fine since"), and not said in its sentence to be new or worse ("nothing new" is itself
        long-standing, not an override)."""
        chronic = [s for s in spans.get("chronic", []) if context.same_sentence(s[0], start)] + spans.get("over_since", [])
        overrides = [
            o for o in spans.get("chronic_overridden", [])
            if context.same_sentence(o[0], start) and not any(c[0] <= o[0] and o[1] <= c[1] for c in chronic)
        ]
        return bool(chronic) and not overrides

    def anchored(self, detection: Detection, tier: str) -> bool:
        """Whether the message has a word of this tier's vocabulary (see `classifier_anchors`)."""
        anchors = self.classifier_anchors.get(tier)
        return not anchors or bool(anchors & detection.words)

    def summary(self, detection: Detection, language: str = "en") -> str:
        """Plain words for what was found, highest tier first: "a and b".

        Suicidal thoughts found beside an emergency are left out: that reply speaks to them in a
        message of its own (utter_red_flag_emergency_after for EMERGENCY+CRISIS).
        """
        parts: List[str] = []
        for f in detection.findings:
            if f.tier == "CRISIS" and detection.tier != "CRISIS":
                continue
            text = self.categories[f.category].words(language)[0]
            if text not in parts:
                parts.append(text)
        if not parts:
            return ""
        conjunction = " y " if language == "es" else " and "
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + conjunction + parts[-1]

    def tier_words(self, tier: str, language: str = "en") -> Tuple[str, str]:
        """(summary, reason) for a tier in general words, when no pattern named what it was (the
        classifier or the safety net saw it)."""
        words = self.tiers[tier]
        if language == "es" and words.get("summary_es"):
            return words["summary_es"], words["reason_es"]
        return words["summary"], words["reason"]

    def reason(self, detection: Detection, language: str = "en") -> str:
        """Why the most serious finding matters, in plain words."""
        if not detection.findings:
            return ""
        return self.categories[detection.findings[0].category].words(language)[1]


def merge_content(base: Dict, extra: Dict) -> Dict:
    """The phrase-pattern file with the concept file laid over it: lists, context triggers, idioms and
    pushback are added to; a category gains the extra file's concepts, patterns and exclusions."""
    merged = dict(base)
    for section in ("lists", "context"):
        merged[section] = {**base.get(section, {})}
        for key, values in (extra.get(section) or {}).items():
            merged[section][key] = list(merged[section].get(key, [])) + list(values)
    for section in ("idioms", "pushback", "term_questions", "third_person", "retraction", "corrected_report", "going", "self_claim", "recent_surgery", "chronic", "over_since", "chronic_overridden_by"):
        merged[section] = list(base.get(section, [])) + list(extra.get(section, []))
    merged["categories"] = {name: dict(spec) for name, spec in base["categories"].items()}
    for name, spec in (extra.get("categories") or {}).items():
        if name not in merged["categories"]:
            raise ValueError(f"{name}: the concept file adds to a category the pattern file defines")
        target = merged["categories"][name]
        for key in ("concepts", "across_sentences", "patterns", "exclude", "unsure"):
            target[key] = list(target.get(key, [])) + list(spec.get(key, []))
        for key in ("summary_es", "reason_es"):
            if key in spec:
                target[key] = spec[key]
    return merged


def _whole_words(doc, start: int, end: int):
    """The span widened to whole written words ("dont" is two tokens; show both)."""
    while start > 0 and not doc[start - 1].whitespace_ and not doc[start - 1].is_punct:
        start -= 1
    while end < len(doc) and not doc[end - 1].whitespace_ and not doc[end].is_punct:
        end += 1
    return doc[start:end]


def _minimal(spans: List[Tuple[int, int]]) -> List[Tuple[int, int]]:
    """Distinct spans in text order, the shortest first among those that start together."""
    return sorted(set(spans), key=lambda s: (s[0], s[1] - s[0]))
