"""The "Did you mean …?" action: which guesses it offers, and what it says when it has none."""
from __future__ import annotations

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import MAX_SUGGESTIONS, ActionDefaultAskAffirmation, suggestions
from bot import knowledge

KB = knowledge.load()


def ranking(*pairs):
    return [{"name": name, "confidence": conf} for name, conf in pairs]


def test_offers_titled_guesses_best_first_and_skips_the_rest():
    got = suggestions(ranking(("nlu_fallback", 0.3), ("affirm", 0.2), ("edu_treatment_scs", 0.15),
                              ("out_of_scope", 0.1), ("edu_treatment_rfa", 0.08), ("edu_treatment_esi", 0.01)), KB)
    assert got == [
        {"title": KB.topics["edu_treatment_scs"].title, "payload": "/edu_treatment_scs"},
        {"title": KB.topics["edu_treatment_rfa"].title, "payload": "/edu_treatment_rfa"},
    ]


def test_at_most_three_and_one_button_per_title():
    many = ranking(("red_flag_emergency", 0.2), ("red_flag_urgent", 0.19), ("edu_outlook", 0.18),
                   ("edu_symptoms", 0.17), ("edu_causes", 0.16))
    got = suggestions(many, KB)
    assert [b["payload"] for b in got] == ["/edu_warning_signs", "/edu_outlook", "/edu_symptoms"]
    assert len(got) == MAX_SUGGESTIONS  # the two red-flag guesses become one warning-signs button


def test_a_red_flag_guess_is_offered_as_the_warning_signs_answer_never_as_a_tier():
    got = suggestions(ranking(("nlu_fallback", 0.3), ("red_flag_crisis", 0.2), ("red_flag_denied", 0.15)), KB)
    assert got == [{"title": KB.topics["edu_warning_signs"].title, "payload": "/edu_warning_signs"}]


def run(latest_message):
    dispatcher = CollectingDispatcher()
    tracker = Tracker("s", {}, latest_message, [], False, None, {}, "action_listen")
    asyncio.run(ActionDefaultAskAffirmation().run(dispatcher, tracker, {}))
    return dispatcher.messages


def test_asks_did_you_mean_with_a_way_out():
    [message] = run({"intent_ranking": ranking(("nlu_fallback", 0.3), ("edu_treatment_scs", 0.2))})
    assert message["response"] == "utter_edu_did_you_mean"
    payloads = [b["payload"] for b in message["buttons"]]
    assert payloads[0] == "/edu_treatment_scs" and payloads[-1] == "/out_of_scope"
    assert any("clinic" in b["title"].lower() for b in message["buttons"])


def test_nothing_plausible_asks_to_rephrase():
    [message] = run({"intent_ranking": ranking(("nlu_fallback", 0.3), ("greet", 0.2), ("affirm", 0.1))})
    assert message["response"] == "utter_ask_rephrase" and not message["buttons"]


def test_a_question_the_pages_answer_in_other_words_gets_their_passage():
    [message] = run({"text": "can this condition also cause pain in the neck?",
                     "intent_ranking": ranking(("nlu_fallback", 0.3), ("edu_symptoms", 0.2))})
    assert message["response"] == "utter_source_passage"
    assert message["source_section"] == KB.documents["001"].sections["symptoms"]
    assert "neck" in message["source_passage"]
    assert message["buttons"][-1]["payload"] == "/out_of_scope"  # still a way out of the fallback


def test_no_passage_for_a_personal_decision_or_in_spanish():
    decision = {"text": "should I have spinal cord stimulation for my nerve pain",
                "intent_ranking": ranking(("nlu_fallback", 0.3), ("handoff_candidacy", 0.25), ("edu_treatment_scs", 0.2))}
    assert run(decision)[0]["response"] == "utter_edu_did_you_mean"
    dispatcher = CollectingDispatcher()
    tracker = Tracker("s", {"language": "es"}, {"text": "can this condition also cause pain in the neck?",
                      "intent_ranking": ranking(("nlu_fallback", 0.3), ("edu_symptoms", 0.2))}, [], False, None, {}, "action_listen")
    asyncio.run(ActionDefaultAskAffirmation().run(dispatcher, tracker, {}))
    assert dispatcher.messages[0]["response"] == "utter_edu_did_you_mean"
