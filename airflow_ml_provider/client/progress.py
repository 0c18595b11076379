"""A run's steps on the console while it runs: a live table on a terminal, one line per change elsewhere."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from airflow_ml_provider.client.records import StepRun

if TYPE_CHECKING:
    from airflow_ml_provider.client.pipeline_run import PipelineRun

_STYLE = {
    "ran": "green",
    "reused": "cyan",
    "failed": "red",
    "upstream_failed": "red",
    "queued": "yellow",
    "running": "yellow",
    "waiting": "yellow",
}


def _seconds(step: StepRun) -> str:
    duration = step.duration
    return "" if duration is None else f"{duration:.1f} s"


def steps_table(title: str, steps: list[StepRun], *, outputs: bool = False) -> Table:
    table = Table(title=title)
    for column in ("step", "status", "time", "why"):
        table.add_column(column, overflow="fold")
    if outputs:
        table.add_column("outputs", overflow="fold")
    for step in steps:
        style = _STYLE.get(step.status, "")
        row = [
            step.name,
            f"[{style}]{step.status}[/{style}]" if style else step.status,
            _seconds(step),
            step.explanation or "",
        ]
        if outputs:
            row.append("\n".join(f"{o.name}: {o.uri}" for o in step.outputs.values()))
        table.add_row(*row)
    return table


class StepsProgress:
    """Shows one run's steps as they change."""

    def __init__(self, run: PipelineRun, console: Any = None) -> None:
        self.run = run
        self.console: Console = console or Console()
        self.title = f"{run.dag_id}  {run.run_id}"
        self._seen: dict[str, tuple[str, str | None]] = {}
        self._live: Live | None = None
        if self.console.is_terminal:
            self._live = Live(
                steps_table(self.title, []), console=self.console, refresh_per_second=4, transient=True
            )
            self._live.start()

    def update(self, steps: list[StepRun]) -> None:
        if self._live is not None:
            self._live.update(steps_table(self.title, steps))
            return
        for step in steps:
            now = (step.status, step.explanation)
            if self._seen.get(step.name) != now and step.status != "not started":
                self._seen[step.name] = now
                detail = f" ({_seconds(step)})" if step.status in ("ran", "reused", "failed") else ""
                why = f": {step.explanation}" if step.explanation else ""
                self.console.print(f"{step.name}: {step.status}{detail}{why}", soft_wrap=True)

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def final(self, steps: list[StepRun], state: str) -> None:
        self.console.print(steps_table(f"{self.title}  {state}", steps, outputs=True))
