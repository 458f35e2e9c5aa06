"""IndexedRulePolicy (bot/policies/indexed_rule_policy.py) finds exactly the rules Rasa's RulePolicy finds.

Every rule lookup made while real conversations run (education, clinic questions, red flags in and
out of forms, the callback form, cancelling, nonsense) is answered by both implementations and
compared; so are conversations built from the learned rules themselves, cut and spliced.
"""
from __future__ import annotations

import asyncio
import random
import uuid

import pytest
from rasa.core.agent import Agent
from rasa.core.policies.rule_policy import RulePolicy
from rasa.utils.endpoints import EndpointConfig

from bot.policies.indexed_rule_policy import IndexedRulePolicy
from conftest import graph_component

CONVERSATIONS = [
    ["hi", "what is post laminectomy syndrome", "what causes it", "tell me more", "thanks", "bye"],
    ["hello", "can someone call me back?", "my name is Mary Smith", "(555) 201-4477", "weekday mornings", "yes"],
    ["can someone call me back?", "Pat", "what is spinal cord stimulation", "cancel"],
    ["can someone call me back?", "Pat", "I suddenly can't control my bladder", "ok", "hi"],
    ["my back hurts and my legs feel weird", "no", "no", "yes", "what now"],
    ["I have a fever and my wound is leaking", "no", "yes"],
    ["I don't want to live anymore", "thanks"],
    ["asdfgh qwerty", "zzz", "where are you located", "do you take my insurance", "can I talk to a real person"],
    ["/restart", "hi", "how is it diagnosed", "is it my fault", "how long will it last"],
]


def rule_policy_of(agent: Agent) -> IndexedRulePolicy:
    return graph_component(agent, "IndexedRulePolicy")


@pytest.fixture(scope="module")
def lookups_seen(model_path, stack):
    """(lookup, states) of every rule lookup made while the conversations ran, with the action server."""
    agent = Agent.load(str(model_path), action_endpoint=EndpointConfig(url=f"{stack.cfg.action_url}/webhook"),
                       generator=EndpointConfig(type="bot.nlg.ClinicNLG"))
    policy = rule_policy_of(agent)
    seen = []
    original = policy._get_possible_keys

    def recording(lookup, states):
        seen.append((lookup, [dict(s) for s in states]))
        return original(lookup, states)

    policy._get_possible_keys = recording

    async def talk():
        for conversation in CONVERSATIONS:
            sender = f"rules-{uuid.uuid4().hex[:8]}"
            for text in conversation:
                await agent.handle_text(text, sender_id=sender)

    asyncio.run(talk())
    return policy, seen


def rasas_answer(policy, lookup, states):
    return RulePolicy._get_possible_keys(policy, lookup, states)


def test_every_lookup_in_real_conversations_finds_the_same_rules(lookups_seen):
    policy, seen = lookups_seen
    assert len(seen) > 100
    found_some = 0
    for lookup, states in seen:
        ours = IndexedRulePolicy._get_possible_keys(policy, lookup, states)
        assert ours == rasas_answer(policy, lookup, states), states
        found_some += bool(ours)
    assert found_some > 50  # the conversations really were driven by rules


def _as_conversation_state(rule_state):
    """A rule state as a conversation would present it (tuples where the rule's JSON has lists)."""
    return {kind: {k: tuple(v) if isinstance(v, list) else v for k, v in sub.items()} for kind, sub in rule_state.items()}


def test_conversations_spliced_from_the_rules_find_the_same_rules(lookups_seen):
    policy, _ = lookups_seen
    rng = random.Random(7)
    for lookup in (policy.lookup["rules"], policy.lookup["rules_for_loop_unhappy_path"]):
        rule_states = [[_as_conversation_state(s) for s in policy._rule_key_to_state(key)] for key in lookup]
        cases = list(rule_states)
        for _ in range(800):  # another rule's history in front, a state left out, a different newest state
            a, b = rng.choice(rule_states), rng.choice(rule_states)
            cases.append(a[: rng.randint(0, len(a))] + b)
            cases.append([s for s in b if rng.random() > 0.3] or b)
            cases.append(b[:-1] + [dict(a[-1])])
        cases += [[], [{}], [{"user": {"intent": "greet"}}]]
        for states in cases:
            assert IndexedRulePolicy._get_possible_keys(policy, lookup, states) == rasas_answer(policy, lookup, states)
