"""bot/sequential_runner.py runs the model's graph without dask and must give exactly dask's results."""
from __future__ import annotations

import asyncio
import uuid

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner

from bot.sequential_runner import SequentialGraphRunner
from test_dialogue_indexed_rules import CONVERSATIONS

MESSAGES = ["hi", "what is post laminectomy syndrome", "I suddenly can't control my bladder", "asdfgh",
            "can someone call me back?", "I don't want to live anymore", "how much does a nerve block cost"]


def sequential_twin(runner: DaskGraphRunner) -> SequentialGraphRunner:
    """The same loaded nodes (same component instances), run without dask."""
    twin = SequentialGraphRunner.__new__(SequentialGraphRunner)
    twin.__dict__.update({k: v for k, v in runner.__dict__.items() if k.startswith("_") and k != "_plans"})
    return twin


def without_times(value):
    if isinstance(value, dict):
        return {k: without_times(v) for k, v in value.items() if k not in ("timestamp", "message_id")}
    if isinstance(value, list):
        return [without_times(v) for v in value]
    return value


@pytest.fixture(scope="module")
def runners(agent):
    dask_runner = agent.processor.graph_runner
    assert type(dask_runner) is DaskGraphRunner
    return dask_runner, sequential_twin(dask_runner)


def test_the_nlu_results_are_identical(runners):
    dask_runner, sequential = runners

    def comparable(message):
        return {k: v for k, v in message.as_dict().items() if k not in ("message_id", "text_spacy_doc")}

    for text in MESSAGES:
        inputs = {"__message__": [UserMessage(text)]}
        targets = ["run_RegexMessageHandler"]
        ours = sequential.run(inputs=inputs, targets=targets)["run_RegexMessageHandler"][0]
        theirs = dask_runner.run(inputs={"__message__": [UserMessage(text)]}, targets=targets)["run_RegexMessageHandler"][0]
        assert comparable(ours) == comparable(theirs), text
        assert ours.as_dict()["intent"]["name"]


def test_whole_conversations_go_exactly_the_same_way(agent, runners):
    dask_runner, sequential = runners

    async def talk(runner, texts):
        agent.processor.graph_runner = runner
        sender = f"runner-{uuid.uuid4().hex[:8]}"
        replies = [[{k: v for k, v in m.items() if k != "recipient_id"} for m in await agent.handle_text(text, sender_id=sender)]
                   for text in texts]
        tracker = await agent.tracker_store.retrieve(sender)
        return replies, without_times([e.as_dict() for e in tracker.events])

    try:
        for texts in CONVERSATIONS:
            with_dask = asyncio.run(talk(dask_runner, texts))
            with_sequential = asyncio.run(talk(sequential, texts))
            assert with_sequential == with_dask, texts
    finally:
        agent.processor.graph_runner = dask_runner


def test_a_missing_input_or_target_is_a_graph_error_as_with_dask(runners):
    _, sequential = runners
    with pytest.raises(GraphRunError):
        sequential.run(inputs={}, targets=["run_RegexMessageHandler"])
    with pytest.raises(GraphRunError):
        sequential.run(inputs={"__message__": []}, targets=["no_such_node"])
    with pytest.raises(GraphRunError):
        sequential.run(inputs={"x": "run_RegexMessageHandler"}, targets=["run_RegexMessageHandler"])
