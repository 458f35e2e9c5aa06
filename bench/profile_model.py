"""Inside one trained model, in-process: where each turn's time goes, and how accurate the NLU is.

`python -m bench.profile_model MODEL.tar.gz` prints a last line `PROFILE {json}` with:
- `nodes_ms`: mean time per message of every graph node that ran (spaCy, featurizers, classifier,
  the red-flag detector, each policy...), measured by timing Rasa's GraphNode calls;
- `parse_ms` (NLU only) and `turn_ms` (NLU + policies + response, in-memory tracker, no HTTP);
- `red_flag_ms`: the red-flag detector's time per message (None if the model has none);
- `heldout`: intent accuracy on the held-out sets under tests/data/; `red_flags`: recall (same tier /
  any tier) and false-positive rate on the red-flag phrasings in tests/data/red_flags/.
Run as a separate process so the benchmark's own process never imports TensorFlow.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional

from bot.paths import ROOT

HELDOUT_GLOB = "tests/data/**/heldout*.yml"
RED_FLAG_SETS = "tests/data/red_flags"


class NodeTimer:
    """Wraps rasa.engine.graph.GraphNode.__call__ to add up the time spent in each node."""

    def __init__(self) -> None:
        from rasa.engine.graph import GraphNode

        self.totals: Dict[str, float] = defaultdict(float)
        self.calls: Dict[str, int] = defaultdict(int)
        original = GraphNode.__call__
        timer = self

        def timed_call(node, *inputs):
            started = time.perf_counter()
            try:
                return original(node, *inputs)
            finally:
                timer.totals[node._node_name] += time.perf_counter() - started
                timer.calls[node._node_name] += 1

        GraphNode.__call__ = timed_call

    def reset(self) -> None:
        self.totals.clear()
        self.calls.clear()

    def per_message_ms(self, messages: int) -> Dict[str, float]:
        return {name: round(total * 1000 / messages, 3) for name, total in sorted(self.totals.items(), key=lambda kv: -kv[1])}


def red_flag_node(names: List[str]) -> Optional[str]:
    return next((n for n in names if re.search(r"red_?flag", n, re.IGNORECASE)), None)


def load_heldout() -> List[Dict[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    examples = []
    for path in sorted(ROOT.glob(HELDOUT_GLOB)):
        data = load_data(str(path))
        for message in data.intent_examples:
            examples.append({"text": message.get("text"), "intent": message.get("intent"), "file": str(path.relative_to(ROOT))})
    return examples


def load_red_flag_sets() -> Dict[str, list]:
    """The red-flag test phrasings: positives (with the tier the reply must have) and negatives."""
    import yaml

    folder = ROOT / RED_FLAG_SETS
    if not folder.is_dir():
        return {"positives": [], "negatives": []}

    def read(name: str, key: str) -> list:
        return yaml.safe_load((folder / name).read_text(encoding="utf-8"))[key] if (folder / name).exists() else []

    return {"positives": read("positives.yml", "positives"), "negatives": read("negatives.yml", "negatives")}


def score(predictions: List[Dict[str, str]]) -> Dict[str, object]:
    correct = sum(p["predicted"] == p["intent"] for p in predictions)
    return {
        "examples": len(predictions),
        "accuracy": round(correct / len(predictions), 4) if predictions else None,
        "files": sorted({p["file"] for p in predictions}),
    }


def score_red_flags(positives: List[Dict[str, str]], negatives: List[str]) -> Dict[str, object]:
    """positives: [{tier, predicted}], negatives: [predicted]. Same tier = the reply the person needs.

    An alarm is a tier intent (red_flag_emergency, ...), taken from the tiers the positives use: other
    red_flag_* intents (the person saying they do NOT have a symptom) are not alarms."""
    alarms = {f"red_flag_{p['tier'].lower()}" for p in positives}
    same_tier = sum(p["predicted"] == f"red_flag_{p['tier'].lower()}" for p in positives)
    any_tier = sum(p["predicted"] in alarms for p in positives)
    false_alarms = sum(n in alarms for n in negatives)
    return {
        "positives": len(positives),
        "recall_same_tier": round(same_tier / len(positives), 4) if positives else None,
        "recall_any_tier": round(any_tier / len(positives), 4) if positives else None,
        "negatives": len(negatives),
        "false_positive_rate": round(false_alarms / len(negatives), 4) if negatives else None,
    }


async def profile(model: Path, turns: List[str]) -> Dict[str, object]:
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    timer = NodeTimer()
    started = time.perf_counter()
    agent = Agent.load(str(model), generator=EndpointConfig(type="bot.nlg.ClinicNLG"))
    load_s = time.perf_counter() - started

    for text in turns[:10]:  # warm-up
        await agent.parse_message(text)
    timer.reset()
    started = time.perf_counter()
    for text in turns:
        await agent.parse_message(text)
    parse_ms = (time.perf_counter() - started) * 1000 / len(turns)
    nlu_nodes = timer.per_message_ms(len(turns))

    timer.reset()
    started = time.perf_counter()
    for n, text in enumerate(turns):
        await agent.handle_text(text, sender_id=f"profile-{n // 6}")
    turn_ms = (time.perf_counter() - started) * 1000 / len(turns)
    turn_nodes = timer.per_message_ms(len(turns))

    async def intent(text: str) -> str:
        return ((await agent.parse_message(text)).get("intent") or {}).get("name") or ""

    predictions = [{**example, "predicted": await intent(example["text"])} for example in load_heldout()]
    red_flag_sets = load_red_flag_sets()
    positives = [{"tier": case["tier"], "text": case["text"], "predicted": await intent(case["text"])}
                 for case in red_flag_sets["positives"]]
    negatives = [await intent(text) for text in red_flag_sets["negatives"]]

    flag_node = red_flag_node(list(nlu_nodes))
    return {
        "model": str(model),
        "load_s": round(load_s, 2),
        "parse_ms": round(parse_ms, 3),
        "turn_ms": round(turn_ms, 3),
        "red_flag_node": flag_node,
        "red_flag_ms": nlu_nodes.get(flag_node) if flag_node else None,
        "nodes_ms": turn_nodes,
        "heldout": score(predictions),
        "red_flags": score_red_flags(positives, negatives),
        "misses": [p for p in predictions if p["predicted"] != p["intent"]][:200],
        "red_flag_misses": [p for p in positives if p["predicted"] != f"red_flag_{p['tier'].lower()}"][:100],
    }


def main(argv: List[str]) -> int:
    from rasa.utils.log_utils import configure_structlog

    logging.disable(logging.WARNING)
    configure_structlog(logging.WARNING)  # Rasa's per-message debug lines would be timed too
    from bench.load import conversation_script

    model = Path(argv[0])
    turns = [t for person in range(8) for t in conversation_script(person, 30)]
    result = asyncio.run(profile(model, turns))
    print("PROFILE " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
