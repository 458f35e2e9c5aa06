"""Education answers: every one is tied to a real section of the clinic's source pages, and reads
the way a patient needs it to (short, plain, no doses or numbers, no promises, safety line present).

The knowledge map is data/knowledge/sources.yml; the source pages are stored next to it.
"""
from __future__ import annotations

import re
from typing import Dict, List

import pytest
import yaml

from bot import knowledge
from bot.paths import ROOT

KB = knowledge.load()
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
RESPONSES: Dict[str, List[dict]] = DOMAIN["responses"]
EDU_RESPONSES = sorted(name for name in RESPONSES if name.startswith("utter_edu_"))
TEACHING = sorted(KB.answers)
RULES = yaml.safe_load((ROOT / "data" / "rules" / "education.yml").read_text(encoding="utf-8"))["rules"]
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

MAX_GRADE = 9.5          # Flesch-Kincaid grade of any one answer
MAX_MEAN_GRADE = 8.0     # ... and on average (plain language, grade 6-8)
MAX_SENTENCE_WORDS = 30


def text_of(response: str) -> str:
    """The English answer: one text variant with no condition (a Spanish one, on slot language, may sit beside it)."""
    variants = [v for v in RESPONSES[response] if not v.get("condition")]
    spanish = [v for v in RESPONSES[response] if v.get("condition")]
    assert all(c == [{"type": "slot", "name": "language", "value": "es"}] for c in (v["condition"] for v in spanish)), response
    assert len(variants) == 1 and variants[0].get("text"), f"{response} should have one English text variant"
    return variants[0]["text"]


# --- readability helpers (a plain syllable heuristic; no extra packages) --------------------------

def sentences(text: str) -> List[str]:
    text = PLACEHOLDER.sub("the clinic", text)
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def words(text: str) -> List[str]:
    return re.findall(r"[A-Za-z][A-Za-z'’]*", PLACEHOLDER.sub("the clinic", text))


def syllables(word: str) -> int:
    word = re.sub(r"[^a-z]", "", word.lower())
    if len(word) <= 3:
        return 1
    word = re.sub(r"(?:[^laeiouy]es|ed|[^laeiouy]e)$", "", word)
    word = re.sub(r"^y", "", word)
    return max(1, len(re.findall(r"[aeiouy]{1,2}", word)))


def fk_grade(text: str) -> float:
    ws = words(text)
    return 0.39 * len(ws) / len(sentences(text)) + 11.8 * sum(map(syllables, ws)) / len(ws) - 15.59


def test_syllable_heuristic_is_sane():
    assert [syllables(w) for w in ("pain", "surgery", "stimulation", "the", "nerve")] == [1, 3, 4, 1, 1]
    assert fk_grade("The cat sat on the mat. It was warm.") < 3 < fk_grade(
        "Post-laminectomy syndrome encompasses heterogeneous neuropathic pain presentations.")


# --- the map itself ---------------------------------------------------------------------------------

def test_every_education_response_is_mapped():
    unmapped = [r for r in EDU_RESPONSES if r not in KB.answers and r not in KB.guidance]
    assert not unmapped, f"education responses without a source section: {unmapped}"
    missing = [r for r in list(KB.answers) + KB.guidance if r not in RESPONSES]
    assert not missing, f"knowledge map names responses that are not in domain.yml: {missing}"


@pytest.mark.parametrize("response", TEACHING)
def test_answer_cites_existing_sections(response):
    refs = KB.answers[response]
    assert refs, f"{response} cites nothing"
    for ref in refs:
        doc = KB.documents.get(str(ref["document"]))
        assert doc, f"{response} cites unknown document {ref['document']}"
        assert ref["section"] in doc.sections, f"{response} cites {ref['document']}#{ref['section']}, not a section"


@pytest.mark.parametrize("doc_id", sorted(KB.documents))
def test_listed_sections_are_headings_of_the_stored_source(doc_id):
    doc = KB.documents[doc_id]
    lines = {" ".join(line.split()) for line in doc.path.read_text(encoding="utf-8").splitlines()}  # NBSP too
    absent = [title for title in doc.sections.values() if " ".join(title.split()) not in lines]
    assert not absent, f"source {doc_id} ({doc.path.name}) has no heading line {absent}"


def test_stored_sources_hold_no_contact_literals(clinic_values):
    for doc in KB.documents.values():
        text = doc.path.read_text(encoding="utf-8")
        for key in ("clinic_phone", "clinic_email"):
            assert clinic_values[key] not in text, f"{doc.path.name} contains the {key}: it belongs in clinic.yml"
        assert not re.search(r"\(\d{3}\)\s*\d{3}-\d{4}|@\w+\.\w+", text), doc.path.name


def test_every_section_is_used_by_some_answer():
    cited = {(str(r["document"]), r["section"]) for refs in KB.answers.values() for r in refs}
    unused = [f"{d.id}#{s}" for d in KB.documents.values() for s in d.sections if (d.id, s) not in cited]
    assert not unused, f"source sections no answer covers: {unused}"


