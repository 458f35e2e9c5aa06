"""The leaner logistic-regression predict (bot/nlu/lean_logistic_regression.py) gives Rasa's exact answers."""
from __future__ import annotations

import copy

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.training_data.loading import load_data

from bot.nlu.lean_logistic_regression import LeanLogisticRegressionClassifier
from bot.paths import ROOT
from conftest import graph_component


def heldout_texts() -> list:
    texts = []
    for path in sorted((ROOT / "tests" / "data").glob("**/heldout*.yml")):
        texts += [m.get("text") for m in load_data(str(path)).intent_examples]
    return texts + ["x", "🙂🙂", "I CAN'T FEEL MY LEGS!!!", "asdfgh qwerty", "what about " * 200]


@pytest.fixture(scope="module")
def featurized(agent):
    """Messages as the classifier receives them: run through the model's graph up to the classifier's inputs."""
    runner = agent.processor.graph_runner
    schema = runner._graph_schema
    classifier_node = next(n for n, node in schema.nodes.items() if node.uses is LeanLogisticRegressionClassifier)
    feeding_node = schema.nodes[classifier_node].needs["messages"]
    texts = heldout_texts()
    results = runner.run(inputs={"__message__": [UserMessage(t) for t in texts]}, targets=[feeding_node])
    return list(zip(texts, results[feeding_node]))


def test_the_model_uses_the_lean_classifier(agent):
    assert isinstance(graph_component(agent, "LeanLogisticRegressionClassifier"), LogisticRegressionClassifier)


def test_every_heldout_sentence_gets_rasas_exact_ranking(agent, featurized):
    classifier = graph_component(agent, "LeanLogisticRegressionClassifier")
    assert classifier._is_multinomial()
    assert len(featurized) > 700
    for text, message in featurized:
        ours, rasas = copy.deepcopy(message), copy.deepcopy(message)
        classifier.process([ours])
        LogisticRegressionClassifier.process(classifier, [rasas])
        assert ours.get("intent") == rasas.get("intent"), text
        assert ours.get("intent_ranking") == rasas.get("intent_ranking"), text  # same names, same floats, same order
        assert len(ours.get("intent_ranking")) == classifier.config["ranking_length"]


def test_a_configuration_it_does_not_cover_uses_rasas_own_code(agent, featurized):
    classifier = copy.copy(graph_component(agent, "LeanLogisticRegressionClassifier"))
    classifier.clf = copy.deepcopy(classifier.clf)
    classifier.clf.multi_class = "ovr"  # one-vs-rest: a different predict_proba
    text, message = featurized[0]
    ours, rasas = copy.deepcopy(message), copy.deepcopy(message)
    classifier.process([ours])
    LogisticRegressionClassifier.process(classifier, [rasas])
    assert ours.get("intent_ranking") == rasas.get("intent_ranking")
