"""`python -m bot.rasa_launcher run|train ...` = `rasa run|train ...`, without loading TensorFlow when the
model (or, for training, the config) needs none,
with models run by bot.sequential_runner instead of dask, and bot.rasa_speedups' exact replacements
for two of Rasa's per-turn hot spots (same results, less overhead per turn).

Rasa 3.6 imports TensorFlow at start-up (through its policy and featurizer base modules) even when no
component of the model uses it; that costs about 350 MB of memory per Rasa server and seconds of
start-up. When every component of the trained model is known to be TensorFlow-free (this product's
pipeline: spaCy, count vectors, logistic regression, fallback, our red-flag detector, rules and
memoization), TensorFlow imports get inert stand-ins. Any other model (DIET, TED, ...) runs with the
real TensorFlow, unchanged. spaCy/thinc are imported first with TensorFlow hidden, so they never see
the stand-ins.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import os
import sys
import tarfile
import types
from pathlib import Path
from typing import List, Optional, Set

# Rasa components that never touch TensorFlow at prediction time.
TF_FREE_RASA_COMPONENTS = {
    "rasa.core.policies.ensemble.DefaultPolicyPredictionEnsemble",
    "rasa.core.policies.memoization.MemoizationPolicy",
    "rasa.core.policies.memoization.AugmentedMemoizationPolicy",
    "rasa.core.policies.rule_policy.RulePolicy",
    "rasa.graph_components.converters.nlu_message_converter.NLUMessageConverter",
    "rasa.graph_components.providers.domain_provider.DomainProvider",
    "rasa.graph_components.providers.rule_only_provider.RuleOnlyDataProvider",
    "rasa.graph_components.providers.domain_for_core_training_provider.DomainForCoreTrainingProvider",
    "rasa.nlu.classifiers.fallback_classifier.FallbackClassifier",
    "rasa.nlu.classifiers.logistic_regression_classifier.LogisticRegressionClassifier",
    "rasa.nlu.classifiers.keyword_intent_classifier.KeywordIntentClassifier",
    "rasa.nlu.classifiers.regex_message_handler.RegexMessageHandler",
    "rasa.nlu.classifiers.sklearn_intent_classifier.SklearnIntentClassifier",
    "rasa.nlu.extractors.entity_synonyms.EntitySynonymMapper",
    "rasa.nlu.extractors.regex_entity_extractor.RegexEntityExtractor",
    "rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer.CountVectorsFeaturizer",
    "rasa.nlu.featurizers.sparse_featurizer.lexical_syntactic_featurizer.LexicalSyntacticFeaturizer",
    "rasa.nlu.featurizers.sparse_featurizer.regex_featurizer.RegexFeaturizer",
    "rasa.nlu.featurizers.dense_featurizer.spacy_featurizer.SpacyFeaturizer",
    "rasa.nlu.tokenizers.spacy_tokenizer.SpacyTokenizer",
    "rasa.nlu.tokenizers.whitespace_tokenizer.WhitespaceTokenizer",
    "rasa.nlu.utils.spacy_utils.SpacyNLP",
}
OWN_COMPONENT_PREFIX = "bot."  # this project's components import no TensorFlow
TF_MODULES = ("tensorflow", "tensorflow_addons", "tensorflow_text", "tensorflow_hub", "tensorflow_probability", "keras")


def rasa_command_prefix(lean: bool = True) -> List[str]:
    """How to start a Rasa command (`run`, `train`, ...): through this launcher, or as plain `rasa`."""
    return [sys.executable, "-m", "bot.rasa_launcher"] if lean else [str(Path(sys.executable).with_name("rasa"))]


def model_components(model: Path) -> Set[str]:
    """The component classes a trained model runs at prediction time (from its metadata.json)."""
    with tarfile.open(model, "r:gz") as archive:
        member = next(m for m in archive.getmembers() if m.name.lstrip("/") == "metadata.json")
        extracted = archive.extractfile(member)
        if extracted is None:
            raise ValueError(f"{model}: metadata.json is not a file")
        metadata = json.load(extracted)
    return {node["uses"] for node in metadata["predict_schema"]["nodes"].values()}


def needs_tensorflow(components: Set[str]) -> bool:
    # BOT_TF_FREE_COMPONENTS: more component classes (comma-separated) an operator vouches for.
    vouched = {c.strip() for c in os.environ.get("BOT_TF_FREE_COMPONENTS", "").split(",") if c.strip()}
    return any(c not in TF_FREE_RASA_COMPONENTS | vouched and not c.startswith(OWN_COMPONENT_PREFIX) for c in components)


class _Inert(type):
    """A stand-in for any TensorFlow name: usable as a base class, decorator, call or attribute."""

    def __getattr__(cls, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Inert(name, (), {})

    def __call__(cls, *args, **kwargs):
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return args[0]  # used as a decorator (e.g. @tf.function): keep the function
        return _Inert("result", (), {})


class _InertModule(types.ModuleType):
    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Inert(name, (), {})


class _InertTensorFlowFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        if fullname.split(".")[0] in TF_MODULES:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _InertModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module) -> None:
        pass


def install_inert_tensorflow() -> None:
    for name in TF_MODULES:  # spaCy and thinc must see "no TensorFlow installed", not stand-ins
        sys.modules[name] = None  # type: ignore[assignment]
    import spacy  # noqa: F401
    import thinc.api  # noqa: F401

    for name in TF_MODULES:
        del sys.modules[name]
    sys.meta_path.insert(0, _InertTensorFlowFinder())


def freeze_garbage_collection_after_model_load() -> None:
    """Once the model is loaded, exempt everything loaded so far from Python's garbage collector.

    The loaded server holds about 340,000 container objects (Rasa, spaCy, the rules, the domain)
    that live as long as the process. Each full collection scanned all of them: about 180 ms during
    which no one got an answer (the p99 latency). gc.freeze() moves them out of the collector's
    view; conversation objects are still collected as usual.
    """
    import gc

    import rasa.core.run

    original = rasa.core.run.load_agent_on_start

    async def load_then_freeze(*args, **kwargs):
        agent = await original(*args, **kwargs)
        gc.collect()
        gc.freeze()
        return agent

    rasa.core.run.load_agent_on_start = load_then_freeze


def path_argument(argv: List[str], *flags: str) -> Optional[Path]:
    """The path given after the first of these flags on the command line, if any."""
    for flag in flags:
        if flag in argv and argv.index(flag) + 1 < len(argv):
            return Path(argv[argv.index(flag) + 1])
    return None


def config_components(config: Path) -> Optional[Set[str]]:
    """The component classes a config.yml names (pipeline and policies), as full class paths where
    Rasa's short name is a known one (unknown short names are kept as they are); None when the
    pipeline or the policies are left empty, which means Rasa's defaults (DIET, TED: TensorFlow)."""
    import yaml

    content = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    if not content.get("pipeline") or not content.get("policies"):
        return None
    known = {path.rsplit(".", 1)[1]: path for path in TF_FREE_RASA_COMPONENTS}
    return {known.get(item.get("name", ""), item.get("name", "")) for key in ("pipeline", "policies") for item in content[key]}


def tensorflow_free(argv: List[str]) -> bool:
    """Whether this Rasa command can run without TensorFlow: serving a model whose components are
    all TensorFlow-free, or training a config whose components are."""
    if argv and argv[0] == "train":
        config = path_argument(argv, "--config", "-c") or Path("config.yml")
        components = config_components(config) if config.is_file() else None
        return components is not None and not needs_tensorflow(components)
    model = path_argument(argv, "--model", "-m")
    return bool(model and model.is_file() and not needs_tensorflow(model_components(model)))


def main(argv: Optional[List[str]] = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if tensorflow_free(argv):
        install_inert_tensorflow()
    from rasa.__main__ import main as rasa_main

    from bot import rasa_speedups
    from bot.sequential_runner import use_for_rasa_models

    use_for_rasa_models()
    rasa_speedups.install()
    freeze_garbage_collection_after_model_load()

    sys.argv = ["rasa", *argv]
    rasa_main()


if __name__ == "__main__":
    main()
