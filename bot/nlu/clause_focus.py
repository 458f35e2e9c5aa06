"""Every clause heard: in a message that tells a story or denies something *and* asks a question
("bladder's fine and no numbness, it's the ache low in my back - any options?", "I had a UTI once,
unrelated - how do epidurals work?"), the question is what gets answered.

The intent classifier reads the whole message, and the story often wins ("Thank you for telling
me..."). This component runs after it and after the red-flag detector (which always reads the whole
message and is never overridden): it splits the message into clauses at sentence ends, dashes and
discourse cues ("also", "anyway", "separate question"), reads each clause with a small reader of
its own (TF-IDF over words and characters, a logistic model, fitted from data/nlu like the safety
net and cached the same way), and when the whole message reads as a story, a denial, small talk or
nothing sure, while one clause is a confident question about the clinic's topics, that clause's
intent becomes the message's. A question the pages answer that the classifier took for a request for
personal advice is answered too, unless it asks for a decision (bot.nlg then adds that the clinic can
say what fits the person).
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot import knowledge
from bot.nlu.fit_cache import OncePerProcess, load_or_fit
from bot.nlu.message_component import MessageComponent
from bot.nlu.safety_net import NLU_DATA, _features, _strip_entity_marks, normalise
from bot.paths import BUILD

CACHE_DIR = BUILD / "clause_reader"
SETTINGS = {"alpha": 1e-5, "epochs": 30, "char_ngrams": (2, 5), "word_ngrams": (1, 2), "version": 1}
# a question the pages answer, read as a request for personal advice ("what exercises should I do
# after my laminectomy?", "I'm 72, would PT help me?"): answered, with the clinic for what fits the
# person (bot.nlg adds it); a real decision, a dose or a candidacy stays with the clinic
PERSONAL_INTENTS = {"handoff_personal_care", "handoff_candidacy"}
DECISION = re.compile(
    r"\b(?:should (?:i|we|he|she|my)|am i|is (?:it|this|that) (?:right|best|good|ok|safe) for|which (?:one|is|treatment|would)|"
    r"candidate|right for me|for me\?|dose|dosage|\d+\s?mg|milligram|up my|increase my|stop (?:taking|my)|come off|switch)\b",
    re.IGNORECASE,
)
INFORMATIONAL = re.compile(r"\b(?:what|how|when|where|why)\b[\w\s]*$", re.IGNORECASE)  # "what exercises should I do"
EDUCATION_PREFIX = "edu_"
# a treatment and a follow-up in one message ("does RFA hurt?", "how long does a stimulator last?"): the
# follow-up is answered about the treatment it names (entity `topic` sets the slot, domain.yml)
TREATMENT_PREFIX = "edu_treatment_"
FOLLOWUP_PREFIX = "followup_"
TOPIC_ENTITY = "topic"
OWN_ANSWER_SAYS_IT = {"followup_how_it_works"}  # every treatment's answer says how it works
ALWAYS_MORE = {"followup_hurt", "followup_duration", "followup_procedure", "followup_offered_here", "followup_tried_it"}
# what a whole message may read as for a clause's question to take over
STORY_INTENTS = {"share_history", "red_flag_denied", "deny", "affirm", "thank", "greet", "frustration",
                 "nlu_fallback", "out_of_scope", "bot_capabilities", "running_late", "edu_not_in_pages"}
# what a clause may be answered as
QUESTION_PREFIXES = ("edu_", "handoff_", "followup_", "ask_risks", "request_callback")
# set by the red-flag detector or answers inside a flow: never taken over
KEEP_PREFIXES = ("red_flag_", "symptom_check", "spanish_message", "stop", "callback_", "decline_details")
CUES = r"please|also|anyway|anyways|separate question|another question|different question|quick question|unrelated|btw|by the way|my question is|question[:,]"
SPLIT = re.compile(rf"(?<=[.?!;])\s+|\s+[-–—]+\s+|\n+|,?\s+(?=(?:but|{CUES})\b)", re.IGNORECASE)
DEFINITION = re.compile(r"^\W*(?:what(?:'?s| is| are| r)|wats|whats|tell me about|explain)\b", re.IGNORECASE)
QUESTION_START = re.compile(
    r"^\W*(?:but\s+|also\s+|anyway\s+|so\s+|and\s+|ok\s+|okay\s+)?(?:what|whats|what's|wat|wats|wot|how|hows|how's|hw|why|y|whys|when|where|wheres|which|who|is|isnt|izit|are|r|can|cn|could|do|does|did|will|would|should|any|tell me|explain|please|pls|plz)\b",
    re.IGNORECASE,
)


def _take(message: Message, was: str, intent: str, probability: float) -> None:
    """The message is answered as `intent`; what the classifier read is kept for staff review."""
    ranking = [{"name": intent, "confidence": probability}] + [
        g for g in message.get(INTENT_RANKING_KEY) or [] if g.get("name") != intent
    ]
    message.set(INTENT, {"name": intent, "confidence": probability}, add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
    message.set("clause_focus", {"from": was, "to": intent}, add_to_output=True)


def clauses(text: str) -> List[str]:
    """The message's clauses, each stripped; short fragments kept (a clause of one word is still read)."""
    return [c.strip(" ,;") for c in SPLIT.split(text or "") if c and c.strip(" ,;")]


