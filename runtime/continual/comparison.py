"""Learn one task sequence with several strategies in turn and keep every result.

The run kind `continual` and the `deepwire continual` command both call
`learn_sequence`, so the app and the command line give the same numbers for
the same seed: each strategy starts from the same initial weights (the seed is
set again before each model is built) and meets the same tasks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from graph.model import NetworkGraph
from graph.settings import CONTINUAL_STRATEGIES
from runtime.continual.errors import ContinualError
from runtime.continual.learner import (
    ContinualLearner,
    ContinualResult,
    TaskReport,
    check_learner,
)
from runtime.continual.tasks import build_sequence, continual_settings


@dataclass
class SequenceRun:
    """Every strategy's result on one sequence.

    Attributes:
        source: Where the tasks come from ("digits split by 2 classes").
        task_names: The tasks in order.
        class_names: Every class's name by id.
        results: Each strategy's result, in the order they ran.
        stopped: True when the user stopped before every strategy finished.
        skipped: Unreadable image files left out of the tasks, as "file (reason)".
    """

    source: str
    task_names: list[str]
    class_names: list[str]
    results: dict[str, ContinualResult] = field(default_factory=dict)
    stopped: bool = False
    skipped: tuple[str, ...] = ()

    def final_test_metrics(self) -> dict[str, float]:
        """Each strategy's ACC, BWT and FWT, all read from test-split accuracies;
        named "<strategy> <metric>" when several strategies ran."""
        several = len(self.results) > 1
        return {
            f"{strategy} {name}" if several else name: value
            for strategy, result in self.results.items()
            for name, value in result.metrics.items()
        }

    @property
    def weights(self) -> list | None:
        """The trained model's weights when one strategy ran (several leave no one model)."""
        if len(self.results) != 1:
            return None
        return next(iter(self.results.values())).weights


def strategies_to_run(requested: list[str] | None, settings: dict) -> list[str]:
    """The strategies asked for (the settings' strategy when none), checked and without repeats.

    Raises:
        ContinualError: naming an unknown strategy.
    """
    names = list(requested or [settings["strategy"]])
    for name in names:
        if name not in CONTINUAL_STRATEGIES:
            raise ContinualError(
                f"unknown strategy {name!r}; choose from {', '.join(CONTINUAL_STRATEGIES)}"
            )
    return list(dict.fromkeys(names))


def learn_sequence(
    graph: NetworkGraph,
    base_dir: Path | None,
    strategies: list[str] | None = None,
    overrides: dict | None = None,
    on_start: Callable[[str, list[str]], None] | None = None,
    on_task: Callable[[str, TaskReport], None] | None = None,
    on_epoch: Callable[[str, int, int, float], None] | None = None,
    checkpoint: Callable[[], None] | None = None,
    stop_error: type[BaseException] | None = None,
) -> SequenceRun:
    """Builds the graph's task sequence and learns it with each strategy.

    Args:
        graph: The graph (its dataset, training and continual settings).
        base_dir: The folder relative data paths start from.
        strategies: Strategies to compare; the settings' strategy when None.
        overrides: Continual settings that replace the graph's for this run.
        on_start: Called with (strategy, task names) as each strategy starts.
        on_task: Called with (strategy, report) after each task.
        on_epoch: Called with (strategy, task index, epoch, loss) after each epoch.
        checkpoint: Called before each task; may wait (pause) or raise `stop_error` (stop).
        stop_error: The exception `checkpoint` raises to stop; the results so far are
            then returned with `stopped` set (the strategy under way keeps its tasks done).

    Raises:
        ContinualError: for bad settings or data, before anything is trained.
    """
    settings = continual_settings({**graph.settings["continual"], **(overrides or {})})
    names = strategies_to_run(strategies, settings)
    sequence = build_sequence(graph.dataset, settings, base_dir)
    for name in names:  # every check before any training
        check_learner(graph, sequence, {**settings, "strategy": name})
    run = SequenceRun(
        sequence.source, sequence.names, list(sequence.class_names), skipped=sequence.skipped
    )
    stops = (stop_error,) if stop_error is not None else ()
    for name in names:
        if on_start is not None:
            on_start(name, sequence.names)
        learner = ContinualLearner(graph, sequence, settings, name)
        try:
            run.results[name] = learner.run(
                on_task=None if on_task is None else (lambda report, n=name: on_task(n, report)),
                checkpoint=checkpoint,
                on_epoch=None
                if on_epoch is None
                else (lambda i, e, loss, n=name: on_epoch(n, i, e, loss)),
            )
        except stops:
            if learner.matrix:
                run.results[name] = learner.result(stopped=True)
            run.stopped = True
            break
    return run
