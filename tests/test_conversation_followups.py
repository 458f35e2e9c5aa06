"""Keeping the thread (issue #13, items 1 and 2): follow-ups about the treatment just explained are
answered about it, and a story or denial with a question in it gets the question answered. Over REST,
compared as the whole sequence of responses a person reads. Phrasings written for these tests."""
from __future__ import annotations

import pytest

from bot import knowledge
from bot.nlu.clause_focus import clauses, is_question

pytestmark = pytest.mark.timeout(600)


def test_a_chain_of_follow_ups_stays_with_the_treatment(chat):
    sender = chat.new_sender("followup-rfa")
    replies = [chat.send(sender, text) for text in [
        "what's radiofrequency ablation", "ok and is it painful?", "how long will the relief last", "do you guys do it there?",
    ]]
    assert [[r["metadata"]["response"] for r in turn] for turn in replies] == [
        ["utter_edu_treatment_rfa"], ["utter_followup_hurt"], ["utter_followup_duration"], ["utter_followup_offered_here"],
    ]
    # the pages are silent on how it feels: said so, naming the treatment; they do say "months of relief"
    assert "don't say what having radiofrequency ablation (RFA) feels like" in replies[1][0]["text"]
    assert "months of relief" in replies[2][0]["text"]
    assert "radiofrequency ablation (RFA)" in replies[3][0]["text"]


def test_the_topic_moves_with_the_conversation(chat):
    sender = chat.new_sender("followup-switch")
    first = chat.send(sender, "tell me about the spinal cord stimulator")
    second = chat.send(sender, "is that an implant?")
    third = chat.send(sender, "and what about the pain pump")
    fourth = chat.send(sender, "is that an implant?")
    assert [r["metadata"]["response"] for r in first + second + third + fourth] == [
        "utter_edu_treatment_scs", "utter_followup_procedure", "utter_edu_treatment_intrathecal", "utter_followup_procedure",
    ]
    assert second[0]["text"].startswith("Yes, a small device is implanted")
    assert "pump" in fourth[0]["text"]


def test_a_follow_up_with_no_treatment_yet_asks_which_one(chat):
    replies = chat.send(chat.new_sender("followup-none"), "does it hurt?")
    assert [r["metadata"]["response"] for r in replies] == ["utter_followup_hurt"]
    assert replies[0]["text"].startswith("Which treatment do you mean?")
    assert len(replies[0]["buttons"]) == 3


def test_success_is_told_in_the_pages_words_and_never_promised(chat):
    sender = chat.new_sender("followup-scs-works")
    assert chat.responses(sender, "what is spinal cord stimulation") == ["utter_edu_treatment_scs"]
    replies = chat.send(sender, "will it actually fix my pain?")
    assert [r["metadata"]["response"] for r in replies] == ["utter_followup_effectiveness"]
    assert "highly effective" in replies[0]["text"] and "no success rate" in replies[0]["text"]


def test_tried_it_already_is_not_answered_with_the_same_paragraph(chat):
    sender = chat.new_sender("followup-tried")
    assert chat.conversation(sender, ["what about physical therapy", "I did PT for months and it did nothing"]) == [
        ["utter_edu_treatment_pt"], ["utter_followup_tried_it"],
    ]


@pytest.mark.parametrize("text, response", [
    ("My bladder is fine and no numbness anywhere. What are epidural steroid injections?", "utter_edu_treatment_esi"),
    ("Had my op in 2021 and still sore. Separate question, where are you located?", "utter_handoff_location"),
])
def test_a_story_with_a_question_gets_the_question_answered(chat, text, response):
    assert chat.responses(chat.new_sender("followup-compound"), text) == [response]


def test_every_follow_up_variant_of_a_topic_is_tied_to_its_sources():
    import yaml

    from bot.paths import ROOT

    responses = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
    kb = knowledge.load()
    followups = {name: variants for name, variants in responses.items() if name.startswith("utter_followup_")}
    assert set(kb.followups) <= set(followups)
    for response, variants in followups.items():
        cells = kb.followups.get(response, {})
        topics = {c["value"] for v in variants for c in v.get("condition") or [] if c["name"] == "topic"}
        assert topics == set(cells) - {"default"}, f"{response}: variants and sources differ"
        assert topics <= set(kb.topics)
        for refs in cells.values():
            for ref in refs:
                assert ref["section"] in kb.documents[ref["document"]].sections


