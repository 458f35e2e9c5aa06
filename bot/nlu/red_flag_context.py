"""Is a matched symptom really reported? Negation, past events and treatment questions.

A NegEx-style scope rule (Chapman et al. 2001, "A simple algorithm for identifying negated
findings"), with its trigger lists written for patient language in red_flag_patterns.yml.
We do not use negspacy's scope: it negates every finding after a trigger up to the end of the
sentence, so "not sure what's happening, I peed myself" (one run-on sentence, common in chat)
would be negated and an emergency missed. Here a trigger only reaches a few words and never
crosses a clause boundary (sentence end, "but", or a comma/"and" followed by a new subject).

The rules, per finding:
- excluded: an `exclude` pattern of the same category overlaps it ("can't walk far")
- negated: a negation trigger within `window_before` words before it (or "not" right before it),
  or within `window_after` words after it ("my bladder is fine"), in the same clause;
  pseudo-negations ("not sure", "no idea") and an answering "No I ..." are not triggers. A
  finding that contains a negation word itself ("can't feel", "no control") is the symptom, and
  is never negated by a word before it.
- resolved: "..., but it went away" in the same sentence; only for categories that allow it
  (same-day signs such as a fever); an emergency sign that came and went is still reported.
- historical: said to be in the past ("years ago", "before my surgery"), unless the message
  says it is back ("it came back", "again")
- other subject: an animal or a thing is the subject ("my dog's back legs are giving out", "the pipe
  is leaking"); a person other than the writer still counts ("my dad can't pee")
- hypothetical: advice quoted back ("I was told to go to the ER if..."), a question about what a treatment does ("can RFA cause numbness?") or a
  statement about risks ("risk of paralysis"); never applied to suicidal thoughts, and undone
  by "that's what is happening to me"
False negatives cost far more than false positives, so every rule is deliberately narrow.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from spacy.tokens import Doc

Span = Tuple[int, int]  # token start, end (exclusive)

NEGATED, RESOLVED, HISTORICAL, HYPOTHETICAL, EXCLUDED = "negated", "resolved", "historical", "hypothetical", "excluded"
OTHER_SUBJECT = "other subject"
FIRST_PERSON = frozenset({"i", "me", "my", "mine", "myself", "we", "us", "our", "yo", "mi"})
THIRD_PERSON_PRONOUNS = frozenset({"he", "she", "it", "him", "her", "his", "its", "they", "them", "their"})
CUE_KINDS = (
    "negation_before", "negation_after", "resolved_after", "historical_before", "historical_after",
    "hypothetical_question", "hypothetical_topic", "classifier_veto", "other_subject_before", "quoted_advice",
    "historical_sentence",
)
TRIGGER_KINDS = (
    "negation_before", "negation_adjacent", "negation_after", "resolved_after", "pseudo_negation", "interjection_no",
    "historical_before", "historical_after", "recurrence",
    "hypothetical_question", "hypothetical_topic", "self_report", "classifier_veto", "other_subject_before",
    "quoted_advice", "historical_sentence", "present_time",
)


@dataclass(frozen=True)
class ContextSettings:
    window_before: int
    window_after: int
    historical_window: int
    hypothetical_window: int
    hypothetical_max_lead: int
    negators: frozenset
    clause_end_punct: frozenset
    clause_start_words: frozenset
    subject_words: frozenset
    clause_joiners: frozenset
    object_prepositions: frozenset
    determiners: frozenset
    manner_words: frozenset
    story_words: frozenset

    @classmethod
    def from_yaml(cls, ctx: Dict, canonical) -> "ContextSettings":
        def words(key: str) -> frozenset:
            values = ctx.get(key, [])
            if not all(isinstance(w, str) for w in values):  # YAML reads bare no/yes/on/off as booleans
                raise ValueError(f"context.{key}: quote every word, got {values!r}")
            return frozenset(canonical(w) for w in values)

        return cls(
            window_before=int(ctx.get("window_before", 5)),
            window_after=int(ctx.get("window_after", 3)),
            historical_window=int(ctx.get("historical_window", 6)),
            hypothetical_window=int(ctx.get("hypothetical_window", 8)),
            hypothetical_max_lead=int(ctx.get("hypothetical_max_lead", 3)),
            negators=words("negators"),
            clause_end_punct=frozenset(str(w) for w in ctx.get("clause_end_punct", [])),
            clause_start_words=words("clause_start_words"),
            subject_words=words("subject_words"),
            clause_joiners=words("clause_joiners"),
            object_prepositions=words("object_prepositions"),
            determiners=words("determiners"),
            manner_words=words("manner_words"),
            story_words=words("story_words"),
        )


class MessageContext:
    """Clauses, word positions and context triggers of one message."""

    def __init__(self, doc: Doc, settings: ContextSettings, triggers: Dict[str, List[Span]]) -> None:
        self.doc = doc
        self.settings = settings
        self.norms = [t.norm_ for t in doc]
        self.clause, self.sentence = self._clauses(doc)
        # word_pos[i]: number of words (not punctuation or space) before token i
        self.word_pos: List[int] = []
        count = 0
        for t in doc:
            self.word_pos.append(count)
            if not (t.is_punct or t.is_space):
                count += 1
        self.word_pos.append(count)
        ignored = triggers.get("pseudo_negation", []) + triggers.get("interjection_no", [])
        self.triggers = {
            kind: [s for s in triggers.get(kind, []) if kind in ("pseudo_negation", "interjection_no") or not _overlaps_any(s, ignored)]
            for kind in TRIGGER_KINDS
        }
        self.triggers["other_subject_before"] = [s for s in self.triggers["other_subject_before"] if not self._object_of_preposition(s)]

    def _object_of_preposition(self, span: Span) -> bool:
        """"on the phone", "off the roof": the animal or thing is where or how, not who has the symptom
        (a story stays someone else's: "in the film the hero can't walk")."""
        start, end = span
        if any(self.norms[i] in self.settings.story_words for i in range(start, end)):
            return False
        i = start - 1
        while i >= 0 and self.norms[i] in self.settings.determiners:
            i -= 1
        return i >= 0 and self.norms[i] in self.settings.object_prepositions

    @property
    def has_cue(self) -> bool:
        """Does the message negate, date or question anything, or call something long-standing or
        due to pain? The classifier cannot read these, so bot.nlu.red_flags does not let it raise
        a red flag on its own in such a message."""
        return any(self.triggers[kind] for kind in CUE_KINDS)

    def _clauses(self, doc: Doc) -> Tuple[List[int], List[int]]:
        """Clause and sentence number of every token."""
        s = self.settings
        clause, sentence, ids, sentence_ids, pending, brackets = 0, 0, [], [], False, False
        n = len(doc)
        for i, tok in enumerate(doc):
            norm = self.norms[i]
            if pending:
                clause, sentence, pending = clause + 1, sentence + (0 if brackets else 1), False
            if norm in s.clause_start_words:
                clause += 1
            elif norm in s.clause_joiners and i > 0:
                j = i + 1
                while j < n and self.norms[j] in s.clause_joiners:
                    j += 1
                if j < n and self.norms[j] in s.subject_words:
                    clause += 1
            ids.append(clause)
            sentence_ids.append(sentence)
            if tok.text in s.clause_end_punct or norm in s.clause_end_punct or (tok.is_space and "\n" in tok.text) \
                    or (tok.is_punct and tok.text and tok.text[0] in ".!?;"):
                pending = True
                # a bracket ends a clause, not the sentence: "my dog had surgery too (IVDD) and his legs..."
                brackets = tok.text in "()"
        return ids, sentence_ids

    def words_between(self, end: int, start: int) -> int:
        return max(0, self.word_pos[start] - self.word_pos[end])

    def set_aside_negations_inside(self, spans: Iterable[Span]) -> None:
        """A "not" that belongs to a symptom ("I can't pee") reports it; it does not negate the next
        finding ("I can't pee and I hope I just die")."""
        inside = _Containment(spans)
        for kind in ("negation_before", "negation_adjacent"):
            self.triggers[kind] = [t for t in self.triggers[kind] if not inside.contains(t)]

    def negator_between(self, end: int, start: int) -> bool:
        """A negation word between two spans (tokens end..start-1): "my bladder is not a problem"."""
        return any(self.norms[i] in self.settings.negators for i in range(end, start))

    def same_clause(self, i: int, j: int) -> bool:
        return self.clause[i] == self.clause[j]

    def same_sentence(self, i: int, j: int) -> bool:
        return self.sentence[i] == self.sentence[j]

    def clause_start(self, i: int) -> int:
        k = i
        while k > 0 and self.clause[k - 1] == self.clause[i]:
            k -= 1
        return k

    # ------------------------------------------------------------------ rules
    def _before(self, kind: str, start: int, window: int) -> Optional[Span]:
        """A trigger that begins before the finding (it may run into it: "never [wet myself]")."""
        for ts, te in self.triggers[kind]:
            if ts < start and self.same_clause(ts, start) and self.words_between(min(te, start), start) <= window:
                return ts, te
        return None

    def _after(self, kind: str, end: int, window: int, same_clause: bool = True) -> Optional[Span]:
        for ts, te in self.triggers[kind]:
            near = ts >= end and self.words_between(end, ts) <= window
            if near and (self.same_clause(end - 1, ts) if same_clause else self.same_sentence(end - 1, ts)):
                return ts, te
        return None

    def judge(self, span: Span, exclusions: Iterable[Span], hypothetical_applies: bool, resolved_rules_out: bool = False) -> Optional[str]:
        """None if the finding stands; otherwise why it does not (excluded/negated/...)."""
        start, end = span
        s = self.settings
        if any(es < end and start < ee for es, ee in exclusions):
            return EXCLUDED
        inner_negation = any(self.norms[i] in s.negators for i in range(start, end))
        if not inner_negation and (
            self._before("negation_before", start, s.window_before) or self._before("negation_adjacent", start, 0)
        ):
            return NEGATED
        after = self._after("negation_after", end, s.window_after)
        manner = after and after[0] == end and all(self.norms[i] in s.manner_words for i in range(*after))
        if after and not (inner_negation and manner):
            return NEGATED
        if resolved_rules_out and self._after("resolved_after", end, s.window_after + 3, same_clause=False):
            return RESOLVED
        # a date after the finding, inside a long one ("couldn't feel her legs during labour"), or opening the sentence
        if self._before("historical_before", start, s.historical_window) or self._after("historical_after", end, s.historical_window) \
                or any(start < ts < end for ts, _ in self.triggers["historical_after"]) \
                or self._earlier_in_sentence("historical_sentence", start):
            if not any(ts >= end for ts, _ in self.triggers["recurrence"]):
                return HISTORICAL
        if self._before("other_subject_before", start, s.hypothetical_window) or self._animal_told_of(start):
            return OTHER_SUBJECT  # a pet, a pipe, a phone: "my dog's back legs are giving out"
        quoted = self._before("quoted_advice", start, s.hypothetical_window + 4)  # "told to go to the ER if ..."
        if hypothetical_applies and (quoted or self._is_hypothetical(start)):
            if not self.triggers["self_report"]:
                return HYPOTHETICAL
        return None

    def _earlier_in_sentence(self, kind: str, start: int) -> bool:
        """A date that opens a long story ("In 2016 I had my first laminectomy and afterwards ... couldn't
        pee for two days") dates everything after it in the sentence, however many clauses later."""
        for ts, te in self.triggers[kind]:
            if ts < start and self.same_sentence(ts, start):
                # "...in 2019 I had my op and now since yesterday I can't feel my legs": today again
                if not any(te <= ps < start for ps, _ in self.triggers["present_time"]):
                    return True
        return False

    def _animal_told_of(self, start: int) -> bool:
        """"My dog had back surgery and now he can't pee": an animal earlier in the sentence is what
        "he" or "she" is, unless the person speaks of themselves in between ("...and now I can't")."""
        for ts, te in self.triggers["other_subject_before"]:
            if ts < start and self.same_sentence(ts, start):
                between = set(self.norms[te:start])
                if between & FIRST_PERSON:
                    continue
                if between & THIRD_PERSON_PRONOUNS:
                    return True
        return False

    def _is_hypothetical(self, start: int) -> bool:
        s = self.settings
        if self._before("hypothetical_topic", start, s.hypothetical_window):
            return True
        trigger = self._before("hypothetical_question", start, s.hypothetical_window)
        if trigger is None:
            return False
        lead = self.words_between(self.clause_start(trigger[0]), trigger[0])
        return lead <= s.hypothetical_max_lead


class _Containment:
    """Is a span inside any of many? In O(log n): every trigger against every finding was quadratic in a
    long message ("cant pee" 2,000 times)."""

    def __init__(self, spans: Iterable[Span]) -> None:
        ordered = sorted(spans)
        self.starts = [s for s, _ in ordered]
        self.furthest_end: List[int] = []
        furthest = -1
        for _, e in ordered:
            furthest = max(furthest, e)
            self.furthest_end.append(furthest)

    def contains(self, span: Span) -> bool:
        index = bisect.bisect_right(self.starts, span[0])
        return index > 0 and self.furthest_end[index - 1] >= span[1]


def _overlaps_any(span: Span, others: Sequence[Span]) -> bool:
    return any(span[0] < oe and os_ < span[1] for os_, oe in others)
