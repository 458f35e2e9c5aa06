"""Runs a trained model's prediction graph node by node, in dependency order, without dask.

Rasa 3.6 hands every graph run (one for the NLU of each message, one for each dialogue prediction:
three or four per turn) to dask's synchronous scheduler, which rebuilds and orders a task graph
each time; for this product's small, chain-shaped graphs that bookkeeping cost more than some of
the components themselves. This runner keeps Rasa's DaskGraphRunner in every other respect (node
instantiation, GraphNode calls and hooks, the (name, output) values nodes pass on, the error type)
and remembers, per set of targets, which nodes to run in which order. `bot.rasa_launcher` makes
Rasa's MessageProcessor load models with it; tests/test_scale_sequential_runner.py checks that it
gives the same results as dask.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner


class SequentialGraphRunner(DaskGraphRunner):
    def _plan(self, targets: Tuple[Text, ...]) -> List[Tuple[Text, Tuple[Text, ...]]]:
        """(node, the nodes/inputs it needs) for every node the targets depend on, dependencies first."""
        plans = self.__dict__.setdefault("_plans", {})
        plan = plans.get(targets)
        if plan is None:
            nodes = self._graph_schema.nodes
            plan, placed = [], set()

            def place(name: Text) -> None:
                if name in placed or name not in nodes:  # done, or an input placeholder
                    return
                placed.add(name)
                for dependency in nodes[name].needs.values():
                    place(dependency)
                plan.append((name, tuple(nodes[name].needs.values())))

            for target in targets:
                place(target)
            plans[targets] = plan
        return plan

    def run(self, inputs: Optional[Dict[Text, Any]] = None, targets: Optional[List[Text]] = None) -> Dict[Text, Any]:
        """Runs the graph (see Rasa's GraphRunner.run)."""
        run_targets = tuple(targets if targets else self._graph_schema.target_names)
        values: Dict[Text, Any] = {}
        for input_name, input_value in (inputs or {}).items():
            if isinstance(input_value, str) and input_value in self._graph_schema.nodes:
                raise GraphRunError(
                    f"Input value '{input_value}' clashes with a node name. Make sure that none of the input "
                    f"names passed to the `run` method are the same as node names in the graph schema."
                )
            values[input_name] = (input_name, input_value)
        try:
            for node_name, needs in self._plan(run_targets):
                # As with dask, an input nobody provides arrives as its bare name: GraphNode reports it.
                values[node_name] = self._instantiated_nodes[node_name](*(values.get(need, need) for need in needs))
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e
        missing = [target for target in run_targets if target not in values]
        if missing:
            raise GraphRunError(f"Error running runner: no node or input named {missing}.")
        return dict(values[target] for target in run_targets)


def use_for_rasa_models() -> None:
    """Make Rasa's MessageProcessor (the server's model loader) build this runner instead of dask's."""
    import rasa.core.processor

    rasa.core.processor.DaskGraphRunner = SequentialGraphRunner
