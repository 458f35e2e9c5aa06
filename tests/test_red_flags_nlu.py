"""Red flags through the NLU: the Rasa component's decisions, and the trained model on every
test phrasing (the detector and the classifier together, as the server runs them)."""
from __future__ import annotations

from typing import Dict, List, Optional

import pytest
from rasa.shared.nlu.training_data.message import Message

import red_flag_cases as cases
from bot.nlu.red_flag_matcher import RedFlagMatcher
from bot.nlu.red_flags import RedFlagDetector, combined_tier

RED_FLAG_INTENTS = {"red_flag_emergency": "EMERGENCY", "red_flag_crisis": "CRISIS", "red_flag_urgent": "URGENT"}


@pytest.fixture(scope="module")
def component() -> RedFlagDetector:
    return RedFlagDetector({}, matcher=RedFlagMatcher.shared())


def parsed(component: RedFlagDetector, text: str, ranking: Optional[List[Dict]] = None) -> Message:
    """A message as the classifier and FallbackClassifier leave it, then run through the detector."""
    ranking = ranking or [{"name": "nlu_fallback", "confidence": 0.3}, {"name": "greet", "confidence": 0.2}]
    message = Message(data={"text": text, "intent": ranking[0], "intent_ranking": ranking, "entities": []})
    component.process([message])
    return message


def entity_values(message: Message, name: str) -> List:
    return [e["value"] for e in message.get("entities") if e["entity"] == name]


def test_emergency_overrides_the_classifier_and_the_fallback(component):
    ranking = [{"name": "edu_symptom_tingling_weakness", "confidence": 0.92}, {"name": "greet", "confidence": 0.01}]
    message = parsed(component, "both my legs went numb and I can't feel them", ranking)
    assert message.get("intent") == {"name": "red_flag_emergency", "confidence": 1.0}
    names = [r["name"] for r in message.get("intent_ranking")]
    assert names[0] == "red_flag_emergency" and "edu_symptom_tingling_weakness" in names  # the original stays
    assert entity_values(message, "red_flag_tier") == ["EMERGENCY"]
    assert entity_values(message, "red_flag_category") == ["leg_weakness_both"]
    assert "both legs" in entity_values(message, "red_flag_summary")[0]
    assert message.get("red_flags")[0]["category"] == "leg_weakness_both"


def test_emergency_with_suicidal_thoughts_asks_for_both_replies(component):
    message = parsed(component, "I wet myself again and I just want to die")
    assert message.get("intent")["name"] == "red_flag_emergency"
    assert entity_values(message, "red_flag_tier") == ["EMERGENCY+CRISIS"]
    assert sorted(entity_values(message, "red_flag_category")) == ["bladder_control", "suicidal_thoughts"]


def test_a_pure_urgent_message_gets_the_urgent_intent(component):
    message = parsed(component, "my incision is red and oozing", [{"name": "edu_treatment_surgery", "confidence": 0.8}])
    assert message.get("intent")["name"] == "red_flag_urgent"


def test_a_sure_classifier_guess_the_safety_net_does_not_share_asks_the_tiers_question(component):
    ranking = [{"name": "red_flag_emergency", "confidence": 0.71}, {"name": "greet", "confidence": 0.1}]
    message = parsed(component, "something awful is happening down below", ranking)
    assert message.get("intent")["name"] == "red_flag_unsure_emergency"
    assert message.get("red_flags") == []  # the detector itself found nothing
    assert entity_values(message, "red_flag_summary") == [RedFlagMatcher.shared().tiers["EMERGENCY"]["summary"]]
    assert entity_values(message, "red_flag_tier") == []  # no tier until the person answers


def test_a_weak_classifier_guess_alone_does_not(component):
    ranking = [{"name": "nlu_fallback", "confidence": 0.3}, {"name": "red_flag_emergency", "confidence": 0.2}]
    assert parsed(component, "hmm not sure", ranking).get("intent")["name"] == "nlu_fallback"