def is_question(clause: str) -> bool:
    return clause.rstrip().endswith("?") or bool(QUESTION_START.match(clause))


@lru_cache(maxsize=1)
def _treatment_words() -> Tuple["re.Pattern", Dict[str, str]]:
    topic_of = {w.lower(): intent for intent, t in knowledge.cached().topics.items() for w in t.words}
    words = sorted(topic_of, key=len, reverse=True)
    pattern = re.compile(r"\b(?:the |a |an |my |this |that )?(%s)\b" % "|".join(re.escape(w) for w in words), re.IGNORECASE)
    return pattern, topic_of


def treatments_named(text: str) -> set:
    pattern, topic_of = _treatment_words()
    return {topic_of[m.group(1).lower()] for m in pattern.finditer(text)}


def without_treatment_words(text: str) -> str:
    """'does RFA hurt?' -> 'does it hurt?': what is asked about the treatment, read on its own."""
    return _treatment_words()[0].sub("it", text)


def read_intent_examples(files: Sequence[Path]) -> List[Tuple[str, str]]:
    import yaml

    pairs: List[Tuple[str, str]] = []
    for path in sorted(files):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            intent = block.get("intent")
            for line in (block.get("examples") or "").splitlines() if intent else []:
                line = line.strip()
                if line.startswith("- ") and not line[2:].startswith("/"):
                    pairs.append((_strip_entity_marks(line[2:].strip()), intent))
    return pairs