def test_clauses_split_at_sentences_dashes_and_cues():
    assert clauses("no numbness - how do epidurals work?") == ["no numbness", "how do epidurals work?"]
    assert clauses("Had a UTI once, unrelated question: what is RFA?")[-1].endswith("what is RFA?")
    assert is_question("any options?") and is_question("Tell me about SCS") and not is_question("my back hurts")


@pytest.mark.parametrize("text, response, words", [
    ("does the spinal cord stimulator hurt?", "utter_followup_hurt", "mild buzzing"),
    ("how long does radiofrequency ablation last", "utter_followup_duration", "months of relief"),
    ("is the pain pump an operation?", "utter_followup_procedure", "implanted pump"),
    # a question about one aspect of a named treatment gets that aspect, not the treatment's stock paragraph
    ("are epidural steroid injections painful?", "utter_followup_hurt", "epidural steroid injections"),
    ("what is the chance that spinal cord stimulation works for me?", "utter_followup_effectiveness", ""),
    ("can an intrathecal pump be removed later on?", "utter_followup_procedure", "pump"),
    ("what's the healing time after adhesiolysis?", "utter_followup_duration", "adhesiolysis"),
])
def test_a_follow_up_that_names_its_treatment_is_answered_about_it(chat, text, response, words):
    replies = chat.send(chat.new_sender("followup-named"), text)
    assert [r["metadata"]["response"] for r in replies] == [response]
    assert words in replies[0]["text"]


def test_a_practical_question_the_pages_do_not_cover_is_said_so_with_the_clinic(chat, clinic_values):
    replies = chat.send(chat.new_sender("followup-silent"), "which make of stimulator battery do you fit and how often do I charge it?")
    assert [r["metadata"]["response"] for r in replies] == ["utter_edu_not_in_pages"]
    assert clinic_values["clinic_phone"] in replies[0]["text"]


def test_a_thing_the_pages_never_name_is_said_so_without_another_topics_paragraph(chat, clinic_values):
    replies = chat.send(chat.new_sender("unmentioned"), "is chiropractic care any good for failed back syndrome?")
    assert [r["metadata"]["response"] for r in replies] == ["utter_edu_not_in_pages"]
    assert replies[0]["text"].startswith("The clinic's pages don't mention \"chiropractic\"")
    assert clinic_values["clinic_phone"] in replies[0]["text"]


def test_follow_ups_about_the_condition_itself_get_the_pages_answer_not_which_treatment(chat):
    sender = chat.new_sender("followup-condition")
    replies = [chat.send(sender, text) for text in ["what does post laminectomy syndrome mean", "does it hurt?", "will it last forever?"]]
    assert [[r["metadata"]["response"] for r in turn] for turn in replies] == [
        ["utter_edu_definition"], ["utter_followup_hurt"], ["utter_followup_duration"],
    ]
    # the replies are the symptoms and the outlook answers (bot.nlg, data/knowledge/condition_followups.yml)
    assert replies[1][0]["text"].startswith("The main symptom is back pain that goes on after surgery")
    assert replies[2][0]["text"].startswith("Living with pain after back surgery can feel overwhelming")


def test_follow_ups_after_the_list_of_treatments_are_about_the_list(chat):
    sender = chat.new_sender("followup-list")
    replies = [chat.send(sender, text) for text in ["how is failed back surgery syndrome treated?", "do any of them need an implant?", "does it hurt?"]]
    assert [[r["metadata"]["response"] for r in turn] for turn in replies] == [
        ["utter_edu_treatments"], ["utter_followup_procedure"], ["utter_followup_hurt"],
    ]
    assert "spinal cord stimulation and the pain medicine pump" in replies[1][0]["text"]
    assert replies[2][0]["text"].startswith("Which treatment do you mean?")  # one of them, not the list