def test_topics_have_intents_answers_and_rules():
    intents = set(DOMAIN["intents"])
    answer_rules = {}
    more_rules = {}
    for rule in RULES:
        steps = rule["steps"]
        if len(steps) == 2 and "intent" in steps[0] and "action" in steps[1]:
            answer_rules[steps[0]["intent"]] = steps[1]["action"]
        if len(steps) == 3 and steps[1].get("intent") == "tell_me_more":
            more_rules[steps[0]["action"]] = steps[2]["action"]
    for topic in KB.topics.values():
        assert topic.intent in intents, f"{topic.intent} is not in domain.yml"
        assert topic.answer in RESPONSES and topic.answer in KB.answers, topic.answer
        assert answer_rules.get(topic.intent) == topic.answer, f"no rule answers {topic.intent} with {topic.answer}"
        assert more_rules.get(topic.answer) == (topic.more or "utter_edu_no_more"), f"'tell me more' after {topic.answer}"
        if topic.more:
            assert topic.more in KB.answers, topic.more
            assert more_rules.get(topic.more) == "utter_edu_no_more", f"'tell me more' after {topic.more}"
        assert "_" not in topic.title and topic.title[0].isupper(), f"unreadable title {topic.title!r}"


ISSUE_TOPICS = [  # the list in issue 4, each one must have its own answer
    "edu_definition", "edu_laminectomy", "edu_why_pain_persists", "edu_cause_scar_tissue", "edu_cause_disc",
    "edu_cause_nerve_damage", "edu_cause_adjacent_levels", "edu_cause_inflammation", "edu_cause_wrong_level",
    "edu_cause_incomplete_removal", "edu_cause_arachnoiditis", "edu_cause_mental_health", "edu_symptoms",
    "edu_symptom_radiating", "edu_symptom_tingling_weakness", "edu_symptom_nerve_sensitivity",
    "edu_symptom_heavy_legs", "edu_symptom_pain_quality", "edu_symptom_stiffness", "edu_diagnosis",
    "edu_treatments", "edu_treatment_esi", "edu_treatment_nerve_block", "edu_treatment_rfa",
    "edu_treatment_adhesiolysis", "edu_treatment_scs", "edu_treatment_intrathecal", "edu_treatment_pt",
    "edu_treatment_medications", "edu_treatment_antidepressants", "edu_treatment_opioids",
    "edu_treatment_surgery", "edu_complementary", "edu_outlook", "edu_warning_signs",
]


def test_every_issue_topic_has_a_topic_entry():
    assert not [t for t in ISSUE_TOPICS if t not in KB.topics]


# --- how the answers read ---------------------------------------------------------------------------

@pytest.mark.parametrize("response", TEACHING)
def test_answer_is_two_to_five_short_plain_sentences(response):
    text = text_of(response)
    ss = sentences(text)
    assert 2 <= len(ss) <= 5, f"{response}: {len(ss)} sentences"
    longest = max(len(words(s)) for s in ss)
    assert longest <= MAX_SENTENCE_WORDS, f"{response}: a sentence of {longest} words"
    assert fk_grade(text) <= MAX_GRADE, f"{response}: reading grade {fk_grade(text):.1f}"


def test_answers_are_plain_language_on_average():
    grades = {r: fk_grade(text_of(r)) for r in TEACHING}
    mean = sum(grades.values()) / len(grades)
    hardest = sorted(grades.items(), key=lambda kv: -kv[1])[:3]
    print(f"mean reading grade {mean:.1f}; hardest: " + ", ".join(f"{r} {g:.1f}" for r, g in hardest))
    assert mean <= MAX_MEAN_GRADE


FORBIDDEN = [
    (re.compile(r"\d"), "a number (dose, percentage, count)"),
    (re.compile(r"%|percent|\bmg\b|milligram|\bdose of\b|\btimes a day\b", re.I), "a dose or percentage"),
    (re.compile(r"\bguarantee|\bcure[sd]?\b|\bwill (?:fix|stop|cure|end)\b|\bsuccess rate|\bpermanent(?:ly)? relief", re.I),
     "a promise of outcome"),
    (re.compile(r"\byou have (?:post|pls|fbss|failed)|\byour diagnosis is\b", re.I), "a personal diagnosis"),
]


@pytest.mark.parametrize("response", EDU_RESPONSES + ["utter_ask_rephrase"])
def test_no_numbers_doses_promises_or_diagnosis(response):
    text = text_of(response)
    for pattern, what in FORBIDDEN:
        assert not pattern.search(PLACEHOLDER.sub("", text)), f"{response} contains {what}: {text}"
    for name in PLACEHOLDER.findall(text):
        assert name in {"clinic_name", "clinic_phone", "clinic_email", "emergency_number", "crisis_line"}, name


@pytest.mark.parametrize("response", KB.safety_policy)
def test_symptom_answers_carry_the_emergency_instruction(response):
    text = text_of(response).lower()
    assert "{emergency_number}" in text and "emergency room" in text, response


def test_warning_signs_answer_names_the_sources_red_flag():
    text = text_of(KB.topics["edu_warning_signs"].answer).lower()
    assert "bladder" in text and "bowel" in text and "emergency room" in text and "now" in text


@pytest.mark.parametrize("response", ["utter_edu_risks", "utter_edu_no_more"])
def test_handovers_give_the_clinic_number(response):
    assert "{clinic_phone}" in text_of(response)


def test_buttons_are_readable_and_send_plain_questions():
    for name in EDU_RESPONSES:
        for button in RESPONSES[name][0].get("buttons", []):
            assert "_" not in button["title"], (name, button)
            assert not button["payload"].startswith("/"), f"{name}: send words, so every channel can type them"
