"""Every clause heard: in a message that tells a story or denies something *and* asks a question
("bladder's fine and no numbness, it's the ache low in my back - any options?", "I had a UTI once,
unrelated - how do epidurals work?"), the question is what gets answered; a second question is answered
too.

The intent classifier reads the whole message, and the story often wins ("Thank you for telling
me..."). This component runs after it and after the red-flag detector (which always reads the whole
message and is never overridden): it splits the message into clauses at sentence ends, dashes, "and"
before a question word and discourse cues ("also", "anyway", "separate question"), reads each clause
with a small reader of its own (TF-IDF over words and characters, a logistic model, fitted from
data/nlu like the safety net and cached the same way), and:
- when the whole message reads as a story, a denial, small talk or nothing sure, or its answer came
  from the story rather than from any question clause, the surest question clause's intent becomes the
  message's;
- a second question asking something else is kept in `also_asked` (bot.nlg answers it after the
  first), in the order asked; "X vs Y" keeps the second treatment;
- a question the pages answer that the classifier took for a request for personal advice is answered,
  unless it asks for a decision (`decision_asked`: bot.nlg then adds that the clinic decides);
- a follow-up that names no treatment keeps the classifier's next reading in `read_instead`, for when
  the conversation has no treatment yet (actions/read_again.py);
- a question about a service the pages are silent on (a waiting list, telehealth) is edu_not_in_pages.
"""
from __future__ import annotations

import difflib
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

import yaml
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot import knowledge, source_search
from bot.nlu.fit_cache import OncePerProcess, load_or_fit
from bot.nlu.message_component import MessageComponent
from bot.nlu.red_flags import ASKED_ABOUT, FOLLOWUP_PREFIX, NOT_READ_INSTEAD, TERM_QUESTION_INTENT, read_instead
from bot.nlu.safety_net import NLU_DATA, _features, _strip_entity_marks, normalise
from bot.paths import BUILD, ROOT
from bot.phone import parse_us_phone

CACHE_DIR = BUILD / "clause_reader"
ASPECT_CUES_FILE = ROOT / "data" / "knowledge" / "aspect_cues.yml"
RECENT_READINGS = 64  # clause readings kept per process (a message reads each of its clauses several times)
SETTINGS = {"alpha": 1e-5, "epochs": 30, "char_ngrams": (2, 5), "word_ngrams": (1, 2), "version": 1}
# a question the pages answer, read as a request for personal advice ("what exercises should I do
# after my laminectomy?", "I'm 72, would PT help me?"): answered, with the clinic for what fits the
# person (bot.nlg adds it); a real decision, a dose or a candidacy stays with the clinic
PERSONAL_INTENTS = {"handoff_personal_care", "handoff_candidacy"}
DECISION = re.compile(
    r"\b(?:should (?:i|we|he|she|my)|am i|is (?:it|this|that) (?:right|best|good|ok|safe) for|which (?:one|is|treatment|would)|"
    r"candidate|right for me|for me\?|dose|dosage|\d+\s?mg|milligram|up my|increase my|stop (?:taking|my)|come off|switch|"
    r"how (?:much|many) \w+ (?:can|should|could) (?:i|he|she|we) (?:take|have)|(?:should|can) (?:i|he|she) (?:be )?(?:take|taking) \w+ (?:and|with)|"
    r"(?:would|will) (?:i|he|she) be better off with)\b",
    re.IGNORECASE,
)
INFORMATIONAL = re.compile(r"\b(?:what|how|when|where|why)\b[\w\s]*$", re.IGNORECASE)  # "what exercises should I do"
# set on a message that asks for a decision about the person ("should I come off them?", "is SCS my next
# step?"): bot.nlg ends any answer to it with the clinic for what fits the person
DECISION_ASKED = "decision_asked"
NEXT_STEP = re.compile(r"\b(?:my|the|our|his|her) next (?:step|move|option)\b|\bgood idea\b|\bworth (?:it|trying) for\b|\bshould (?:the|my|his|her) dose\b", re.IGNORECASE)
EDUCATION_PREFIX = "edu_"
NOT_IN_PAGES_INTENT = "edu_not_in_pages"
CALLBACK_INTENT = "request_callback"
PERSONAL_CARE_INTENT = "handoff_personal_care"
ASKS_OUR_NUMBER = re.compile(r"\b(?:your|ur|the clinic'?s|the office'?s) (?:phone|number|no\.?)\b|\bwhat(?:'s| is) the number\b", re.IGNORECASE)
UNSURE_INTENTS = {"nlu_fallback", "out_of_scope"}
# a treatment and a follow-up in one message ("does RFA hurt?", "how long does a stimulator last?"): the
# follow-up is answered about the treatment it names (entity `topic` sets the slot, domain.yml)
TREATMENT_PREFIX = "edu_treatment_"
TOPIC_ENTITY = "topic"
OWN_ANSWER_SAYS_IT = {"followup_how_it_works"}  # every treatment's answer says how it works
ALWAYS_MORE = {"followup_hurt", "followup_duration", "followup_procedure", "followup_offered_here", "followup_tried_it"}
# what a whole message may read as for a clause's question to take over
STORY_INTENTS = {"share_history", "red_flag_denied", "red_flag_retracted", "deny", "affirm", "thank", "greet", "frustration",
                 "nlu_fallback", "out_of_scope", "bot_capabilities", "running_late", "edu_not_in_pages"}
