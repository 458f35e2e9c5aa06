"""Which language a message is written in: English or Spanish (lingua, offline, models shipped).

Safety does not depend on this: the red-flag screen reads English and Spanish words in every message.
The language only decides the language of the reply: Spanish and Spanglish (two Spanish-only words are
enough) get Spanish. A message too short to tell ("ok", "no", "si") says nothing, so the conversation's
`language` slot keeps its last value.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

ENGLISH, SPANISH = "en", "es"
LANGUAGE_ENTITY = "language"
EXTRACTOR = "LanguageDetector"
MIN_CONFIDENCE = 0.7   # lingua's relative confidence for the winner between the two languages
# Words that settle a message of one or two words, where a statistical guess is weak.
SPANISH_WORDS = frozenset(
    "hola gracias buenas buenos dias tardes noches ayuda ayudame por favor necesito quiero tengo duele dolor "
    "espalda pierna piernas orinar vejiga puedo usted ustedes habla hablan espanol donde cuando cita "
    "llamar llamen telefono cirugia operacion aceptan acepta cuanto cuánto cuesta cuestan precio seguro "
    "cita citas".split()
)
# Spanish words that are no English words: two of them make a Spanglish message Spanish for the reply
# (the rule: Spanish and Spanglish get the tier replies in Spanish).
SPANISH_MARKERS = frozenset(
    "que se mi mis el los las pero porque ya muy con para por esta está estoy puedo quiero tengo hace desde "
    "nada siento cuando también hasta dice él ella tío tía abuela abuelo hermana hermano papá mamá hijo hija "
    "encima sin darse cuenta duele dolor hinchado hinchada pierna piernas vivir morir matarme lleve diosito "
    "está están durmiendo cortando puente quiere hospital ahora otra vez".split()
)
SPANGLISH_MIN_MARKERS = 2
# English words that are no Spanish words: two of them, and no Spanish marker, make a message English
# ("what is cauda equina?" is half Latin, and lingua leans Spanish on it)
ENGLISH_MARKERS = frozenset(
    "what is the my i how does do can you are it this that with and of was have has why who should will would "
    "after about it's what's i'm for an to in on at or your".split()
)
ENGLISH_WORDS = frozenset(
    "hi hello hey thanks thank please help need want have pain back leg legs pee bladder can you speak "
    "english where when appointment call phone surgery".split()
)


class LanguageGuesser:
    """English or Spanish, or None when the text cannot tell."""

    def __init__(self) -> None:
        from lingua import Language, LanguageDetectorBuilder

        self._languages = {Language.ENGLISH: ENGLISH, Language.SPANISH: SPANISH}
        self._detector = (
            LanguageDetectorBuilder.from_languages(*self._languages).with_preloaded_language_models().build()
        )

    def guess(self, text: str) -> Optional[str]:
        words = [w.strip("¿?¡!.,;:()\"'").lower() for w in text.split()]
        words = [w for w in words if w and any(c.isalpha() for c in w)]
        if not words:
            return None
        if len(words) <= 2:
            spanish = sum(w in SPANISH_WORDS for w in words)
            english = sum(w in ENGLISH_WORDS for w in words)
            if spanish != english:
                return SPANISH if spanish > english else ENGLISH
            return None
        spanish_markers = sum(w in SPANISH_MARKERS for w in words)
        if spanish_markers >= SPANGLISH_MIN_MARKERS:
            return SPANISH
        if not spanish_markers and sum(w in ENGLISH_MARKERS for w in words) >= SPANGLISH_MIN_MARKERS:
            return ENGLISH
        values = self._detector.compute_language_confidence_values(text)
        if not values or values[0].value < MIN_CONFIDENCE:
            return None
        return self._languages.get(values[0].language)


@lru_cache(maxsize=1)
def shared_guesser() -> LanguageGuesser:
    """One detector per process (its two language models take a fifth of a second to load)."""
    return LanguageGuesser()


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class LanguageDetector(GraphComponent):
    """Sets `language` on the message and, when it can tell, a `language` entity (fills the slot)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    def __init__(self, guesser: Optional[LanguageGuesser] = None) -> None:
        self.guesser = guesser or shared_guesser()

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "LanguageDetector":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            language = None if text.startswith("/") else self.guesser.guess(text)
            message.set(LANGUAGE_ENTITY, language, add_to_output=True)
            if language:
                entities = [e for e in (message.get(ENTITIES) or []) if e.get("extractor") != EXTRACTOR]
                entities.append({"entity": LANGUAGE_ENTITY, "value": language, "start": 0, "end": len(text),
                                 "confidence_entity": 1.0, "extractor": EXTRACTOR})
                message.set(ENTITIES, entities, add_to_output=True)
        return messages
