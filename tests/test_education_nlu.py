"""Does the trained model understand education questions written by people it never saw?

The held-out sets (tests/data/education/heldout*.yml) are never trained on. Accuracy must be at
least 95%; the test prints per-topic accuracy and the confusion pairs so a failure says what to fix.
"""
from __future__ import annotations

import collections
import re
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
import yaml

from bot import knowledge
from bot.paths import ROOT

HELDOUT_FILES = sorted((ROOT / "tests" / "data" / "education").glob("heldout*.yml"))
TRAINING_FILES = sorted((ROOT / "data" / "nlu").glob("*.yml"))
MIN_ACCURACY = 0.95
MIN_TOPIC_ACCURACY = 0.7  # no single topic may be mostly misunderstood
KB = knowledge.load()
# Symptom questions whose own answer carries the emergency instruction: if the deterministic
# red-flag layer escalates one of them to an emergency/urgent reply, the person still gets the
# safety message (the design prefers a false alarm to a miss). Counted and printed separately.
ESCALATION_OK = {i for i, t in KB.topics.items() if t.answer in KB.safety_policy}


def examples(path: Path) -> List[Tuple[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = []
    for block in data.get("nlu", []):
        if "intent" in block:
            out += [(block["intent"], line[2:].strip()) for line in block["examples"].splitlines() if line.strip()]
    return out


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", text.lower()).split())


HELDOUT = [ex for path in HELDOUT_FILES for ex in examples(path)]


def first_answers() -> Dict[str, str]:
    """intent -> the response a rule answers it with, when a rule starts with that intent alone."""
    answers: Dict[str, str] = {}
    for path in sorted((ROOT / "data" / "rules").glob("*.yml")):
        for rule in yaml.safe_load(path.read_text(encoding="utf-8")).get("rules") or []:
            steps = rule.get("steps") or []
            if len(steps) >= 2 and "intent" in steps[0] and "action" in steps[1] and not rule.get("condition"):
                answers.setdefault(steps[0]["intent"], steps[1]["action"])
    return answers


ANSWERS = first_answers()


def same_answer(expected: str, parsed: Dict) -> bool:
    """The person reads the answer that was meant: the same response ("what else is there?" lists the
    treatments), or a follow-up about the very treatment asked about ("how long does RFA last?" answered
    with RFA's duration, bot.nlu.clause_focus)."""
    got = parsed["intent"]["name"]
    if got in ANSWERS and ANSWERS.get(got) == ANSWERS.get(expected):
        return True
    topics = {e.get("value") for e in parsed.get("entities") or [] if e.get("entity") == "topic"}
    return got.startswith("followup_") and expected in topics


def test_heldout_is_separate_from_training():
    training = {normalise(text) for path in TRAINING_FILES for _, text in examples(path)}
    leaked = [text for _, text in HELDOUT if normalise(text) in training]
    assert not leaked, f"held-out sentences also in the training data: {leaked}"


def test_enough_examples_per_topic():
    trained = collections.Counter(intent for path in TRAINING_FILES for intent, _ in examples(path))
    held = collections.Counter(intent for intent, _ in HELDOUT)
    for intent in list(KB.topics) + ["tell_me_more", "ask_risks"]:
        assert trained[intent] >= 20, f"{intent}: only {trained[intent]} training examples"
        assert held[intent] >= 8, f"{intent}: only {held[intent]} held-out examples"


def test_heldout_accuracy(nlu, artifacts_dir):
    per_topic: Dict[str, List[int]] = collections.defaultdict(lambda: [0, 0])
    confusions: Dict[Tuple[str, str], List[str]] = collections.defaultdict(list)
    escalated, swallowed = [], []
    for expected, text in HELDOUT:
        parsed = nlu(text)
        got = parsed["intent"]["name"]
        ok = got == expected or same_answer(expected, parsed) or (expected in ESCALATION_OK and got.startswith("red_flag_"))
        if ok and got != expected:
            escalated.append(f"{text!r} -> {got}")
        if got == "nlu_fallback":
            runner_up = parsed["intent_ranking"][1]["name"] if len(parsed["intent_ranking"]) > 1 else "?"
            swallowed.append(f"{text!r} (best guess {runner_up})")
        per_topic[expected][1] += 1
        if ok:
            per_topic[expected][0] += 1
        else:
            confusions[(expected, got)].append(text)

    total = len(HELDOUT)
    correct = sum(c for c, _ in per_topic.values())
    lines = [f"held-out accuracy {correct}/{total} = {correct / total:.3f} ({len(HELDOUT_FILES)} files)"]
    lines.append(f"swallowed by the fallback classifier: {len(swallowed)}")
    lines += [f"  {s}" for s in swallowed]
    lines.append(f"escalated by the red-flag layer (accepted): {len(escalated)}")
    lines += [f"  {s}" for s in escalated]
    lines.append("confusions (expected -> got: examples):")
    for (expected, got), texts in sorted(confusions.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"  {expected} -> {got}: {len(texts)}  {texts}")
    lines.append("weakest topics:")
    for intent, (c, n) in sorted(per_topic.items(), key=lambda kv: kv[1][0] / kv[1][1])[:6]:
        lines.append(f"  {intent}: {c}/{n}")
    report = "\n".join(lines)
    print(report)
    (artifacts_dir / "education_heldout.txt").write_text(report + "\n", encoding="utf-8")

    assert correct / total >= MIN_ACCURACY, report
    weak = {i: f"{c}/{n}" for i, (c, n) in per_topic.items() if c / n < MIN_TOPIC_ACCURACY}
    assert not weak, f"topics mostly misunderstood: {weak}\n{report}"


BUTTON_QUESTIONS = {  # the words our buttons send must land on the topic the button names
    "What causes post-laminectomy syndrome?": "edu_causes",
    "How is post-laminectomy syndrome treated?": "edu_treatments",
    "What are the symptoms?": "edu_symptoms",
    "How is it diagnosed?": "edu_diagnosis",
    "What is post-laminectomy syndrome?": "edu_definition",
    "Why does the pain continue after surgery?": "edu_why_pain_persists",
    "What is spinal cord stimulation?": "edu_treatment_scs",
    "What are epidural steroid injections?": "edu_treatment_esi",
    "What is adhesiolysis?": "edu_treatment_adhesiolysis",
    "What symptoms are an emergency?": "edu_warning_signs",
    "please call me back": "request_callback",
}


def test_every_button_question_is_covered():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    sent = {
        b["payload"]
        for name, variants in domain["responses"].items() if name.startswith("utter_edu_")
        for b in variants[0].get("buttons", [])
    }
    uncovered = sent - set(BUTTON_QUESTIONS) - {"How do I contact the clinic?"}
    assert not uncovered, f"add these button questions to BUTTON_QUESTIONS: {uncovered}"


@pytest.mark.parametrize("question,intent", sorted(BUTTON_QUESTIONS.items()))
def test_button_questions_are_understood(nlu, question, intent):
    parsed = nlu(question)
    assert parsed["intent"]["name"] == intent and parsed["intent"]["confidence"] >= 0.6, parsed["intent"]


def test_contact_button_goes_to_the_clinic_handoff(nlu):
    assert nlu("How do I contact the clinic?")["intent"]["name"].startswith("handoff_")