# what a clause may be answered as
QUESTION_PREFIXES = ("edu_", "handoff_", "followup_", "ask_risks", "request_callback")
# "do u do epidurals?": whether the clinic offers the treatment named
OFFERED_INTENT = "followup_offered_here"
# "Months of physio did nothing for me. Any other options?": the other options
ALTERNATIVES_INTENT = "followup_alternatives"
TRIED_IT = re.compile(
    r"\b(?:tried|did|done|had|have had|went through|was on|been on|used)\b[^?]*?\b(?:didn'?t|did not|no difference|"
    r"not work|nothing|useless|failed|hated|only (?:a few|lasted|helped)|wore off|no relief|no luck|made it worse|not for me)\b"
    r"|\b(?:was|were|is|are) (?:useless|no good|a waste)\b|\b(?:didn'?t|did not|doesn'?t|does not) (?:help|work)\b|\bmade no difference\b",
    re.IGNORECASE)
# "alright, which hospital do I go to?" after the emergency reply: where to go (data/rules/red_flags.yml)
NEAREST = re.compile(r"\b(?:nearest|closest) (?:one|er|e\.r\.|a&e|hospital|emergency(?: room)?)\b|\bwhere(?:'s| is| do i go| should i go)\b[^?.]*\b(?:nearest|closest|er|hospital)\b", re.IGNORECASE)
LOCATION_INTENT = "handoff_location"
ELSE_ASKED = re.compile(r"\b(?:what else|anything else|other options?|other treatments?|what(?:'s| is)? next|what now|alternatives?)\b", re.IGNORECASE)
OFFERED = re.compile(
    r"^(?!\W*(?:how|what|why|when)\b).*(?:\b(?:do|does|can|could) (?:you|u|ya|y'all|you guys|the clinic|your clinic|your office|your practice) "
    r"(?:do|offer|provide|perform|give|carry out|put in|fit|implant)\b|\b(?:get|have)\b[^.?!]{0,30}\b(?:here|there|at your (?:clinic|office|practice)|with you|at the clinic)\b)",
    re.IGNORECASE,
)
# what a second question in the same message may be answered as too (bot.nlg appends its answer)
ALSO_PREFIXES = ("edu_", FOLLOWUP_PREFIX, "handoff_")
ALSO_ASKED = "also_asked"
UNMENTIONED = "unmentioned"  # specific things asked about that the pages never name (bot.source_search)
WHICH_KIND = re.compile(r"\b(?:which|what) (?:make|brand|model|type|kind)\b", re.IGNORECASE)
MAX_ALSO = 2  # answers after the first: more would bury the first
# set by the red-flag detector or answers inside a flow: never taken over
# "ok", "I'd rather wait": answers to a red-flag reply; a message with a phone number in it (and no red flag:
# _process stops at one) asks for a call whatever the classifier heard in "I'd like a call: Ann, 419-..."
READINGS_OF_A_REPLY = {"red_flag_accepted", "red_flag_pushback"}
KEEP_PREFIXES = ("red_flag_", "symptom_check", "spanish_message", "stop", "callback_", "decline_details")
CUES = r"please|also|anyway|anyways|separate question|another question|different question|quick question|unrelated|btw|by the way|my question is|question[:,]"
# "what is RFA and where are you?": a second question joined by "and" is a clause of its own
ASKING = r"what|whats|what's|how|hows|how's|where|wheres|when|which|who|why|do|does|is|are|can|could|will|would|should"
SPLIT = re.compile(rf"(?<=[.?!;])\s+|(?<=:)\s+(?=(?:{ASKING})\b)|\s+[-–—]+\s+|\n+|,?\s+(?=(?:but|{CUES})\b)|,?\s+(?:and|&|n|plus)\s+(?=(?:{ASKING})\b)", re.IGNORECASE)
DEFINITION = re.compile(r"^\W*(?:what(?:'?s| is| are| r)|wats|whats|tell me about|explain)\b", re.IGNORECASE)
QUESTION_START = re.compile(
    r"^\W*(?:but\s+|also\s+|anyway\s+|so\s+|and\s+|ok\s+|okay\s+)?(?:what|whats|what's|wat|wats|wot|wots|wot's|wht|how|hows|how's|hw|why|y|whys|when|where|wheres|which|who|is|isnt|izit|are|r|can|cn|could|do|does|did|will|would|should|any|tell me|explain|please|pls|plz)\b",
    re.IGNORECASE,
)


