"""The TensorFlow-free Rasa launcher (bot/rasa_launcher.py): same answers, no TensorFlow, only when safe."""
from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from bot.paths import ROOT
from bot.rasa_launcher import model_components, needs_tensorflow, tensorflow_free
from bot.stack import Stack, free_port
from scale_support import is_failure_reply, post, reply_texts

pytestmark = pytest.mark.timeout(600)

MESSAGES = [
    "hi",
    "I suddenly can't control my bladder",
    "what is spinal cord stimulation",
    "how do I contact the clinic",
    "asdfgh qwerty",
]


def test_this_products_model_needs_no_tensorflow(model_path):
    components = model_components(model_path)
    assert "bot.policies.indexed_rule_policy.IndexedRulePolicy" in components
    assert not needs_tensorflow(components), sorted(components)


def test_models_with_tensorflow_components_keep_the_real_tensorflow():
    assert needs_tensorflow({"rasa.nlu.classifiers.diet_classifier.DIETClassifier", "rasa.nlu.utils.spacy_utils.SpacyNLP"})
    assert needs_tensorflow({"rasa.core.policies.ted_policy.TEDPolicy"})
    assert needs_tensorflow({"someone_elses.components.Unknown"})


def test_training_skips_tensorflow_only_for_configs_that_need_none(tmp_path):
    assert tensorflow_free(["train", "--config", str(ROOT / "config.yml"), "--domain", "domain.yml"])
    assert not tensorflow_free(["train", "--config", str(ROOT / "bench" / "peer_config.yml")])  # empty: DIET, TED
    with_diet = tmp_path / "diet.yml"
    with_diet.write_text("pipeline:\n  - name: WhitespaceTokenizer\n  - name: DIETClassifier\n"
                         "policies:\n  - name: RulePolicy\n", encoding="utf-8")
    assert not tensorflow_free(["train", "--config", str(with_diet)])
    no_policies = tmp_path / "no_policies.yml"
    no_policies.write_text("pipeline:\n  - name: WhitespaceTokenizer\n", encoding="utf-8")
    assert not tensorflow_free(["train", "--config", str(no_policies)])  # Rasa's default policies include TED
    assert not tensorflow_free(["train", "--config", str(tmp_path / "missing.yml")])


def test_the_lean_server_answers_exactly_like_plain_rasa_run_without_loading_tensorflow(stack, tmp_path):
    """The stack starts Rasa through the launcher by default; `rasa run` itself (with TensorFlow) must agree."""
    assert stack.cfg.lean_rasa
    lean = stack.services[[s.name for s in stack.services].index("rasa server")].process
    assert "tensorflow" not in Path(f"/proc/{lean.pid}/maps").read_text(), "the lean Rasa server loaded TensorFlow"
    plain_cfg = replace(stack.cfg, rasa_port=free_port(), lean_rasa=False, with_web=False, with_console=False,
                        database_url=f"sqlite:///{tmp_path / 'plain.db'}", log_dir=tmp_path / "logs")
    plain = Stack(plain_cfg)
    plain.services = [s for s in plain.services if s.name == "rasa server"]  # reuse the running action server
    with plain:
        assert "tensorflow" in Path(f"/proc/{plain.services[0].process.pid}/maps").read_text()
        for text in MESSAGES:
            lean_reply = reply_texts(post(stack.cfg.rasa_url, f"lean-{uuid.uuid4().hex[:8]}", text))
            plain_reply = reply_texts(post(plain_cfg.rasa_url, f"plain-{uuid.uuid4().hex[:8]}", text))
            assert lean_reply == plain_reply, (text, lean_reply, plain_reply)
            assert not is_failure_reply(lean_reply), text
