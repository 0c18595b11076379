"""Errors a pipeline author can hit, each naming the DAG, the step and the argument."""

from __future__ import annotations


class PipelineDefinitionError(ValueError):
    """A pipeline that cannot run as written; raised at DAG-parse time.

    The message always says where (DAG, step, argument), what is wrong, and what to do.
    """

    def __init__(
        self,
        problem: str,
        *,
        fix: str,
        dag_id: str | None = None,
        step: str | None = None,
        argument: str | None = None,
    ) -> None:
        self.problem = problem
        self.fix = fix
        self.dag_id = dag_id
        self.step = step
        self.argument = argument
        super().__init__(self._message())

    def _message(self) -> str:
        where = []
        if self.dag_id:
            where.append(f'DAG "{self.dag_id}"')
        if self.step:
            where.append(f'step "{self.step}"')
        if self.argument:
            where.append(f'argument "{self.argument}"')
        prefix = ", ".join(where)
        return f"{prefix}: {self.problem} {self.fix}" if prefix else f"{self.problem} {self.fix}"

    def located(
        self, *, dag_id: str | None = None, step: str | None = None, argument: str | None = None
    ) -> PipelineDefinitionError:
        """The same error with the DAG, step (or a more precise argument) filled in."""
        return PipelineDefinitionError(
            self.problem,
            fix=self.fix,
            dag_id=self.dag_id or dag_id,
            step=self.step or step,
            argument=argument or self.argument,
        )
