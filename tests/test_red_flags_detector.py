"""The deterministic red-flag detector on its own (no Rasa): recall, false positives, negation
in both directions, treatment questions, typos, and the shape of what it reports."""
from __future__ import annotations

import pytest

import red_flag_cases as cases
from bot.nlu.red_flag_matcher import RedFlagMatcher


@pytest.fixture(scope="module")
def detector() -> RedFlagMatcher:
    # validate=True: every compiled pattern is checked against spaCy's Matcher schema
    return RedFlagMatcher(validate=True)


def classify_with(detector):
    def classify(text):
        detection = detector.detect(text)
        return detection.tier, detection.categories

    return classify


def test_data_sets_are_large_enough_and_cover_every_category(detector):
    positives, negatives = cases.positives(), cases.negatives()
    assert len(positives) >= 200 and len(negatives) >= 120
    assert {p["category"] for p in positives} == set(detector.categories)
    assert {p["tier"] for p in positives} == {"EMERGENCY", "CRISIS", "URGENT"}


def test_every_positive_is_found_with_its_tier_and_category(detector):
    result = cases.score(classify_with(detector))
    print(result.report("detector"))
    assert not result.misses, result.report("detector")


def test_false_positives_on_negatives_stay_under_two_percent(detector):
    result = cases.score(classify_with(detector))
    print(result.report("detector"))
    assert result.false_positive_rate <= cases.MAX_FALSE_POSITIVE_RATE, result.report("detector")


@pytest.mark.parametrize(
    "text",
    [
        "no bladder problems",
        "I don't have numbness",
        "my bladder is fine",
        "bladder is ok now",
        "I have not lost control of my bowels",
        "I've never wet myself",
        "no fever",
        "I'm not suicidal",
        "I had a fever after surgery but it went away",
    ],
)
def test_negated_or_resolved_symptoms_are_not_flagged(detector, text):
    detection = detector.detect(text)
    assert detection.tier is None, detection


@pytest.mark.parametrize(
    "text, category",
    [
        ("I can't control my bladder", "bladder_control"),
        ("I have no control of my bowels", "bowel_control"),  # "no control" is the symptom
        ("I can't feel my legs", "leg_weakness_both"),
        ("No I wet myself again", "bladder_control"),  # an answering "no" negates nothing
        ("not sure whats going on, i peed myself", "bladder_control"),
        ("I don't know why but I can't pee", "urinary_retention"),
        ("I ain't got no control over my bladder", "bladder_control"),  # emphatic double negative
        ("I never thought this would happen but I soiled myself", "bowel_control"),
    ],
)
def test_negation_words_that_are_part_of_the_symptom_still_flag(detector, text, category):
    detection = detector.detect(text)
    assert category in detection.categories, detection


@pytest.mark.parametrize(
    "text",
    [
        "will a stimulator affect my bladder?",
        "can RFA cause numbness?",
        "can the spinal cord stimulator cause loss of bladder control?",
        "could the nerve block make my legs weak?",
        "is there a risk of paralysis with a second surgery?",
        "how do I prevent blood clots?",
    ],
)
def test_questions_about_treatments_do_not_fire_the_emergency(detector, text):
    assert detector.detect(text).tier != "EMERGENCY"


def test_a_treatment_question_followed_by_a_report_is_a_report(detector):
    detection = detector.detect("can the stimulator cause loss of bladder control? that's what is happening to me")
    assert detection.tier == "EMERGENCY"


@pytest.mark.parametrize(
    "text, category",
    [
        ("my bladdder is leaking", "bladder_control"),
        ("im incontinant", "bladder_control"),
        ("cnt pee", "urinary_retention"),
        ("legs r numm", "leg_weakness_both"),
        ("I'm paralized", "leg_weakness_both"),
        ("sucidal", "suicidal_thoughts"),
        ("my insicion is oozing", "wound_problem"),
        ("PEEEED MYSELF", "bladder_control"),
    ],
)
def test_typos_and_sms_spellings(detector, text, category):
    assert category in detector.detect(text).categories


@pytest.mark.parametrize("word", ["anything", "ladder", "never", "dumb", "sound", "clever", "revision"])
def test_common_words_are_not_corrected_into_symptom_words(detector, word):
    assert detector.text.correct(word) is None


def test_a_symptom_buried_in_a_very_long_message_is_found(detector):
    filler = "I have been doing my exercises and the pain is about the same as last week. " * 200
    text = filler + "Since this morning I can't feel the toilet paper when I wipe. " + filler
    assert len(text) > 20_000 - 5000
    detection = detector.detect(text)
    assert detection.tier == "EMERGENCY" and "saddle_numbness" in detection.categories


def test_findings_point_at_the_words_in_the_message(detector):
    text = "Hi, so since yesterday I peed myself twice and I dont want to live like this"
    detection = detector.detect(text)
    assert [f.tier for f in detection.findings] == ["EMERGENCY", "CRISIS"]  # highest tier first
    for finding in detection.findings:
        assert text[finding.start:finding.end] == finding.text
    assert detection.findings[1].text.startswith("dont")  # whole words, not "nt want"


def test_ruled_out_matches_say_why(detector):
    detection = detector.detect("I don't have numbness in my legs")
    assert detection.tier is None
    assert [r.reason for r in detection.ruled_out] == ["negated"]


@pytest.mark.parametrize("case", cases.about_red_flags(), ids=lambda c: c["text"][:40])
def test_questions_about_warning_signs_if_flagged_get_the_right_tier(detector, case):
    tier = detector.detect(case["text"]).tier
    assert tier in (None, case["tier"])


def test_summary_in_plain_words_leaves_crisis_to_its_own_message(detector):
    both = detector.detect("I peed myself and I want to die")
    assert detector.summary(both) == detector.categories["bladder_control"].summary
    urgent_and_emergency = detector.detect("I have a fever and I can't feel my legs")
    assert detector.summary(urgent_and_emergency) == (
        detector.categories["leg_weakness_both"].summary + " and " + detector.categories["fever_or_chills"].summary
    )


def test_an_enormous_single_word_is_read_quickly_and_finds_nothing():
    """A 19,000-letter 'word' must not go through typo correction (its deletions would fill memory)."""
    matcher = RedFlagMatcher.shared()
    for unit in ("背痛", "ab", "déjà"):
        assert matcher.detect((unit * 10_000)[:19_000]).findings == []