# what opens a clause without being its question ("separate question, whats your number", "btw is there
# parking", "two things: what causes it")
LEAD = re.compile(
    r"^\W*(?:(?:oh\s+)?and\s+|also\b|btw\b|by the way\b|anyway\b|plus\b|(?:one|a) more thing\b|two things\b|"
    r"(?:a\s+)?(?:separate|second|another|different|quick|other|last|next)\s+(?:question|thing|q)\b|my question is\b|question\b)[\s,:;.-]*",
    re.IGNORECASE,
)
# "nerve blocks - what are they?", "epidural fibrosis - what's that?": the question's "it" is the fragment before
POINTS_BACK = re.compile(r"\b(?:it|its|it's|they|them|that|those|this|these|one)\b", re.IGNORECASE)
FRAGMENT_WORDS = 4
CONTEXT_WORDS = 8  # "is that normal?", "is that part of it?": read with what came before
MORE_INTENT = "tell_me_more"
SHORT_TREATMENT_QUESTION = 8  # words: "adhesiolisys??", "the stimualtor, explain"
COMPARES = re.compile(r"\b(?:same as|same thing as|different from|diff?e?re?nce? between|diff between|differ from|vs\.?|versus|compared (?:to|with)|better than|or (?:an?|the))\b", re.IGNORECASE)
# short closing words the classifier finds too close to call ("no thats all": goodbye or no?): either reply fits
CLOSERS = {"deny", "goodbye", "thank"}
FIRST_PERSON = re.compile(r"\b(?:i|i'm|im|i've|me|my|mine|we|us|our)\b", re.IGNORECASE)