class ClauseReader(OncePerProcess):
    """Intent probabilities for one clause (one multinomial logistic regression over all intents)."""

    def __init__(self, examples: Sequence[Tuple[str, str]], settings: Dict = SETTINGS) -> None:
        from sklearn.linear_model import SGDClassifier

        texts = [normalise(t) for t, _ in examples]
        self.features = _features(settings).fit(texts)
        # logistic loss by stochastic gradient: seconds for ~80 intents where lbfgs takes half a minute
        # (a fixed seed and epoch count: the same data gives the same reader)
        model = SGDClassifier(loss="log_loss", alpha=settings["alpha"], max_iter=settings["epochs"], tol=None, random_state=0)
        self.model = model.fit(self.features.transform(texts), [i for _, i in examples])

    def best(self, text: str, prefix: str = "") -> Tuple[str, float]:
        """The likeliest intent (among those whose name starts with `prefix`) and its probability."""
        probabilities = self.model.predict_proba(self.features.transform([normalise(text)]))[0]
        allowed = [i for i, name in enumerate(self.model.classes_) if str(name).startswith(prefix)]
        index = max(allowed, key=lambda i: probabilities[i])
        return str(self.model.classes_[index]), float(probabilities[index])

    @classmethod
    def fitted(cls, files: Optional[Sequence[Path]] = None, cache_dir: Path = CACHE_DIR) -> "ClauseReader":
        files = list(files if files is not None else sorted(NLU_DATA.glob("*.yml")))
        return load_or_fit(cls, files, SETTINGS, Path(__file__), cache_dir, lambda: cls(read_intent_examples(files)))

    @classmethod
    def _build(cls) -> "ClauseReader":
        return cls.fitted()


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class ClauseFocus(MessageComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # a clause's question takes over when its reader is this sure of an answerable intent...
            "clause_threshold": 0.4,
            # ...and the whole message was read as a story/denial/small talk, or as anything this unsure
            "whole_unsure_below": 0.5,
            # a personally worded question is answered when the reader is this sure of a topic
            "personal_threshold": 0.2,
            # a follow-up names its treatment when the reader is this sure of one...
            "topic_threshold": 0.3,
            # ...and a treatment question is a follow-up when the reader is this sure of the aspect
            "follow_up_threshold": 0.5,
        }

    def __init__(self, config: Dict[Text, Any], reader: Optional[ClauseReader] = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self.reader = reader or ClauseReader.shared()

    def _process(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        whole = message.get(INTENT) or {}
        name, confidence = str(whole.get("name") or ""), float(whole.get("confidence") or 0.0)
        if text.startswith("/") or message.get("red_flags"):
            return
        if name.startswith((TREATMENT_PREFIX, FOLLOWUP_PREFIX)):
            self._treatment_and_follow_up(message, name, text)
            return
        if name in PERSONAL_INTENTS:
            best = self._answerable(text)
        elif name in STORY_INTENTS or not (name.startswith(KEEP_PREFIXES) or confidence >= self.config["whole_unsure_below"]):
            best = self._question_in(text)
        else:
            return
        if best is None or best[0] == name:
            return
        _take(message, name, *best)

    def _treatment_and_follow_up(self, message: Message, name: str, text: str) -> None:
        """A follow-up that names its treatment is answered about it; a treatment question that is
        really a follow-up ("does RFA hurt?" read as RFA) becomes that follow-up."""
        if name.startswith(FOLLOWUP_PREFIX):
            named = treatments_named(text)
            topic, sure = (next(iter(named)), 1.0) if len(named) == 1 else self.reader.best(text, TREATMENT_PREFIX)
            if sure < self.config["topic_threshold"]:
                return
            if named and not self._follow_up_says_more(name, topic):
                _take(message, name, topic, sure)  # "how does a nerve block work?": its own answer says it
            else:
                self._add_topic(message, topic)
            return
        if len(treatments_named(text)) > 1 or any(DEFINITION.match(c) for c in clauses(text)):
            return  # "is an epidural the same as a nerve block?" compares; "what is RFA? does it hurt?" asks what it is first
        masked = without_treatment_words(text)
        if not is_question(masked):  # "rfa for back pain" wants the answer about RFA
            return
        follow_up, sure = self.reader.best(masked, FOLLOWUP_PREFIX)
        if sure >= self.config["follow_up_threshold"] and self._follow_up_says_more(follow_up, name):
            _take(message, name, follow_up, sure)
            self._add_topic(message, name)

    @staticmethod
    def _follow_up_says_more(follow_up: str, topic: str) -> bool:
        """Whether the follow-up's reply tells more than the treatment's own answer: how it feels, how long
        it lasts, whether it is surgery and where to get it never are in it; how it works always is;
        whether it works and whom it is for are, unless the pages say more about this treatment (a
        variant of its own)."""
        if follow_up in ALWAYS_MORE:
            return True
        if follow_up in OWN_ANSWER_SAYS_IT:
            return False
        return topic in (knowledge.cached().followups or {}).get(f"utter_{follow_up}", {})

    @staticmethod
    def _add_topic(message: Message, topic: str) -> None:
        entities = [e for e in message.get(ENTITIES) or [] if e.get("entity") != TOPIC_ENTITY]
        entities.append({"entity": TOPIC_ENTITY, "value": topic, "start": 0, "end": len(message.get(TEXT) or ""),
                         "extractor": "ClauseFocus"})
        message.set(ENTITIES, entities, add_to_output=True)

    def _question_in(self, text: str) -> Optional[Tuple[str, float]]:
        """The surest answerable question among the clauses (a message of one clause counts when it is a
        question the classifier took for a story: "y do ppl get a laminectomy in the first place")."""
        best: Optional[Tuple[str, float]] = None
        for part in clauses(text):
            if not is_question(part):
                continue
            intent, probability = self.reader.best(part)
            if intent.startswith(QUESTION_PREFIXES) and probability >= self.config["clause_threshold"]:
                if best is None or probability > best[1]:
                    best = (intent, probability)
        return best

    def _answerable(self, text: str) -> Optional[Tuple[str, float]]:
        """An education answer for a personally worded question that decides nothing."""
        if any(not INFORMATIONAL.search(text[max(0, m.start() - 20):m.start()]) for m in DECISION.finditer(text)):
            return None
        intent, probability = self.reader.best(text, EDUCATION_PREFIX)
        if probability >= self.config["personal_threshold"]:
            return intent, probability
        return None
