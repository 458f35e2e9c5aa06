"""The safety net (bot/nlu/safety_net.py): the text classifier under the red-flag lexicons, on its own
and inside the detector. Phrasings written for these tests; the blind sets that measure the product
are never copied here, nor is the net's own training data."""
from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.red_flag_matcher import RedFlagMatcher
from bot.nlu.red_flags import RedFlagDetector
from bot.nlu.safety_net import SafetyNet, read_examples


@pytest.fixture(scope="module")
def detector() -> RedFlagDetector:
    return RedFlagDetector({}, matcher=RedFlagMatcher.shared(), net=SafetyNet.shared())


def parsed(detector: RedFlagDetector, text: str, intent: str = "nlu_fallback", confidence: float = 0.3) -> Message:
    guess = {"name": intent, "confidence": confidence}
    message = Message(data={"text": text, "intent": guess, "intent_ranking": [guess], "entities": []})
    detector.process([message])
    return message


def entity(message: Message, name: str):
    return [e["value"] for e in message.get("entities") if e["entity"] == name]


def test_a_crisis_no_pattern_knows_gets_the_crisis_reply(detector):
    text = "my son told his sister he has sorted out who gets his guitar and his car after he is gone"
    assert RedFlagMatcher.shared().detect(text).tier is None  # the lexicons alone miss it
    message = parsed(detector, text)
    assert message.get("intent")["name"] == "red_flag_crisis"
    assert entity(message, "red_flag_tier") == ["CRISIS"]
    assert entity(message, "red_flag_person") == ["other"]  # worded to the family member
    assert message.get("red_flags") == []  # the record says no pattern found it


def test_a_half_recognised_crisis_asks_directly(detector):
    message = parsed(detector, "sometimes I wonder what the point of it all is")
    assert message.get("intent")["name"] == "red_flag_unsure_crisis"
    assert entity(message, "red_flag_tier") == []


@pytest.mark.parametrize("text", [
    "this pain is killing me, what are my options",
    "I'm so done with physio, it does nothing",
    "everyone here would breathe easier if the builders finished",
])
def test_figures_of_speech_and_frustration_get_no_tier(detector, text):
    message = parsed(detector, text)
    assert not message.get("intent")["name"].startswith(("red_flag_emergency", "red_flag_crisis", "red_flag_urgent")), text


def test_a_refusal_no_pattern_knows_is_a_refusal(detector):
    text = "she won't go, says it's the tablets"
    assert not RedFlagMatcher.shared().detect(text).pushback
    assert parsed(detector, text).get("intent")["name"] == "red_flag_pushback"


def test_a_bare_no_answers_the_safety_question(detector):
    assert parsed(detector, "no", "deny", 0.95).get("intent")["name"] == "deny"


def test_examples_are_read_with_their_labels(tmp_path):
    data = tmp_path / "net.yml"
    data.write_text(
        'version: "3.1"\nnlu:\n'
        "- intent: red_flag_urgent\n  examples: |\n    - my [scar](body_part) is oozing\n"
        "- intent: not_crisis\n  examples: |\n    - this traffic is killing me\n"
        "- intent: greet\n  examples: |\n    - hello there\n    - /greet\n",
        encoding="utf-8",
    )
    assert read_examples([data]) == [
        ("my scar is oozing", "URGENT"), ("this traffic is killing me", "NOT_CRISIS"), ("hello there", "NONE"),
    ]


def test_the_fitted_net_is_kept_and_reused_and_a_broken_cache_is_refitted(tmp_path):
    files = SafetyNet.training_files()
    first = SafetyNet.fitted(files, cache_dir=tmp_path)
    [cached] = list(tmp_path.glob("*.pickle"))
    stamp = cached.stat().st_mtime_ns
    again = SafetyNet.fitted(files, cache_dir=tmp_path)
    assert cached.stat().st_mtime_ns == stamp  # read back, not fitted and written again
    text = "nobody would notice if I just stopped being around"
    assert again.scores(text) == first.scores(text)
    cached.write_bytes(b"not a pickle")
    refitted = SafetyNet.fitted(files, cache_dir=tmp_path)
    assert refitted.scores(text) == pytest.approx(first.scores(text))


def test_a_refusal_that_carries_a_crisis_gets_the_crisis_reading(detector):
    message = parsed(detector, "forget the hospital, honestly I'd be better off not waking up tomorrow")
    assert message.get("intent")["name"] == "red_flag_crisis"


def test_the_stacked_weights_give_each_readers_own_probability():
    net = SafetyNet.shared()
    for text in ["my wife has been saving up her pills", "she won't go, says it's the tablets", "what is spinal cord stimulation?"]:
        row = net.features.transform([text.lower()])
        assert net.scores(text) == pytest.approx({r: net.readers[r].predict_proba(row)[0][1] for r in net.readers}, abs=1e-12)


def test_a_mood_word_in_an_education_question_gets_the_answer_and_alone_the_crisis_question(detector):
    question = parsed(detector, "can being depressed slow down healing after back surgery?", "edu_cause_mental_health", 0.8)
    assert question.get("intent")["name"] == "edu_cause_mental_health"
    assert parsed(detector, "I've been so hopeless this month").get("intent")["name"] == "red_flag_unsure_crisis"
