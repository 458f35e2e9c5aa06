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
    ["hi", "what treatments are there", "what is spinal cord stimulation", "tell me more", "does physical therapy help",
     "what is radiofrequency ablation", "can I book an appointment", "can someone call me back?", "Sam", "what now",
     "555 201 4477", "no", "never mind", "ok", "what are your office hours", "is another surgery a good idea",
     "my bum is numb", "ok", "thanks", "bye", "hi again", "/restart", "where are you located", "thanks"],
]


def rule_policy_of(agent: Agent) -> IndexedRulePolicy:
    return graph_component(agent, "IndexedRulePolicy")


@pytest.fixture(scope="module")
def conversations_run(model_path, stack):
    """While the conversations ran (with the action server): (lookup, states) of every rule lookup,
    and for every prediction whether its states equal the states Rasa's own code makes."""
    agent = Agent.load(str(model_path), action_endpoint=EndpointConfig(url=f"{stack.cfg.action_url}/webhook", headers=stack.cfg.action_headers),
                       generator=EndpointConfig(type="bot.nlg.ClinicNLG"))
    policy = rule_policy_of(agent)
    seen, states_compared = [], []
    original = policy._get_possible_keys
    original_states = policy._prediction_states

    def recording(lookup, states):
        seen.append((lookup, [dict(s) for s in states]))
        return original(lookup, states)

    def comparing(tracker, domain, use_text_for_last_user_input=False, rule_only_data=None):
        ours = original_states(tracker, domain, use_text_for_last_user_input, rule_only_data)
        rasas = RulePolicy._prediction_states(policy, tracker, domain, use_text_for_last_user_input, rule_only_data)
        states_compared.append((tracker.sender_id, len(tracker.events), ours == rasas))
        return ours

    policy._get_possible_keys = recording
    policy._prediction_states = comparing

    async def talk():
        for conversation in CONVERSATIONS:
            sender = f"rules-{uuid.uuid4().hex[:8]}"
            for text in conversation:
                await agent.handle_text(text, sender_id=sender)

    asyncio.run(talk())
    return policy, seen, states_compared


@pytest.fixture(scope="module")
def lookups_seen(conversations_run):
    policy, seen, _ = conversations_run
    return policy, seen


def test_states_extended_between_predictions_equal_rasas_rebuilt_states(conversations_run):
    policy, _, states_compared = conversations_run
    different = [(sender, events) for sender, events, same in states_compared if not same]
    assert not different
    assert len(states_compared) > 150
    memo = policy._conversation_states
    assert memo.extended > 100 and memo.computed > 10  # both paths ran (forms and restarts recompute)
    assert max(events for _, events, _ in states_compared) > 80  # long conversations were compared too


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
