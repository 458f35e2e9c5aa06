"""Rasa's RulePolicy with the same rules and the same answers, found without trying every rule.

Rasa 3.6 picks the next action by testing every learned rule (332 here) against every state of the
conversation, newest first, parsing each rule's JSON key again and again; that was the largest
part of a turn's dialogue time. This subclass prepares each rule once (parsed, reversed, list
values as tuples) and, for the newest state, only tests the rules whose last state asks for the
intent the person just had (plus rules that ask for no intent). It stops as soon as no rule is
left, or once it is further back in the conversation than the longest remaining rule (such rules
are applicable from there on, exactly as in Rasa). The conversation's states are extended from the
previous prediction instead of rebuilt from every event (bot/policies/conversation_states.py).
Everything else (training, contradiction checks, loops, fallback) is RulePolicy's own code.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Set, Text, Tuple

from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer
from rasa.core.policies.policy import SupportedData
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET, USER
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT

from bot.policies.conversation_states import ConversationStates

# One rule state, prepared: (has a previous action?, ((state type, key, required value), ...)).
PreparedState = Tuple[bool, Tuple[Tuple[Text, Text, object], ...]]
# One rule: its key and its states, newest first.
PreparedRule = Tuple[Text, Tuple[PreparedState, ...]]


def _prepare_state(state: State) -> PreparedState:
    checks = []
    for state_type, sub_state in state.items():
        for key, value in sub_state.items():
            checks.append((state_type, key, tuple(value) if isinstance(value, list) else value))
    return bool(state.get(PREVIOUS_ACTION)), tuple(checks)


def _state_matches(prepared: PreparedState, conversation_state: State) -> bool:
    """RulePolicy._is_rule_applicable for one turn whose rule state exists (see Rasa's comments)."""
    rule_has_previous_action, checks = prepared
    conversation_has_previous_action = bool(conversation_state.get(PREVIOUS_ACTION))
    if not rule_has_previous_action and not conversation_has_previous_action:
        return True
    if not rule_has_previous_action or not conversation_has_previous_action:
        return False
    for state_type, key, value_from_rules in checks:
        value_from_conversation = conversation_state.get(state_type, {}).get(key)
        if value_from_rules == SHOULD_NOT_BE_SET:
            if value_from_conversation and value_from_conversation != SHOULD_NOT_BE_SET:
                return False
        elif value_from_rules and value_from_conversation != value_from_rules:
            return False
    return True


class _PreparedLookup:
    """The rules of one lookup table, parsed once and indexed by the intent their newest state asks for."""

    def __init__(self, keys: List[Text], parse) -> None:
        self.all: List[PreparedRule] = []
        self.by_intent: Dict[Optional[Text], List[PreparedRule]] = {}
        for key in keys:
            rule_states = parse(key)
            prepared: PreparedRule = (key, tuple(_prepare_state(state) for state in reversed(rule_states)))
            self.all.append(prepared)
            self.by_intent.setdefault(self._required_intent(rule_states), []).append(prepared)

    @staticmethod
    def _required_intent(rule_states: List[State]) -> Optional[Text]:
        """The intent a rule's newest state insists on; None when that state may match any intent
        (no intent asked, "should not be set", or a conversation-start state, which Rasa matches
        without looking at its contents)."""
        newest = rule_states[-1] if rule_states else {}
        intent = newest.get(USER, {}).get(INTENT)
        if not newest.get(PREVIOUS_ACTION) or not intent or intent == SHOULD_NOT_BE_SET:
            return None
        return intent

    def candidates(self, newest_state: State) -> List[PreparedRule]:
        """Rules that can match the newest state: a rule insisting on an intent needs exactly that intent."""
        if not newest_state.get(PREVIOUS_ACTION):
            return self.all  # a conversation-start state: Rasa's own special cases apply to every rule
        intent = newest_state.get(USER, {}).get(INTENT)
        return self.by_intent.get(None, []) + (self.by_intent.get(intent, []) if intent else [])


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class IndexedRulePolicy(RulePolicy):
    """config.yml: `- name: bot.policies.indexed_rule_policy.IndexedRulePolicy` (RulePolicy's options)."""

    def _prepared(self, lookup: Dict[Text, Text]) -> _PreparedLookup:
        cache = self.__dict__.setdefault("_prepared_lookups", {})
        entry = cache.get(id(lookup))
        if entry is None or entry[0] is not lookup or entry[1] != len(lookup):  # lookups change during training
            entry = (lookup, len(lookup), _PreparedLookup(list(lookup), self._rule_key_to_state))
            cache[id(lookup)] = entry
        return entry[2]

    def _prediction_states(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        use_text_for_last_user_input: bool = False,
        rule_only_data: Optional[Dict[Text, Any]] = None,
    ) -> List[State]:
        """Rasa's states for a prediction, with the conversation's states extended rather than rebuilt
        (bot/policies/conversation_states.py); Rasa's own code for anything but a live conversation."""
        featurizer = self.featurizer
        if (
            type(tracker) is not DialogueStateTracker  # e.g. training trackers, which cache their own states
            or type(featurizer) is not MaxHistoryTrackerFeaturizer
            or self.supported_data() == SupportedData.ML_DATA  # states with rule-only turns hidden
        ):
            return super()._prediction_states(tracker, domain, use_text_for_last_user_input, rule_only_data)
        memo = self.__dict__.get("_conversation_states")
        if memo is None:
            memo = self.__dict__["_conversation_states"] = ConversationStates()
        states = memo.past_states(tracker, domain)
        featurizer._choose_last_user_input([states], use_text_for_last_user_input)
        return featurizer.slice_state_history(states, featurizer.max_history)

    def _get_possible_keys(self, lookup: Dict[Text, Text], states: List[State]) -> Set[Text]:
        if not states:
            return set(lookup)
        newest_first = list(reversed(states))
        possible = [rule for rule in self._prepared(lookup).candidates(newest_first[0])
                    if not rule[1] or _state_matches(rule[1][0], newest_first[0])]
        for turn_index in range(1, len(newest_first)):
            if not possible or all(len(rule_states) <= turn_index for _, rule_states in possible):
                break  # nothing left, or every remaining rule is applicable from here on
            state = newest_first[turn_index]
            possible = [(key, rule_states) for key, rule_states in possible
                        if len(rule_states) <= turn_index or _state_matches(rule_states[turn_index], state)]
        return {key for key, _ in possible}