def test_the_classifier_does_not_override_a_negation_the_detector_saw(component):
    ranking = [{"name": "red_flag_emergency", "confidence": 0.6}, {"name": "red_flag_denied", "confidence": 0.35}]
    message = parsed(component, "I don't have any numbness between my legs", ranking)
    assert message.get("intent")["name"] == "red_flag_denied"  # the classifier's next guess
    assert message.get("red_flags_ruled_out")[0]["reason"] == "negated"


def test_a_set_aside_guess_with_no_sure_second_guess_becomes_the_fallback(component):
    ranking = [{"name": "red_flag_urgent", "confidence": 0.9}, {"name": "greet", "confidence": 0.05}]
    message = parsed(component, "my calf isn't swollen", ranking)
    assert message.get("intent")["name"] == "nlu_fallback"


def test_button_payloads_are_left_alone(component):
    message = parsed(component, "/affirm", [{"name": "affirm", "confidence": 1.0}])
    assert message.get("intent")["name"] == "affirm" and message.get("entities") == []


def test_a_new_symptom_check_carries_the_entity_that_clears_old_answers(component):
    message = parsed(component, "can you check my symptoms", [{"name": "symptom_check", "confidence": 0.9}])
    assert [e for e in message.get("entities") if e["entity"] == "symptom_check_start"][0]["value"] is None


@pytest.mark.parametrize(
    "tiers, expected",
    [
        (["URGENT"], "URGENT"),
        (["URGENT", "EMERGENCY"], "EMERGENCY"),
        (["CRISIS", "EMERGENCY", "URGENT"], "EMERGENCY+CRISIS"),
        (["URGENT", "CRISIS"], "CRISIS+URGENT"),
        ([], None),
    ],
)
def test_combined_tier(tiers, expected):
    assert combined_tier(tiers) == expected


# ---------------------------------------------------------------- the trained model
def classify_with_model(nlu):
    def classify(text):
        data = nlu(text)
        tier = RED_FLAG_INTENTS.get(data["intent"]["name"])
        categories = [e["value"] for e in data["entities"] if e["entity"] == "red_flag_category"]
        return tier, categories

    return classify


def test_trained_model_recall_and_false_positives(nlu):
    result = cases.score(classify_with_model(nlu))
    print(result.report("trained NLU model"))
    assert not result.misses, result.report("trained NLU model")
    assert result.false_positive_rate <= cases.MAX_FALSE_POSITIVE_RATE, result.report("trained NLU model")


def test_trained_model_reports_red_flags_in_parse_data(nlu):
    data = nlu("I can't pee and my bladder feels like it will burst")
    assert data["intent"]["name"] == "red_flag_emergency"
    assert data["red_flags"][0]["category"] == "urinary_retention"
    assert nlu("what is adhesiolysis")["red_flags"] == []


@pytest.mark.parametrize(
    "text, guess",
    [
        ("is it going to be sunny this weekend", "red_flag_crisis"),
        ("I want to chat with an employee", "red_flag_crisis"),
        ("what kinds of medications are used for this", "red_flag_crisis"),
        ("how much does parking cost", "red_flag_emergency"),
    ],
)
def test_a_sure_classifier_guess_without_any_word_of_its_tier_does_not_count(component, text, guess):
    ranking = [{"name": guess, "confidence": 0.95}, {"name": "nlu_fallback", "confidence": 0.3}]
    assert parsed(component, text, ranking).get("intent")["name"] not in RED_FLAG_INTENTS


@pytest.mark.parametrize(
    "text, guess",
    [
        ("everything feels wrong down below since yesterday", "red_flag_emergency"),
        ("honestly i'd rather not be alive", "red_flag_crisis"),
        ("the incision looks weird and angry", "red_flag_urgent"),
    ],
)
def test_the_classifier_net_still_catches_unknown_wordings_with_a_word_of_its_tier(component, text, guess):
    ranking = [{"name": guess, "confidence": 0.9}, {"name": "nlu_fallback", "confidence": 0.3}]
    message = parsed(component, text, ranking)
    assert message.get("intent")["name"] == guess
