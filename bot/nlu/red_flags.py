"""Rasa NLU component: marks red-flag messages, whatever the intent classifier thought.

Runs after FallbackClassifier (see config.yml). When bot.nlu.red_flag_matcher finds a red flag,
the message's intent becomes red_flag_emergency / red_flag_crisis / red_flag_urgent with
confidence 1.0 (the classifier's guesses stay in the ranking), and entities carry the tier, the
categories, and plain words for the reply. The classifier's own red_flag_* prediction also counts
(the union decides: a missed emergency costs far more than a false alarm), except when the
detector set aside the same tier for a reason it can name (negated, past, treatment question).

Output on every parsed message (tracker parse_data): `red_flags` (findings) and
`red_flags_ruled_out` (matches set aside, with the reason), for the recorder and staff review.
"""
from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.message_component import MessageComponent
from bot.nlu.red_flag_matcher import TIER_ORDER, Detection, Finding, RedFlagMatcher
from bot.nlu.safety_net import SafetyNet
from bot.nlu.spanish_topics import spanish_topic
from bot.phone import looks_like_a_number

logger = logging.getLogger(__name__)

INTENT_FOR_TIER = {tier: f"red_flag_{tier.lower()}" for tier in TIER_ORDER}
TIER_FOR_INTENT = {intent: tier for tier, intent in INTENT_FOR_TIER.items()}
EXTRACTOR = "RedFlagDetector"
SYMPTOM_CHECK_INTENT = "symptom_check"
FALLBACK_INTENT = "nlu_fallback"
SYMPTOM_CHECK_START = "symptom_check_start"
PUSHBACK_INTENT = "red_flag_pushback"
STOP_INTENT = "stop"  # "never mind" inside a form cancels it; outside, with a red flag open, a rule repeats it
RETRACTION_INTENT = "red_flag_retracted"
UNSURE_INTENT_FOR_TIER = {tier: f"red_flag_unsure_{tier.lower()}" for tier in TIER_ORDER}
TERM_QUESTION_INTENT = "edu_warning_signs"
FOLLOWUP_PREFIX = "followup_"
EDUCATION_PREFIXES = ("edu_", "ask_risks", FOLLOWUP_PREFIX)
SPANISH_INTENT = "spanish_message"
ANSWER_INTENTS = {"affirm", "deny", "unsure", STOP_INTENT}  # answers to a question
BARE_ANSWER_WORDS = 3  # "no", "not really": an answer; longer, it may be a refusal
# "my neighbour will drive me": going, not refusing, when the refusal reader agrees it is no refusal
ACCEPTED_INTENT = "red_flag_accepted"
# "actually it's me" after a question about a red flag, a red-flag reply or a safety question: the
# writer's own (data/rules/red_flags.yml); a longer message is read for what else it says
ABOUT_ME_INTENT = "red_flag_about_me"
RECENT_SURGERY_INTENT = "red_flag_recent_surgery"
# going, but later ("my son can drive me tomorrow"): a delay, answered as a refusal
LATER = re.compile(
    r"\b(?:tomorrow|tmrw|tmr|later|tonight|this evening|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"next week|in the morning|after work|after lunch|in a (?:bit|while|few)|ma[ñn]ana|luego|despu[eé]s|"
    r"el (?:lunes|martes|mi[eé]rcoles|jueves|viernes|s[aá]bado|domingo)|la (?:otra )?semana|en la noche|m[aá]s tarde)\b",
    re.IGNORECASE,
)
DECLINE_INTENT = "decline_details"
DETAIL_WORDS = re.compile(r"\b(?:number|phone|cell|mobile|name|details|info|information|address|e-?mail)\b", re.IGNORECASE)
HISTORY_INTENT = "share_history"  # "I had my fusion in May": thanked for, with what the bot can explain
ABOUT_ME_MAX_WORDS = 16
BARE_CLAIM_WORDS = 4  # "that's me": nothing else to read in it
ASKED_ABOUT = "red_flag_asked_about"  # parse data: the red flag a question asked about (no report)
CLAIMS_SELF = re.compile(r"\b(?:me|myself|meself|mine|yo)\b", re.IGNORECASE)  # "it's me, not him"
# Intents a Spanish message keeps (answers to a question, safety replies, the warning signs); any other gets
# the answer to a clinic topic it names (bot.nlu.spanish_topics) or the Spanish contact.
SPANISH_KEEPS = {*ANSWER_INTENTS, "red_flag_denied", ACCEPTED_INTENT, ABOUT_ME_INTENT, RECENT_SURGERY_INTENT, TERM_QUESTION_INTENT, PUSHBACK_INTENT, RETRACTION_INTENT, *UNSURE_INTENT_FOR_TIER.values()}


