"""The `continual` run: learn a sequence of tasks with one or more strategies, or continue
training a trained model on new data (runtime.continual does the work).

Options (all optional):
    strategies: Strategy names to compare on the same sequence (default: the
        graph's continual.strategy).
    settings: Continual settings that replace the graph's for this run.
    continue_from: Continue training instead of learning a sequence: a dict with
        the trained model's "weights" (runtime.learned_state.trained_weights) or "model_path"
        (a .keras file), "new_data" (dataset settings of the new data, e.g.
        {"source": "csv", "path": "march.csv"}) and "rehearsal" (default True).

Events: `RoundEnd` after each task (round = task, from 1; logs = the summary
metrics so far and the task's loss; details = strategy, task name, the
accuracy-matrix row, the matrix so far and the task names), `Progress` after
each epoch and `LogLine` as each strategy starts. Stop and pause take effect
at task boundaries. The result is a runtime.continual.comparison.SequenceRun
(or a ContinueResult).
"""

from __future__ import annotations

from pathlib import Path

from graph.cli.exit_codes import EXIT_BAD_FILE
from runtime.events import LogLine, Progress, RoundEnd
from runtime.runs import RunContext, RunError, RunKind, RunRequest, RunStopped, register_run_kind


@register_run_kind
class ContinualRun(RunKind):
    name = "continual"
    title = "Continual learning"
    heavy = True

    def execute(self, request: RunRequest, context: RunContext):
        from runtime.continual import ContinualError

        graph = request.graph()
        options = request.options
        try:
            if options.get("continue_from"):
                return self._continue(graph, request, context)
            return self._sequence(graph, request, context)
        except ContinualError as error:
            raise RunError(error.message, error.node_id) from None

    def _sequence(self, graph, request: RunRequest, context: RunContext):
        from runtime.continual.comparison import learn_sequence, strategies_to_run
        from runtime.continual.tasks import continual_settings

        options = request.options
        overrides = dict(options.get("settings") or {})
        settings = continual_settings({**graph.settings["continual"], **overrides})
        names = strategies_to_run(options.get("strategies"), settings)
        epochs = settings["epochs_per_task"]
        matrices: dict[str, list[list[float]]] = {}
        task_names: list[str] = []

        def on_start(strategy: str, names_of_tasks: list[str]) -> None:
            task_names[:] = names_of_tasks
            context.emit(LogLine(f"Learning {len(task_names)} tasks with strategy {strategy}"))

        def on_task(strategy: str, report) -> None:
            matrices.setdefault(strategy, []).append(list(report.row))
            details = {
                "strategy": strategy,
                "task": report.name,
                "task_names": list(task_names),
                "row": list(report.row),
                "matrix": [list(row) for row in matrices[strategy]],
                "seconds": report.seconds,
            }
            logs = {**report.metrics, "loss": report.loss}
            context.emit(RoundEnd(report.index + 1, len(report.row), logs, details))

        def on_epoch(strategy: str, task: int, epoch: int, loss: float) -> None:
            tasks = len(task_names) or 1
            done = (names.index(strategy) * tasks + task) * epochs + epoch
            context.emit(
                Progress(
                    done / (len(names) * tasks * epochs),
                    f"{strategy}: task {task + 1} of {tasks}, epoch {epoch} of {epochs}, "
                    f"loss {loss:.4f}",
                )
            )

        run = learn_sequence(
            graph,
            request.base_dir,
            names,
            overrides,
            on_start=on_start,
            on_task=on_task,
            on_epoch=on_epoch,
            checkpoint=context.checkpoint,
            stop_error=RunStopped,
        )
        if run.skipped:
            from runtime.data import skipped_images

            context.emit(LogLine(skipped_images(run.source, run.skipped)))
        return run

    def _continue(self, graph, request: RunRequest, context: RunContext):
        from runtime.continual.continuing import continue_training

        options = request.options
        spec = dict(options["continue_from"])
        weights = spec.get("weights")
        if weights is None:
            weights = _saved_weights(spec.get("model_path"), request.base_dir)
        if "new_data" not in spec:
            raise RunError("continue training needs new data: give continue_from a new_data")
        overrides = dict(options.get("settings") or {})
        epochs = overrides.get("epochs_per_task", graph.settings["continual"]["epochs_per_task"])
        context.checkpoint()

        def on_epoch(epoch: int, loss: float) -> None:
            context.emit(Progress(epoch / epochs, f"epoch {epoch} of {epochs}, loss {loss:.4f}"))

        result = continue_training(
            graph,
            list(weights),
            dict(spec["new_data"]),
            request.base_dir,
            rehearsal=bool(spec.get("rehearsal", True)),
            overrides=overrides,
            on_epoch=on_epoch,
        )
        logs = {
            f"{when}_{data}": accuracy
            for when, values in (("before", result.before), ("after", result.after))
            for data, accuracy in values.items()
        }
        context.emit(RoundEnd(1, 1, logs, {"old": result.old_name, "new": result.new_name}))
        return result


def _saved_weights(model_path: str | None, base_dir: Path | None) -> list:
    """The weights (and learned state) of a saved .keras model, for continue training."""
    import keras

    from runtime.learned_state import trained_weights

    if not model_path:
        raise RunError("continue training needs the trained model: its weights or a model_path")
    path = Path(model_path).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    try:
        return trained_weights(keras.saving.load_model(path, compile=False))
    except (OSError, ValueError) as error:
        raise RunError(
            f"{path}: cannot load the trained model ({error})", exit_code=EXIT_BAD_FILE
        ) from None