def _take(message: Message, was: str, intent: str, probability: float) -> None:
    """The message is answered as `intent`; what the classifier read is kept for staff review."""
    ranking = [{"name": intent, "confidence": probability}] + [
        g for g in message.get(INTENT_RANKING_KEY) or [] if g.get("name") != intent
    ]
    message.set(INTENT, {"name": intent, "confidence": probability}, add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
    message.set("clause_focus", {"from": was, "to": intent}, add_to_output=True)


def asks_a_decision(text: str) -> bool:
    """"Should I come off them?", "is SCS my next step?", "another surgery is good idea or no?": a choice
    for the person's own care (not "what exercises should I do", which the pages answer)."""
    if NEXT_STEP.search(text or ""):
        return True
    return any(not INFORMATIONAL.search(text[max(0, m.start() - 20):m.start()]) for m in DECISION.finditer(text or ""))


def clauses(text: str) -> List[str]:
    """The message's clauses, each stripped; short fragments kept (a clause of one word is still read),
    except a few words naming what the next clause asks about, which are read with it."""
    parts = [c.strip(" ,;") for c in SPLIT.split(text or "") if c and c.strip(" ,;")]
    merged: List[str] = []
    for part in parts:
        if merged and is_question(part) and not is_question(merged[-1]) and len(merged[-1].split()) <= FRAGMENT_WORDS \
                and POINTS_BACK.search(part):
            merged[-1] = f"{merged[-1]} - {part}"
        else:
            merged.append(part)
    return merged


def asked_parts(text: str) -> List[str]:
    """The clauses that ask (all of the message when none looks like a question): "I had a fusion in
    2020. Is gabapentin used for this?" asks about gabapentin, not about the fusion."""
    parts = clauses(text)
    return [p for p in parts if is_question(p)] or parts


CONTEXT_JOIN = " - "  # a question read with the clause before it


def asked_in_context(text: str) -> List[str]:
    """The question clauses, each read with the clause before it when it points back to it ("my back is
    stiff as a board when I get up. Is that part of the syndrome?")."""
    parts = clauses(text)
    out = []
    for i, part in enumerate(parts):
        if not is_question(part):
            continue
        if i and not is_question(parts[i - 1]) and POINTS_BACK.search(part) and len(part.split()) <= CONTEXT_WORDS:
            part = f"{parts[i - 1]}{CONTEXT_JOIN}{part}"
        out.append(part)
    return out


def unprefixed(clause: str) -> str:
    """The clause without what opens it ("also, could someone call me" -> "could someone call me")."""
    while True:
        shorter = LEAD.sub("", clause, count=1)
        if shorter == clause or not shorter:
            return clause
        clause = shorter


def is_question(clause: str) -> bool:
    """Worded as a question; a lone "please" or "thanks" after a request is not one."""
    if clause.rstrip().endswith("?"):
        return True
    asked = unprefixed(clause)
    return len(asked.split()) >= 2 and bool(QUESTION_START.match(asked))


@lru_cache(maxsize=1)
def _aspect_cues() -> List[Tuple[str, "re.Pattern[str]"]]:
    raw = yaml.safe_load(ASPECT_CUES_FILE.read_text(encoding="utf-8")) or {}
    return [(intent, re.compile(r"\b(?:%s)(?!\w)" % "|".join(cues), re.IGNORECASE)) for intent, cues in raw.items()]


def aspect_asked(question: str) -> str:
    """The follow-up a question about a named treatment asks by its words (data/knowledge/aspect_cues.yml), or ""."""
    return next((intent for intent, cue in _aspect_cues() if cue.search(question)), "")


@lru_cache(maxsize=1)
def _treatment_words() -> Tuple["re.Pattern", Dict[str, str]]:
    topic_of = {w.lower(): intent for intent, t in knowledge.cached().topics.items() for w in t.words}
    words = sorted(topic_of, key=len, reverse=True)
    pattern = re.compile(r"\b(?:the |a |an |my |this |that )?(%s)\b" % "|".join(re.escape(w) for w in words), re.IGNORECASE)
    return pattern, topic_of


def treatments_named(text: str) -> set:
    return set(treatments_in_order(text))


FUZZY_MIN_CHARS = 6  # shorter words ("pt", "block", "pump") have too many one-letter neighbours
FUZZY_CUTOFF = 0.86  # "stimualtor", "intrathecle", "adhesiolisys": one or two letters off


@lru_cache(maxsize=1)
def _long_treatment_words() -> Dict[int, Dict[str, str]]:
    """Treatment words of at least FUZZY_MIN_CHARS letters, by number of words, for typo-tolerant naming."""
    by_length: Dict[int, Dict[str, str]] = {}
    for word, intent in _treatment_words()[1].items():
        if len(word) >= FUZZY_MIN_CHARS:
            by_length.setdefault(len(word.split()), {})[word] = intent
    return by_length


@lru_cache(maxsize=256)  # the clause focus asks about the same message and its clauses many times per turn
def _misspelt_treatments(text: str) -> Tuple[Tuple[int, str], ...]:
    """(position, intent) of treatment names written a letter or two off ("whats an intrathecle pump", "stimualtor or
    pump"): people type on phones; the exact names are found first and these only where they are not."""
    spans = [(m.start(), m.group()) for m in re.finditer(r"[a-z]+", text.lower())]
    found: List[Tuple[int, str]] = []
    for size, names in _long_treatment_words().items():
        for i in range(len(spans) - size + 1):
            gram = " ".join(w for _, w in spans[i:i + size])
            if len(gram) < FUZZY_MIN_CHARS or gram in names:
                continue
            close = difflib.get_close_matches(gram, list(names), n=1, cutoff=FUZZY_CUTOFF)
            if close:
                found.append((spans[i][0], names[close[0]]))
    return tuple(sorted(found))


def treatments_in_order(text: str) -> List[str]:
    """The treatments a message names (their intents), each once, in the order named; names a letter or
    two off count too."""
    pattern, topic_of = _treatment_words()
    named = [(m.start(1), topic_of[m.group(1).lower()]) for m in pattern.finditer(text)] + list(_misspelt_treatments(text))
    found: List[str] = []
    for _, intent in sorted(named):
        if intent not in found:
            found.append(intent)
    return found


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

    def _probabilities(self, text: str):
        """The reader's probabilities for one clause; a message's clauses are read several times over
        (which question, a second one, in what order), so the last few readings are kept."""
        key = normalise(text)
        cache = self.__dict__.setdefault("_recent", {})
        if key not in cache:
            if len(cache) >= RECENT_READINGS:
                cache.pop(next(iter(cache)))
            cache[key] = self.model.predict_proba(self.features.transform([key]))[0]
        return cache[key]

    def probability(self, text: str, intent: str) -> float:
        """How sure the reader is that `text` asks `intent` (0 for an intent it does not know)."""
        classes = list(self.model.classes_)
        if intent not in classes:
            return 0.0
        return float(self._probabilities(text)[classes.index(intent)])

    def best(self, text: str, prefix: str = "") -> Tuple[str, float]:
        """The likeliest intent (among those whose name starts with `prefix`) and its probability."""
        probabilities = self._probabilities(text)
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
            "clause_threshold": 0.3,
            # ...and the whole message was read as a story/denial/small talk, or as anything this unsure
            "whole_unsure_below": 0.5,
            # a personally worded question is answered when the reader is this sure of a topic
            "personal_threshold": 0.2,
            # a follow-up names its treatment when the reader is this sure of one...
            "topic_threshold": 0.3,
            # ...and a treatment question is a follow-up when the reader is this sure of the aspect
            "follow_up_threshold": 0.5,
            # in a story plus a question, the whole message's answer gives way to the question's when
            # the question clause supports it less than this ("I had 2 surgeries in 2019, does PT help?"
            # read as another surgery)...
            "story_support_below": 0.1,
            # ...and a second question is answered too when the reader is this sure of it
            "also_threshold": 0.35,
            # a follow-up with no treatment discussed is read as the classifier's next guess this sure
            "instead_threshold": 0.1,
            # with no clause worded as a question, the last clause is the question when this sure
            "last_clause_threshold": 0.5,
            # two closing words too close to call ("no that's all": no, or goodbye) give the likelier this sure
            "closer_threshold": 0.25,
            # a question the pages don't answer gives way to a clinic question ("...where are you?") this sure
            "clinic_over_silent_threshold": 0.6,
        }

    def __init__(self, config: Dict[Text, Any], reader: Optional[ClauseReader] = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self.reader = reader or ClauseReader.shared()

    def _process(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        if text.startswith("/") or message.get("red_flags") or message.get("language") == "es" or \
                (message.get(ASKED_ABOUT) and (message.get(INTENT) or {}).get("name") == TERM_QUESTION_INTENT):
            return  # Spanish is read by bot.nlu.red_flags (the topics it names), not by this English reader
        if self._leaves_a_number(message, text):
            return
        self._focus(message, text)
        name = str((message.get(INTENT) or {}).get("name") or "")
        asked = asked_parts(text)
        terms = source_search.unmentioned(" ".join(asked))
        if terms:  # "is gabapentin used for this?": bot.nlg says first that the pages never name it
            message.set(UNMENTIONED, terms, add_to_output=True)
        if len(asked) == 1 and (name.startswith((EDUCATION_PREFIX, FOLLOWUP_PREFIX)) or name in UNSURE_INTENTS) \
                and source_search.unmentioned(asked[0], source_search.SERVICE_GROUP):
            # "is there a long waiting list?", "can I do telehealth?": the pages don't say, the clinic does
            _take(message, name, NOT_IN_PAGES_INTENT, 1.0)
        elif terms and (name.startswith((EDUCATION_PREFIX, FOLLOWUP_PREFIX)) or name in PERSONAL_INTENTS) \
                and not treatments_named(text) and not source_search.unmentioned(" ".join(asked), source_search.MEDICINES_GROUP):
            # "would a massage help this?", "is a glass of wine bad for nerve pain?": nothing the pages say is about
            # it, and a paragraph on another topic would only mislead (a medicine keeps the medicines answer)
            _take(message, name, NOT_IN_PAGES_INTENT, 1.0)
        if asks_a_decision(text):
            message.set(DECISION_ASKED, True, add_to_output=True)
        name = str((message.get(INTENT) or {}).get("name") or "")
        also = self._also_asked(text, name) if name.startswith(QUESTION_PREFIXES) else []
        if name.startswith(TREATMENT_PREFIX):
            # "nerve block vs epidural, what's the difference?": both answers, side by side (and a
            # follow-up asked after them: "...and which lasts longer?")
            also = ([t for t in treatments_in_order(text) if t != name][:1] + also)[:MAX_ALSO]
        also = self._in_order_asked(message, text, name, also)
        if also:
            message.set(ALSO_ASKED, also, add_to_output=True)

    @staticmethod
    def _leaves_a_number(message: Message, text: str) -> bool:
        """"Sam Patel, 419-555-0121, after 5 please", "yes have them ring me, Priya, 419-555-0150": a
        message that gives a phone number asks to be called, whatever the classifier read (the callback
        form then keeps the name, number and time given: actions/callback.py)."""
        name = str((message.get(INTENT) or {}).get("name") or "")
        if (name.startswith(KEEP_PREFIXES) and name not in READINGS_OF_A_REPLY) or name == CALLBACK_INTENT or not parse_us_phone(text).ok:
            return False
        if ASKS_OUR_NUMBER.search(text):  # "what's your number? mine is 419-...": both, the clinic's first
            return False
        _take(message, name, CALLBACK_INTENT, 1.0)
        return True

    def _focus(self, message: Message, text: str) -> None:
        """Which of the message's questions the reply answers first."""
        whole = message.get(INTENT) or {}
        name, confidence = str(whole.get("name") or ""), float(whole.get("confidence") or 0.0)
        if NEAREST.search(text) and name not in ("red_flag_emergency", "red_flag_crisis", "red_flag_urgent") \
                and not name.startswith("red_flag_unsure"):
            _take(message, name, LOCATION_INTENT, 1.0)
            return
        if ELSE_ASKED.search(text) and TRIED_IT.search(text) and not name.startswith(("handoff_", "red_flag_")):
            _take(message, name, ALTERNATIVES_INTENT, 1.0)  # tried one, asks for the rest: not its paragraph again
            return
        named = treatments_in_order(text)
        if COMPARES.search(text) and len(named) >= 2 and not name.startswith(KEEP_PREFIXES) and name != CALLBACK_INTENT \
                and not (name in PERSONAL_INTENTS and FIRST_PERSON.search(text)):
            # "difference between an epidural and RFA?": both answers, in the order named (_process adds the second)
            _take(message, name, named[0], 1.0)
            return
        if (name in UNSURE_INTENTS or name == MORE_INTENT) and len(named) == 1 and len(text.split()) <= SHORT_TREATMENT_QUESTION:
            _take(message, name, named[0], 1.0)  # "adhesiolisys??": a short message naming one treatment asks about it
            return
        if name == "nlu_fallback":
            guesses = [g for g in message.get(INTENT_RANKING_KEY) or [] if g.get("name") != name][:2]
            if len(guesses) == 2 and {g["name"] for g in guesses} <= CLOSERS and guesses[0]["confidence"] >= self.config["closer_threshold"]:
                _take(message, name, guesses[0]["name"], float(guesses[0]["confidence"]))  # "no thats all"
                return
        if name.startswith(FOLLOWUP_PREFIX) and not treatments_named(text):
            # answered about the treatment discussed, if any; with none, read as what else it asks
            read_instead(message, self.config["instead_threshold"], (FOLLOWUP_PREFIX, *NOT_READ_INSTEAD))
        if name.startswith((TREATMENT_PREFIX, FOLLOWUP_PREFIX)):
            if self._story_steered(text, name):
                best = self._question_in(text)
                if best is not None and best[0] != name:
                    _take(message, name, *best)
                    name = best[0]
            self._treatment_and_follow_up(message, name, text)
            return
        if name in UNSURE_INTENTS and asks_a_decision(text):
            _take(message, name, PERSONAL_CARE_INTENT, 1.0)  # "how much ibuprofen can I take a day?": the clinic's to say
            return
        if name in PERSONAL_INTENTS and len(treatments_named(text)) > 1 and not FIRST_PERSON.search(text):
            best = (treatments_in_order(text)[0], 1.0)  # "stimulator vs pump - which is which?": both, in order
        elif name in PERSONAL_INTENTS:
            best = self._answerable(text)
        elif name in STORY_INTENTS or not (name.startswith(KEEP_PREFIXES) or confidence >= self.config["whole_unsure_below"]):
            best = self._question_in(text)
            if name == NOT_IN_PAGES_INTENT and best and not best[0].startswith((EDUCATION_PREFIX, FOLLOWUP_PREFIX)) \
                    and best[1] < self.config["clinic_over_silent_threshold"]:
                best = None  # "which battery do you fit and how often do I charge it?" stays a question the pages don't answer
        elif name.startswith(QUESTION_PREFIXES) and self._story_steered(text, name):
            best = self._question_in(text)
        else:
            return
        if best is None or best[0] == name:
            return
        _take(message, name, *best)
        if best[0].startswith(TREATMENT_PREFIX):  # "what is the chance SCS works for me?": the aspect asked
            self._treatment_and_follow_up(message, best[0], text)

    def _story_steered(self, text: str, name: str) -> bool:
        """A message of a story and a question whose answer was read from the story ("I had 2
        surgeries in 2019 - does PT help?" read as another surgery): none of its question clauses
        asks what the whole message was read as."""
        parts = clauses(text)
        questions = [p for p in parts if is_question(p)]
        if not questions or len(questions) == len(parts):
            return False
        support = max(self.reader.probability(p, name) for p in questions)
        return support < self.config["story_support_below"]

    def _also_asked(self, text: str, answered: str) -> List[str]:
        """A second question in the message, asking something other than what the reply answers
        ("what is RFA and where are you?"): its intent, for bot.nlg to answer it too."""
        questions = asked_in_context(text)
        if len(questions) < 2:
            return []
        readings = [self._clause_answer(p, text) for p in questions]
        if not any(intent == answered for intent, _ in readings):
            # the reply's answer is not any one clause's: the first clause is taken to be it
            readings = readings[1:]
        found: List[str] = []
        for intent, probability in readings:
            if intent not in (answered, *found) and intent.startswith(ALSO_PREFIXES) and probability >= self.config["also_threshold"]:
                found.append(intent)
        return found[:MAX_ALSO]

    def _in_order_asked(self, message: Message, text: str, answered: str, also: List[str]) -> List[str]:
        """"what is RFA and where are you?" read as the location: RFA is answered first, then where."""
        if not also or not answered.startswith("handoff_"):
            return also
        first = next((p for p in clauses(text) if is_question(p)), "")
        intent, probability = self._clause_answer(first) if first else ("", 0.0)
        if also and intent == also[0] and intent.startswith(EDUCATION_PREFIX) and answered.startswith("handoff_"):
            _take(message, answered, intent, probability)
            return [answered]
        return also

    def _clause_answer(self, clause: str, whole: str = "") -> Tuple[str, float]:
        """What one clause asks: "how does a stimulator work?" is the stimulator's answer; so is "how
        does that device work?" or "what is that?" in a message that names the stimulator elsewhere."""
        intent, probability = self.reader.best(unprefixed(clause))
        if OFFERED.search(clause) and not WHICH_KIND.search(clause):  # "...and do you fit them at your clinic?"
            return OFFERED_INTENT, max(probability, self.config["also_threshold"])
        if COMPARES.search(clause) and len(treatments_named(clause)) == 1:
            return next(iter(treatments_named(clause))), max(probability, self.config["also_threshold"])  # "is it the same as an epidural?"
        in_clause = treatments_named(clause)
        if in_clause == {intent}:  # "can physio do anything?": the treatment it names is what it asks about, however unsure the reader
            return intent, max(probability, self.config["clause_threshold"])
        named = in_clause or (treatments_named(whole) if POINTS_BACK.search(clause) else set())
        if len(named) == 1 and DEFINITION.match(unprefixed(clause)) and not treatments_named(clause):
            return next(iter(named)), max(probability, self.config["also_threshold"])
        if intent.startswith(FOLLOWUP_PREFIX) and len(named) == 1:
            topic = next(iter(named))
            if not self._follow_up_says_more(intent, topic):
                return topic, max(probability, self.config["also_threshold"])
        return intent, probability

    def _treatment_and_follow_up(self, message: Message, name: str, text: str) -> None:
        """A follow-up that names its treatment is answered about it; a treatment question that is
        really a follow-up ("does RFA hurt?" read as RFA) becomes that follow-up."""
        if name.startswith(FOLLOWUP_PREFIX):
            named = treatments_named(text)
            cue = aspect_asked(without_treatment_words(text))
            if cue and cue != name:  # "are you knocked out for RFA?" asks how it feels, not if it is surgery
                _take(message, name, cue, 1.0)
                name = cue
            topic, sure = (next(iter(named)), 1.0) if len(named) == 1 else self.reader.best(text, TREATMENT_PREFIX)
            if sure < self.config["topic_threshold"]:
                return
            if named and not cue and not self._follow_up_says_more(name, topic):
                _take(message, name, topic, sure)  # "how does a nerve block work?": its own answer says it
            elif len(named) == 1 and any(DEFINITION.match(c) and treatments_named(c) and not aspect_asked(without_treatment_words(c))
                                         for c in clauses(text)):
                # "tell me about the pump, does it hurt?": what it is first, then the follow-up (bot.nlg)
                _take(message, name, topic, sure)
                rest = " ".join(c for c in clauses(text) if not DEFINITION.match(c))
                if rest and self.reader.best(without_treatment_words(rest), FOLLOWUP_PREFIX)[0] == name:
                    message.set(ALSO_ASKED, [name], add_to_output=True)
            else:
                self._add_topic(message, topic)
            return
        # "how often does the pump succeed?" asks an aspect; "what is RFA? does it hurt?" what it is first
        defines = any(DEFINITION.match(c) and not aspect_asked(without_treatment_words(c)) for c in clauses(text))
        if len(treatments_named(text)) > 1 or defines:
            return  # "is an epidural the same as a nerve block?" compares
        masked = without_treatment_words(text)
        if OFFERED.search(text):  # "do u do epidurals?", "can I get a stimulator at your clinic?"
            _take(message, name, OFFERED_INTENT, 1.0)
            self._add_topic(message, name)
            return
        if not is_question(masked):  # "rfa for back pain" wants the answer about RFA
            return
        follow_up, sure = self.reader.best(masked, FOLLOWUP_PREFIX)
        cued = aspect_asked(masked)
        if cued and (sure < self.config["follow_up_threshold"] or not self._follow_up_says_more(follow_up, name)):
            # "are back shots sore?", "how often does the pump succeed?": the words name the aspect,
            # and its reply (what the pages say of it, or that they are silent) says more than the stock answer
            _take(message, name, cued, max(sure, self.config["follow_up_threshold"]))
            self._add_topic(message, name)
        elif sure >= self.config["follow_up_threshold"] and self._follow_up_says_more(follow_up, name):
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
        question the classifier took for a story: "y do ppl get a laminectomy in the first place"). With no
        clause worded as a question, the last one is read: people end with what they want to know ("no
        leaking, legs fine. i just want to understand why people get this")."""
        best: Optional[Tuple[str, float]] = None
        readings = []
        for part in asked_in_context(text):
            reading = self._clause_answer(part, text)
            if not reading[0].startswith(QUESTION_PREFIXES) and CONTEXT_JOIN in part:
                # the story read with it outweighed the question ("...the pain returned within the year - how
                # come?"): the question is read alone
                reading = self._clause_answer(part.split(CONTEXT_JOIN)[-1], text)
            readings.append((reading, self.config["clause_threshold"]))
        if not readings and len(clauses(text)) > 1:
            readings = [(self._clause_answer(clauses(text)[-1], text), self.config["last_clause_threshold"])]
        for (intent, probability), threshold in readings:
            if intent.startswith(QUESTION_PREFIXES) and probability >= threshold:
                if best is None or probability > best[1]:
                    best = (intent, probability)
        return best

    def _answerable(self, text: str) -> Optional[Tuple[str, float]]:
        """An education answer for a personally worded question that decides nothing."""
        if asks_a_decision(text):
            return None
        intent, probability = self.reader.best(text, EDUCATION_PREFIX)
        if probability >= self.config["personal_threshold"]:
            return intent, probability
        return None