READ_INSTEAD = "read_instead"
READ_INSTEAD_THRESHOLD = 0.15
NOT_READ_INSTEAD = ("red_flag_", "nlu_fallback", "symptom_check")


QUESTION_OPENERS = ("what", "how", "can", "could", "will", "would", "does", "do", "is", "are", "should", "why",
                    "when", "which", "may", "has", "have", "qué", "que", "cómo", "como", "puede", "es", "cuándo", "cuando")


def _worded_as_question(text: str) -> bool:
    """"I'm just done. Done with all of it." is no question about a treatment, however the classifier reads it."""
    words = text.lower().split()
    return "?" in text or "¿" in text or bool(words and words[0].strip(",.") in QUESTION_OPENERS)


def read_instead(message: Message, threshold: float = READ_INSTEAD_THRESHOLD, skip: tuple = NOT_READ_INSTEAD) -> None:
    """Keeps the classifier's likeliest other reading of a message about to be read as something that
    needs context ("never mind, what's your email?" as a refusal): with no red flag open, or no treatment
    discussed, the dialogue reads it that way instead (actions/read_again.py)."""
    for guess in message.get(INTENT_RANKING_KEY) or [message.get(INTENT) or {}]:
        name = str(guess.get("name") or "")
        if name and not name.startswith(skip) and (guess.get("confidence") or 0.0) >= threshold:
            message.set(READ_INSTEAD, {"name": name, "confidence": float(guess["confidence"])}, add_to_output=True)
            return


def combined_tier(tiers: List[str]) -> Optional[str]:
    """The value of the `red_flag_tier` entity/slot for the tiers found in one message.

    The highest tier decides the reply; a second tier that changes what the reply must say is
    appended: EMERGENCY+CRISIS (emergency reply that also gives the crisis line) and CRISIS+URGENT
    (crisis reply that also asks for a same-day call). EMERGENCY already covers URGENT.
    """
    present = [t for t in TIER_ORDER if t in set(tiers)]
    if not present:
        return None
    top = present[0]
    if top == "EMERGENCY" and "CRISIS" in present:
        return "EMERGENCY+CRISIS"
    if top == "CRISIS" and "URGENT" in present:
        return "CRISIS+URGENT"
    return top


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=False,
)
class RedFlagDetector(MessageComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # the classifier's red_flag_* guess counts at or above this confidence...
            "classifier_threshold": 0.7,
            # ...for these tiers only
            "classifier_tiers": list(TIER_ORDER),
            # a set-aside red-flag guess gives way to the next guess only if it is this sure
            # (keep equal to FallbackClassifier's threshold); otherwise to nlu_fallback
            "fallback_threshold": 0.3,
            # a pushback word does not take over a question about the clinic's topics this sure
            "education_threshold": 0.5,
            # the safety net (bot.nlu.safety_net) decides a physical tier at or above this probability,
            # a crisis at or above the next (told in more ways; a crisis reply to a non-crisis costs less)...
            "net_threshold": 0.8,
            "net_crisis_threshold": 0.75,
            "net_crisis_beside_finding_threshold": 0.9,
            # ...and asks the tier's direct safety question at or above this one
            "net_question_threshold": 0.35,
            # ...or, in a message with a negation, time or question cue, from this one
            "net_cue_question_threshold": 0.7,
            # in such a message it still decides an emergency (or an urgent sign) this sure: its training holds the
            # negated and past look-alikes, and an emergency told as a question ("is it normal that
            # it feels like I'm sitting on nothing?") must not wait for a yes
            "net_cue_emergency_threshold": 0.95,
            # a refusal or minimising the lexicon does not know counts this sure (it repeats an open
            # tier's instruction; with none open it only asks what is happening)
            "net_pushback_threshold": 0.7,
            # the net reads messages of at least this many words
            "net_min_words": 3,
            # a refusal word in a confident education question ("it's probably nothing" read as the
            # outlook) still counts when the net reads a refusal this sure
            "net_pushback_over_question": 0.5,
        }

    def __init__(
        self, config: Dict[Text, Any], matcher: Optional[RedFlagMatcher] = None, net: Optional[SafetyNet] = None
    ) -> None:
        self.config = {**self.get_default_config(), **(config or {})}
        self.matcher = matcher or RedFlagMatcher.shared()
        self.net = net or SafetyNet.shared()

    # ------------------------------------------------------------------ one message
    def _process(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        if text.startswith("/"):  # a button payload names its intent itself
            return
        detection = self.matcher.detect(text)
        message.set("red_flags", [f.as_dict() for f in detection.findings], add_to_output=True)
        message.set("red_flags_ruled_out", [r.as_dict() for r in detection.ruled_out], add_to_output=True)
        tiers = list(detection.tiers)
        # The net reads reports; a word or two ("today", "tomorrow morning": answers in a form) has
        # too little for it, and is left to the lexicons and the classifier.
        scores = self.net.scores(text) if len(text.split()) >= self.config["net_min_words"] else {}
        going = (detection.going and not LATER.search(text)) or self._going(message, scores)
        pushback = not going and (detection.pushback or (
            scores.get("PUSHBACK", 0.0) >= self.config["net_pushback_threshold"]
            and not detection.findings
            and not self._bare_answer(message, text)
        ))
        net_tiers, net_questions = self._net_reading(scores, detection, pushback)
        claims_it = self._claims_it(detection, text, message)
        if claims_it:
            # "I'm asking for me, really": the claim says whose the sign already told is; "myself" is no
            # crisis and the net reads too little in so few words
            net_tiers, net_questions = [], []
        classifier_tier = self._classifier_tier(message, detection)
        if classifier_tier and scores.get(classifier_tier, 0.0) < self.config["net_question_threshold"]:
            # the net, trained on the look-alikes the classifier never saw, finds nothing of the tier
            # ("my number is 419..."): the classifier's guess only asks the tier's question
            net_questions.insert(0, classifier_tier)
            classifier_tier = None
        for extra in [classifier_tier, *net_tiers]:
            if extra and extra not in tiers:
                tiers.append(extra)
        tier = combined_tier(tiers)
        language = message.get("language") or "en"
        # a Spanish question naming one of the clinic's topics or a contact request ("¿cómo funciona el
        # estimulador?", "quiero hacer una cita"): the net, which learnt English, does not ask about it
        named_in_spanish = spanish_topic(text) if language == "es" else None
        net_question = net_questions[0] if tier is None and net_questions and not named_in_spanish else None
        asked = detection.asked_about(self.matcher.categories) if tier is None else None
        if tier is not None:
            self._set_intent(message, INTENT_FOR_TIER[tier.split("+")[0]])
            self._add_entities(message, detection, tier, text, language)
        elif asked and detection.self_claim:  # "is it bad if someone can't pee? that's me, since noon"
            self._report_asked(message, asked, detection, text, language)
        elif (detection.term_question or (asked and not self._treatment_question(message))) and not pushback:
            # "what is cauda equina?", "if a person felt nothing when wiping, would that matter?":
            # the warning signs and what to do, no red flag (a question about a treatment keeps its answer)
            self._set_intent(message, TERM_QUESTION_INTENT)
        elif detection.unsure and not self._mood_word_in_a_question(detection, message):
            category = self.matcher.categories[detection.unsure[0]]
            summary, reason = category.words(language)
            self._ask(message, category.tier, summary, reason, category=category.name)
        # "I meant my dog": the conversation no longer stays with the red flag; "sorry wrong number, it's
        # 419-555-0129" corrects a phone number (the callback form takes it), not a symptom
        elif detection.retraction and not looks_like_a_number(text):
            self._set_intent(message, RETRACTION_INTENT)
            self._replace_entities(message, [_entity("red_flag_open", "cleared", 0, len(text))])
        elif claims_it:
            if len(text.split()) > BARE_CLAIM_WORDS:  # "it's me, what is rfa?": with nothing asked, the rest
                read_instead(message)
            self._set_intent(message, ABOUT_ME_INTENT)
            # the reply speaks to whom it is about now: the writer ("it's me"), or the one cared for ("it's him actually")
            person = "other" if detection.third_person and not CLAIMS_SELF.search(text) else "self"
            self._replace_entities(message, [_entity("red_flag_person", person, 0, len(text))])
        elif going and detection.going and not detection.findings and not self._education_question(message):
            self._set_intent(message, ACCEPTED_INTENT)  # "ringing 911 now": going, whatever the classifier heard
        elif self._tells_recent_surgery(detection, text, message):
            # after a same-day question ("hot and shivery?") the date of the operation makes it same-day;
            # anywhere else it is the person's history, thanked for (data/rules/red_flags.yml)
            if _worded_as_question(text):
                read_instead(message)
            else:
                message.set(READ_INSTEAD, {"name": HISTORY_INTENT, "confidence": 1.0}, add_to_output=True)
            self._set_intent(message, RECENT_SURGERY_INTENT)
        elif pushback and self._declines_details(message, text):
            self._set_intent(message, DECLINE_INTENT)  # the callback form stops; nothing open is refused
        elif pushback and self._intent_name(message) != STOP_INTENT and (
            not self._education_question(message, FOLLOWUP_PREFIX) or scores.get("PUSHBACK", 0.0) >= self.config["net_pushback_over_question"]
        ):
            read_instead(message)
            self._set_intent(message, PUSHBACK_INTENT)
        elif net_question:  # the net half-recognised a tier: ask its direct question
            self._ask(message, net_question, *self.matcher.tier_words(net_question, language))
        elif self._intent_name(message) in TIER_FOR_INTENT:
            self._demote(message, self.config["fallback_threshold"])
        elif self._intent_name(message) == SYMPTOM_CHECK_INTENT:
            # A new symptom check: a null entity lets Rasa's own slot mappings clear the answers of
            # an earlier check (a slot mapping cannot set None otherwise, and this must not need
            # the action server).
            entities = list(message.get(ENTITIES) or [])
            entities.append({"entity": SYMPTOM_CHECK_START, "value": None, "start": 0, "end": len(text), "extractor": EXTRACTOR})
            message.set(ENTITIES, entities, add_to_output=True)
        if tier is None and language == "es" and not self._kept_in_spanish(message, text):
            # a question naming one of the clinic's topics gets its answer in Spanish; anything else the contact
            self._set_intent(message, named_in_spanish or SPANISH_INTENT)
        if asked and not detection.self_claim:
            self._note_asked(message, asked, language)

    def _report_asked(self, message: Message, category_name: str, detection: Detection, text: str, language: str) -> None:
        """A question about a red flag and, in the same message, "that's me": the sign is reported (the
        tier reply, and the finding in parse data, so the recorder stores its row)."""
        category = self.matcher.categories[category_name]
        asked = next(r for r in detection.ruled_out if r.category == category_name)
        start = max(0, text.lower().find(asked.text.lower()))
        finding = Finding(category.tier, category.name, asked.text, start, start + len(asked.text), category.summary)
        detection.findings.append(finding)
        message.set("red_flags", [f.as_dict() for f in detection.findings], add_to_output=True)
        self._set_intent(message, INTENT_FOR_TIER[category.tier])
        self._add_entities(message, detection, category.tier, text, language)
        own = [e for e in message.get(ENTITIES) if e.get("extractor") == EXTRACTOR and e.get("entity") != "red_flag_person"]
        self._replace_entities(message, own + [_entity("red_flag_person", "self", 0, len(text))])

    def _note_asked(self, message: Message, category_name: str, language: str) -> None:
        """A red flag asked about or supposed ("what if a person can't pee?") is remembered (slot
        red_flag_asked), with its words, so that "actually it's me" next gets its reply."""
        category = self.matcher.categories[category_name]
        summary, reason = category.words(language)
        end = len(message.get(TEXT) or "")
        message.set(ASKED_ABOUT, category.name, add_to_output=True)  # bot.nlu.clause_focus leaves such a reading alone
        noted = [
            _entity("red_flag_asked", category.tier.lower(), 0, end),
            _entity("red_flag_asked_category", category.name, 0, end),
            _entity("red_flag_summary", summary, 0, end),
            _entity("red_flag_reason", reason, 0, end),
        ]
        kept = [e for e in (message.get(ENTITIES) or []) if e.get("entity") not in {n["entity"] for n in noted}]
        message.set(ENTITIES, kept + noted, add_to_output=True)

    def _claims_it(self, detection: Detection, text: str, message: Message) -> bool:
        """"Actually it's me", "asking for myself": short, and no question the classifier is sure about."""
        return detection.self_claim and self._short_statement(detection, text, message)

    def _short_statement(self, detection: Detection, text: str, message: Message) -> bool:
        """A few words with no finding and no question the classifier is sure about: read with what was asked."""
        return not detection.findings and len(text.split()) <= ABOUT_ME_MAX_WORDS \
            and not (_worded_as_question(text) and self._education_question(message))

    def _tells_recent_surgery(self, detection: Detection, text: str, message: Message) -> bool:
        """"Oh and my fusion was 6 days ago": told as briefly as "it's me" (_short_statement)."""
        return detection.recent_surgery and self._short_statement(detection, text, message)

    def _declines_details(self, message: Message, text: str) -> bool:
        """"I'd prefer you didn't have my mobile": declining to give contact details (the callback
        form stops), not refusing care. It names a detail, and the classifier's next reading is the decline."""
        if not DETAIL_WORDS.search(text):
            return False
        ranking = message.get(INTENT_RANKING_KEY) or []
        return any(g.get("name") == DECLINE_INTENT and (g.get("confidence") or 0.0) >= READ_INSTEAD_THRESHOLD for g in ranking)

    def _treatment_question(self, message: Message) -> bool:
        """A confident question about one treatment ("can RFA cause numbness down there?") keeps its answer
        beside a red flag it asks about; a general one ("what should they do?") gets the warning signs."""
        confidence = (message.get(INTENT) or {}).get("confidence") or 0.0
        return self._intent_name(message).startswith("edu_treatment_") and confidence >= self.config["education_threshold"]

    def _kept_in_spanish(self, message: Message, text: str) -> bool:
        """A Spanish message keeps the intents the dialogue answers in Spanish; a yes, no or not sure
        only as a bare answer ("no sé"), not a whole question the classifier, trained in English, read so."""
        name = self._intent_name(message)
        if name in ANSWER_INTENTS:
            return len(text.split()) <= BARE_ANSWER_WORDS
        return name in SPANISH_KEEPS

    def _classifier_tier(self, message: Message, detection: Detection) -> Optional[str]:
        """The highest red-flag tier the classifier is confident about (`classifier_threshold`),
        so that wordings the patterns do not know still get the red-flag reply.

        It is the net for wordings the patterns do not know, so it counts only when the detector
        found nothing: where the detector did find a red flag, its reading decides the tier. A
        bag-of-words classifier cannot read negation, time or questions ("my calf isn't swollen"
        looks like "my calf is swollen" to it), so its guess does not count in a message where the
        detector sees such a cue either, nor for a tier whose words the detector set aside, nor for a
        tier none of whose anchor words the message contains (sure guesses about the weather). Where the
        detector found a sign too vague to settle, it asks one direct question instead (unsure).
        """
        if detection.findings or detection.context_cue or detection.unsure:
            return None
        set_aside = set(detection.ruled_out_tiers(self.matcher.categories))
        tiers = {
            TIER_FOR_INTENT.get(g.get("name"))
            for g in message.get(INTENT_RANKING_KEY) or [message.get(INTENT) or {}]
            if (g.get("confidence") or 0.0) >= self.config["classifier_threshold"]
        }
        allowed = {
            t for t in set(self.config["classifier_tiers"]) - set_aside if self.matcher.anchored(detection, t)
        }
        return next((t for t in TIER_ORDER if t in tiers and t in allowed), None)

    def _net_reading(self, scores: Dict[str, float], detection: Detection, pushback: bool):
        """(tiers the safety net decides, highest first; tiers it would ask about, likeliest first).

        The net reads wordings no pattern knows. For the physical tiers it is held to the limits of
        any bag of words (see _classifier_tier: it reads negation, time or a question only as well as its
        look-alikes taught it, so in a message with such a cue it asks, deciding only an emergency it is
        nearly sure of, and a set-aside tier is left to the patterns); it
        needs no anchor word, since it was trained with the look-alikes ("make water" is urine to it).
        A crisis is told in too many ways for those limits ("I don't want to be here anymore" negates;
        "would anyone even notice?" asks), and its look-alikes are in the net's own training, so for
        CRISIS only a crisis the patterns set aside (an idiom, a quote) stops it, and it reads a crisis
        beside a physical finding too ("legs gone numb, I just want it over"). A correction ("I meant
        my dog") or a question about a term is never read as a report.
        """
        decided: List[str] = []
        questions: List[str] = []
        found = set(detection.tiers)
        if found == set(TIER_ORDER) or detection.retraction or detection.term_question:
            return decided, questions
        set_aside = set(detection.ruled_out_tiers(self.matcher.categories))
        physical_open = not (detection.findings or detection.context_cue or detection.unsure)
        for tier in TIER_ORDER:
            if tier in found or tier in set_aside:
                continue
            score = scores.get(tier, 0.0)
            if tier == "CRISIS":
                # a refusal ("he'd rather sleep it off") is answered as one, unless it carries a crisis;
                # the net decides a crisis only in a message with a word of the crisis vocabulary
                # (classifier_anchors), and asks otherwise ("I'm going to take a bath" reads close to
                # it for a bag of words)
                if score >= self._net_threshold(tier, detection) and self.matcher.anchored(detection, tier):
                    decided.append(tier)
                elif score >= self.config["net_question_threshold"] and not pushback:
                    questions.append(tier)
            elif pushback:
                continue
            elif not physical_open:
                # negation, time or a question in the message: the net asks, and decides only an
                # emergency it is nearly sure of ("neither leg will hold me" negates nothing)
                if detection.findings or detection.unsure:
                    continue
                if tier in ("EMERGENCY", "URGENT") and score >= self.config["net_cue_emergency_threshold"]:
                    decided.append(tier)
                elif score >= self.config["net_cue_question_threshold"]:
                    questions.append(tier)
            elif score >= self._net_threshold(tier, detection):
                decided.append(tier)
            elif score >= self.config["net_question_threshold"]:
                questions.append(tier)
        questions.sort(key=lambda t: -scores.get(t, 0.0))  # ask about the likeliest first
        return decided, questions

    def _net_threshold(self, tier: str, detection: Detection) -> float:
        """How sure the net must be to decide `tier`. Beside a finding of another tier (a long story
        about a swollen calf) a crisis needs the net nearly certain: long messages pull its crisis
        reader up, and the story's own tier is already answered."""
        if tier != "CRISIS":
            return self.config["net_threshold"]
        if detection.findings:
            return self.config["net_crisis_beside_finding_threshold"]
        return self.config["net_crisis_threshold"]

    def _mood_word_in_a_question(self, detection: Detection, message: Message) -> bool:
        """A low-mood word inside a confident question about the clinic's topics ("can being depressed
        slow my recovery?") is answered, not met with the crisis question; a vague physical sign still
        asks."""
        tiers = {self.matcher.categories[name].tier for name in detection.unsure}
        return tiers == {"CRISIS"} and _worded_as_question(message.get(TEXT) or "") and self._education_question(message)

    def _going(self, message: Message, scores: Dict[str, float]) -> bool:
        """"Right, fine, my neighbour will drive me": the classifier reads going or calling, and the
        refusal reader agrees it is no refusal (a word like "fine" does not make it one)."""
        return self._intent_name(message) == ACCEPTED_INTENT and scores.get("PUSHBACK", 1.0) < self.config["net_pushback_threshold"]

    def _bare_answer(self, message: Message, text: str) -> bool:
        """A yes, no or not sure of a few words ("no", "not really") answers a safety question; a
        longer message the classifier calls an answer can still be a refusal ("she won't go, says
        it's the tablets")."""
        return self._intent_name(message) in ANSWER_INTENTS and len(text.split()) <= BARE_ANSWER_WORDS

    def _ask(self, message: Message, tier: str, summary: str, reason: str, category: Optional[str] = None) -> None:
        """One direct yes/no safety question for `tier` (rules in data/rules/red_flags.yml); the words
        of the reply a "yes" gets travel as entities."""
        self._set_intent(message, UNSURE_INTENT_FOR_TIER[tier])
        end = len(message.get(TEXT) or "")
        entities = [_entity("red_flag_category", category, 0, end)] if category else []
        entities += [_entity("red_flag_summary", summary, 0, end), _entity("red_flag_reason", reason, 0, end)]
        # "actually it's me" answers the question as a yes would (slot red_flag_asked)
        entities += [_entity("red_flag_asked", tier.lower(), 0, end), _entity("red_flag_asked_category", category or "safety_question", 0, end)]
        self._replace_entities(message, entities)

    @staticmethod
    def _intent_name(message: Message) -> str:
        return str((message.get(INTENT) or {}).get("name") or "")

    def _education_question(self, message: Message, unless: str = "") -> bool:
        """A confident question about the clinic's topics ("will the stimulator make it worse?") is
        answered, even if a few of its words sound like minimising ("a little"). A follow-up does not
        count against a refusal word: "is anyone even there on a Saturday?" needs the reply it follows."""
        confidence = (message.get(INTENT) or {}).get("confidence") or 0.0
        name = self._intent_name(message)
        return name.startswith(EDUCATION_PREFIXES) and not (unless and name.startswith(unless)) and confidence >= self.config["education_threshold"]

    @staticmethod
    def _demote(message: Message, fallback_threshold: float) -> None:
        """The classifier's red-flag guess did not count (see _classifier_tier): use its next
        guess if that one is sure enough, else nlu_fallback (as FallbackClassifier would)."""
        ranking = [r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") not in TIER_FOR_INTENT]
        best = next((r for r in ranking if r.get("name") != FALLBACK_INTENT), None)
        if best is None or (best.get("confidence") or 0.0) < fallback_threshold:
            best = {"name": FALLBACK_INTENT, "confidence": fallback_threshold}
            ranking = [best] + [r for r in ranking if r.get("name") != FALLBACK_INTENT]
        message.set(INTENT, best, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)

    @staticmethod
    def _set_intent(message: Message, intent_name: str) -> None:
        forced = {"name": intent_name, "confidence": 1.0}
        ranking = [r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") != intent_name]
        message.set(INTENT, forced, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [forced] + ranking, add_to_output=True)

    def _add_entities(self, message: Message, detection: Detection, tier: str, text: str, language: str = "en") -> None:
        first = detection.findings[0] if detection.findings else None
        start, end = (first.start, first.end) if first else (0, len(text))
        top = tier.split("+")[0]
        if detection.tier == top:
            summary, reason = self.matcher.summary(detection, language), self.matcher.reason(detection, language)
        else:  # only the classifier or the net saw this tier: say so in general words
            summary, reason = self.matcher.tier_words(top, language)
        entities = [_entity("red_flag_tier", tier, start, end)]
        for finding in detection.findings:
            entities.append(_entity("red_flag_category", finding.category, finding.start, finding.end))
        entities.append(_entity("red_flag_summary", summary, start, end))
        entities.append(_entity("red_flag_reason", reason, start, end))
        # the tier the conversation stays with, and who it is about (the reply's wording)
        entities.append(_entity("red_flag_open", top.lower(), start, end))
        entities.append(_entity("red_flag_person", "other" if detection.third_person else "self", start, end))
        if "CRISIS" in tier:
            entities.append(_entity("crisis_told", "yes", start, end))
        self._replace_entities(message, entities)

    @staticmethod
    def _replace_entities(message: Message, entities: List[Dict[str, Any]]) -> None:
        """This component's entities replace any it set before; other extractors' stay."""
        kept = [e for e in (message.get(ENTITIES) or []) if e.get("extractor") != EXTRACTOR]
        message.set(ENTITIES, kept + entities, add_to_output=True)


def _entity(name: str, value: str, start: int, end: int) -> Dict[str, Any]:
    return {"entity": name, "value": value, "start": start, "end": end, "confidence_entity": 1.0, "extractor": EXTRACTOR}
