"""Pipeline steps: what runs, on what data, with which arguments.

A step is plain data. Created inside a ``with DAG(...)`` block it is also placed into
that DAG (see ``airflow_ml_provider.render``), wired after the steps that produce its
inputs; built outside one, it is placed by the ``Pipeline`` it is given to. Which tasks a
step became in which DAG is known to the renderer, never kept on the step: the same step
may belong to two pipelines.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from airflow_ml_provider.pipeline.arguments import ArgumentToken, tokenize
from airflow_ml_provider.pipeline.compat import ignored_keywords
from airflow_ml_provider.pipeline.data import DataInput, DataReference, PipelineData, PipelineParameter
from airflow_ml_provider.pipeline.environment import Environment
from airflow_ml_provider.pipeline.errors import PipelineDefinitionError
from airflow_ml_provider.pipeline.names import check_name
from airflow_ml_provider.pipeline.placement import airflow_is_loaded, built_outside_any_dag, renderer
from airflow_ml_provider.pipeline.runconfig import step_compute_target, step_environment
from airflow_ml_provider.runtime.commandline import (
    VARIABLE_NAME,
    argument_problem,
    arguments_problem,
    variable_problem,
)
from airflow_ml_provider.runtime.placeholders import DATA_PLACEHOLDER, PARAMETER_PLACEHOLDER

_PACKAGE_DIR = str(Path(__file__).resolve().parents[1])


class Step:
    """What every step kind shares: a name, data in and out, ordering, and what its run and
    fingerprint read of it.

    Every reader (the renderer, the reuse decision, tracking, the UI) reads these, never a
    kind's own attributes; a kind that has none of something keeps the default:
    ``source_directory`` is the folder of the step's code (its files are part of the
    fingerprint), None for a step without code (a copy); ``script_name`` likewise;
    ``arguments``, ``params`` and ``parameters`` (the PipelineParameters it uses) are empty
    for a step that takes none. ``base_directory`` is the folder of the file that defined
    the step. ``tracking``, ``experiment_name`` and ``azureml_compat`` left None come from
    the DAG's default_args when the step is placed. How a kind's run task is built and what
    its fingerprint covers is in ``airflow_ml_provider.step_kinds``.
    """

    kind: ClassVar[str] = "step"
    base_directory: Path
    source_directory: Path | None = None
    script_name: str | None = None
    environment: Environment | None = None
    tracking: str | None = None
    experiment_name: str | None = None
    azureml_compat: bool | None = None

    def __init__(
        self,
        *,
        name: str,
        inputs: Sequence[DataInput] | None,
        outputs: Sequence[PipelineData] | None,
        compute_target: str | None,
        allow_reuse: bool,
        version: str | None,
    ) -> None:
        self.name = check_name(name, what="step name", step=None, argument="name")
        _check_list(inputs, "inputs", "data", self.name)
        _check_list(outputs, "outputs", "PipelineData", self.name)
        self.inputs: list[DataInput] = _check_inputs(inputs, self.name)
        self.outputs: list[PipelineData] = _check_outputs(outputs, self.name)
        self.compute_target = _check_compute_target(compute_target, self.name)
        self.allow_reuse = bool(allow_reuse)
        self.version = None if version is None else str(version)
        self.arguments: list[ArgumentToken] = []
        self.params: dict[str, ArgumentToken] = {}
        self.parameters: dict[str, PipelineParameter] = {}
        self.run_after_steps: list[Step] = []
        for data in self.outputs:
            data.producers.add(self)

    def _attach(self) -> None:
        """Render into the DAG being defined, if any (lazy: the model needs no Airflow)."""
        if not airflow_is_loaded():
            built_outside_any_dag(self)
            return
        renderer().attach(self)

    def named_data(self) -> Iterator[tuple[str, DataInput]]:
        """Each data the step reads or writes, with the argument that names it."""
        for data in self.inputs:
            yield "inputs", data
        for data in self.outputs:
            yield "outputs", data

    @property
    def input_names(self) -> list[str]:
        return [data.name for data in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [data.name for data in self.outputs]

    def run_after(self, *steps: Step) -> Step:
        """Order this step after ``steps`` without passing data between them.

        Kept on the step, so it holds in every pipeline both steps are in; steps already
        placed in a DAG are wired there at once.
        """
        for step in steps:
            if not isinstance(step, Step):
                raise PipelineDefinitionError(
                    f"run_after() got a {type(step).__name__}, not a step.",
                    fix="Pass the step objects this step must run after.",
                    step=self.name,
                    argument="run_after",
                )
            if step not in self.run_after_steps:
                self.run_after_steps.append(step)
            # Steps are placed in DAGs only once Airflow is loaded: before that there is nothing to wire.
            if airflow_is_loaded():
                renderer().order(step, self)
        return self

    def __rshift__(self, other: Step | Sequence[Step]) -> Step | Sequence[Step]:
        for step in [other] if isinstance(other, Step) else other:
            step.run_after(self)
        return other

    def __lshift__(self, other: Step | Sequence[Step]) -> Step | Sequence[Step]:
        self.run_after(*([other] if isinstance(other, Step) else other))
        return other

    def __rrshift__(self, other: Sequence[Step]) -> Step:
        return self.run_after(*other)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class PythonScriptStep(Step):
    """Run a Python script with the step's data as local paths in its arguments.

    The argument names follow Azure ML SDK v1, so ``PythonScriptStep(...)`` calls port
    with only their imports changed. ``params`` become ``AML_PARAMETER_<name>``
    environment variables, as there.
    """

    kind: ClassVar[str] = "python_script"
    source_directory: Path
    script_name: str

    def __init__(
        self,
        script_name: str | None = None,
        name: str | None = None,
        arguments: Sequence[Any] | None = None,
        compute_target: Any = None,
        inputs: Sequence[DataInput] | None = None,
        outputs: Sequence[PipelineData] | None = None,
        params: Mapping[str, Any] | None = None,
        source_directory: str | os.PathLike[str] | None = None,
        allow_reuse: bool = True,
        version: str | None = None,
        environment: Environment | None = None,
        *,
        tracking: str | None = None,
        experiment_name: str | None = None,
        base_directory: str | os.PathLike[str] | None = None,
        runconfig: Any = None,
        runconfig_pipeline_params: Mapping[str, Any] | None = None,
        hash_paths: Sequence[str] | None = None,
        azureml_compat: bool | None = None,
    ) -> None:
        self.azureml_compat = azureml_compat
        v1_step_arguments(runconfig_pipeline_params=runconfig_pipeline_params, hash_paths=hash_paths)
        compute_target = step_compute_target(compute_target, runconfig)
        environment = step_environment(environment, runconfig)
        arguments = as_data_inputs(arguments)
        inputs = as_data_inputs(inputs)
        if name is None and not script_name:
            raise _with_current_dag(
                PipelineDefinitionError(
                    "no script_name was given.",
                    fix="Name the script to run, relative to source_directory.",
                    argument="script_name",
                )
            )
        step_name = name if name is not None else Path(str(script_name)).stem
        try:
            super().__init__(
                name=step_name,
                inputs=inputs,
                outputs=outputs,
                compute_target=compute_target,
                allow_reuse=allow_reuse,
                version=version,
            )
            base = Path(base_directory) if base_directory else _defining_file_directory()
            self.base_directory = base
            self.source_directory = _check_source_directory(source_directory, base)
            self.environment = _check_environment(environment)
            _check_list(arguments, "arguments", "arguments", step_name)
            params = _check_params(params)
            self.tracking = _check_tracking(tracking)
            self.experiment_name = experiment_name
            self.script_name = _check_script(script_name, self.source_directory)
            self.arguments: list[ArgumentToken] = [
                tokenize(value, argument=f"arguments[{index}]") for index, value in enumerate(arguments or [])
            ]
            self.params: dict[str, ArgumentToken] = {
                str(key): tokenize(value, argument=f"params[{key!r}]")
                for key, value in (params or {}).items()
            }
            self.parameters: dict[str, PipelineParameter] = _parameters_in(
                [*(arguments or []), *(params or {}).values()]
            )
            _adopt_argument_data(self, arguments or [])
            _check_command_line(self.arguments)
        except PipelineDefinitionError as error:
            raise _with_current_dag(error.located(step=str(step_name))) from None
        self._attach()


class EstimatorStep(PythonScriptStep):
    """A training step: hyperparameters become arguments and MLflow params; its model can be
    registered in the MLflow model registry (``register_model``, optional ``model_alias``).

    With ``register_model``, the model the script logged to its run is registered; if it
    logged none, the ``model_output`` folder (default: the output named "model", else the
    first output) is logged and registered instead.
    """

    kind: ClassVar[str] = "estimator"

    def __init__(
        self,
        name: str | None = None,
        entry_script: str | None = None,
        source_directory: str | os.PathLike[str] | None = None,
        arguments: Sequence[Any] | None = None,
        inputs: Sequence[DataInput] | None = None,
        outputs: Sequence[PipelineData] | None = None,
        compute_target: Any = None,
        environment: Environment | None = None,
        hyperparameters: Mapping[str, Any] | None = None,
        register_model: str | None = None,
        model_alias: str | None = None,
        allow_reuse: bool = True,
        version: str | None = None,
        *,
        model_output: str | None = None,
        estimator: Any = None,
        estimator_entry_script_arguments: Sequence[Any] | None = None,
        runconfig_pipeline_params: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        tracking: str | None = None,
        experiment_name: str | None = None,
        base_directory: str | os.PathLike[str] | None = None,
        azureml_compat: bool | None = None,
    ) -> None:
        v1_step_arguments(runconfig_pipeline_params=runconfig_pipeline_params)
        if hyperparameters is not None and not isinstance(hyperparameters, Mapping):
            raise _with_current_dag(
                PipelineDefinitionError(
                    f"hyperparameters is a {type(hyperparameters).__name__}, not a mapping of names "
                    "to values.",
                    fix='Write hyperparameters={"alpha": 0.1, ...}.',
                    step=name or Path(str(entry_script)).stem,
                    argument="hyperparameters",
                )
            )
        self.hyperparameters = dict(hyperparameters or {})
        self.register_model = register_model
        self.model_alias = model_alias
        step_arguments = list(arguments or estimator_entry_script_arguments or [])
        if estimator is not None:
            # Azure ML v1: the Estimator holds the script, its folder, parameters and environment.
            entry_script = entry_script or estimator.entry_script
            source_directory = source_directory or estimator.source_directory
            compute_target = compute_target or estimator.compute_target
            environment = environment or estimator.environment
            for key, value in estimator.script_params.items():
                step_arguments += [key, value]
        for key, value in self.hyperparameters.items():
            step_arguments += [f"--{key}", value]
        output_names = [o.name for o in outputs or [] if isinstance(o, PipelineData)]
        self.model_output = model_output or (
            "model" if "model" in output_names else next(iter(output_names), None)
        )
        problem = _check_registration(register_model, model_alias, model_output, output_names)
        if problem is not None:
            raise _with_current_dag(problem.located(step=name or Path(str(entry_script)).stem))
        super().__init__(
            script_name=entry_script,
            name=name,
            arguments=step_arguments,
            compute_target=compute_target,
            inputs=inputs,
            outputs=outputs,
            params=params,
            source_directory=source_directory,
            allow_reuse=allow_reuse,
            version=version,
            environment=environment,
            tracking=tracking,
            experiment_name=experiment_name,
            base_directory=base_directory or _defining_file_directory(),
            azureml_compat=azureml_compat,
        )


def v1_step_arguments(**given: Any) -> None:
    """Azure ML v1 step arguments with no effect here: one warning each."""
    ignored_keywords(
        "PythonScriptStep",
        given,
        {
            "runconfig_pipeline_params": "run configuration values are not run parameters here; use "
            "PipelineParameter in arguments.",
            "hash_paths": "every file of source_directory is part of the step's fingerprint already.",
        },
    )


def as_data_inputs(values: Any) -> Any:
    """Azure ML v1's forms of data inputs in a list (DataPath bindings, datasets) as data objects."""
    from airflow_ml_provider.pipeline.datapath import as_data_input

    if isinstance(values, tuple) and as_data_input(values) is not values:
        return [as_data_input(values)]
    if isinstance(values, list | tuple):
        return [as_data_input(value) for value in values]
    return values


def _check_registration(
    register_model: Any, model_alias: Any, model_output: str | None, output_names: list[str]
) -> PipelineDefinitionError | None:
    if register_model is not None and (not isinstance(register_model, str) or not register_model):
        return PipelineDefinitionError(
            f"register_model {register_model!r} is not a model name.",
            fix='Give the registered model\'s name, e.g. register_model="wine-classifier".',
            argument="register_model",
        )
    if model_alias is not None and register_model is None:
        return PipelineDefinitionError(
            "model_alias is set but register_model is not.",
            fix="Set register_model= to the model name the alias belongs to.",
            argument="model_alias",
        )
    if model_output is not None and model_output not in output_names:
        return PipelineDefinitionError(
            f'model_output "{model_output}" is not one of the step\'s outputs ({", ".join(output_names)}).',
            fix="Name one of the PipelineData in outputs=.",
            argument="model_output",
        )
    return None


def _check_tracking(tracking: Any) -> str | None:
    if tracking is None or tracking in ("required", "optional", "off"):
        return tracking
    raise PipelineDefinitionError(
        f"tracking {tracking!r} is not one of required, optional, off.",
        fix='Use tracking="optional" to run untracked when the tracking server is down.',
        argument="tracking",
    )


def _defining_file_directory() -> Path:
    """The folder of the file that defined the step (the DAG file), not of this package."""
    frame = inspect.currentframe()
    while frame is not None:
        folder = _user_code_folder(frame.f_code.co_filename)
        if folder is not None:
            return folder
        frame = frame.f_back
    return Path.cwd()


@cache
def _user_code_folder(code_filename: str) -> Path | None:
    """The folder of a frame's file, or None for this package and generated code (once per file)."""
    if code_filename.startswith("<"):
        return None
    filename = os.path.abspath(code_filename)
    if filename.startswith(_PACKAGE_DIR + os.sep):
        return None
    return Path(filename).parent


def _with_current_dag(error: PipelineDefinitionError) -> PipelineDefinitionError:
    if not airflow_is_loaded():
        return error
    return error.located(dag_id=renderer().current_dag_id())


def _check_list(value: Any, argument: str, of: str, step: str) -> None:
    """Lists must be lists: a string would be taken character by character, one object fails."""
    if value is None or isinstance(value, list | tuple):
        return
    if isinstance(value, str):
        example = f"{argument}={value.split()!r}" if argument == "arguments" else f'{argument}=["..."]'
        raise PipelineDefinitionError(
            f"{argument} is one string ({value!r:.60}); it would be taken character by character.",
            fix=f"Give a list: {example}.",
            step=step,
            argument=argument,
        )
    raise PipelineDefinitionError(
        f"{argument} is a {type(value).__name__}, not a list of {of}.",
        fix=f"Put it in a list: {argument}=[...].",
        step=step,
        argument=argument,
    )


def _check_params(params: Any) -> Mapping[str, Any]:
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise PipelineDefinitionError(
            f"params is a {type(params).__name__}, not a mapping of names to values.",
            fix='Write params={"name": value}; each becomes the variable AML_PARAMETER_<name>.',
            argument="params",
        )
    for key in params:
        if not isinstance(key, str) or not VARIABLE_NAME.match(key):
            raise PipelineDefinitionError(
                f"params name {key!r} cannot be part of the variable name AML_PARAMETER_{key}.",
                fix="Use letters, digits and '_' (not starting with a digit).",
                argument=f"params[{key!r}]",
            )
    return params


def _check_environment(environment: Any) -> Environment | None:
    if environment is None:
        return None
    if not isinstance(environment, Environment):
        raise PipelineDefinitionError(
            f"environment is a {type(environment).__name__}, not an Environment.",
            fix='Write environment=Environment(requirements="requirements.txt", variables={...}).',
            argument="environment",
        )
    if not isinstance(environment.variables, Mapping):
        raise PipelineDefinitionError(
            f"Environment variables is a {type(environment.variables).__name__}, not a mapping.",
            fix='Write Environment(variables={"NAME": "value"}).',
            argument="environment.variables",
        )
    for name, value in environment.variables.items():
        problem = variable_problem(name, value)
        if problem:
            raise PipelineDefinitionError(
                f"Environment variable {problem}.",
                fix='Give text values (variables={"THREADS": "4"}) under names such as THREADS.',
                argument=f"environment.variables[{name!r}]",
            )
    return environment


def _check_command_line(arguments: list[ArgumentToken]) -> None:
    """Literal arguments are known now: refuse what no script could be started with."""
    # Parameters and data paths are known at run time (checked again then): counted empty here.
    known = [token.value if token.kind == "literal" else "" for token in arguments]
    for index, token in enumerate(arguments):
        problem = argument_problem(token.value) if token.kind == "literal" else None
        if problem:
            raise PipelineDefinitionError(
                f"this argument cannot be given to a script: {problem}.",
                fix="Pass large or binary values in a file, as data (a DataReference or PipelineData).",
                argument=f"arguments[{index}]",
            )
    problem = arguments_problem(known)
    if problem:
        raise PipelineDefinitionError(
            f"{problem}.",
            fix="Pass long lists in a file, as data (a DataReference or PipelineData).",
            argument="arguments",
        )


def _check_inputs(inputs: Sequence[DataInput] | None, step: str) -> list[DataInput]:
    checked: list[DataInput] = []
    for index, data in enumerate(inputs or []):
        if not isinstance(data, DataReference | PipelineData):
            raise PipelineDefinitionError(
                f"inputs[{index}] is a {type(data).__name__}, not data.",
                fix="List DataReference or PipelineData objects in inputs=.",
                step=step,
                argument=f"inputs[{index}]",
            )
        check_data(data, step=step, argument=f"inputs[{index}]")
        checked.append(data)
    _check_unique(checked, step, "inputs")
    return checked


def _check_outputs(outputs: Sequence[PipelineData] | None, step: str) -> list[PipelineData]:
    checked: list[PipelineData] = []
    for index, data in enumerate(outputs or []):
        if not isinstance(data, PipelineData):
            raise PipelineDefinitionError(
                f"outputs[{index}] is a {type(data).__name__}; only PipelineData can be written by a step.",
                fix="Declare the output as PipelineData(name); its location is chosen per run.",
                step=step,
                argument=f"outputs[{index}]",
            )
        check_data(data, step=step, argument=f"outputs[{index}]")
        checked.append(data)
    _check_unique(checked, step, "outputs")
    return checked


def check_data(data: DataInput, *, step: str, argument: str) -> None:
    """Raise the problem a data object was built with, located at its use."""
    if data.problem is not None:
        detail = f"{argument}.{data.problem.argument}" if data.problem.argument else argument
        raise data.problem.located(step=step, argument=detail)


def _check_unique(data: Iterable[DataInput], step: str, argument: str) -> None:
    seen: set[str] = set()
    for item in data:
        if item.name in seen:
            raise PipelineDefinitionError(
                f'data "{item.name}" is listed twice.',
                fix="List each data object once.",
                step=step,
                argument=argument,
            )
        seen.add(item.name)


def _check_compute_target(compute_target: Any, step: str) -> str:
    target = "local" if compute_target is None else compute_target
    if not isinstance(target, str) or not target:
        raise PipelineDefinitionError(
            f"compute_target {compute_target!r} is not a target name.",
            fix='Give the name of a compute target connection, or "local".',
            step=step,
            argument="compute_target",
        )
    return target


def _check_source_directory(source_directory: Any, base: Path) -> Path:
    if source_directory is not None and not isinstance(source_directory, str | os.PathLike):
        raise PipelineDefinitionError(
            f"source_directory is a {type(source_directory).__name__} ({source_directory!r:.40}), "
            "not a folder.",
            fix="Give a folder relative to the DAG file, holding the step's script.",
            argument="source_directory",
        )
    folder = base if source_directory is None else _joined(base, os.fspath(source_directory))
    if not folder.is_dir():
        raise PipelineDefinitionError(
            f"source_directory {str(source_directory)!r} is not a folder (looked for {folder}).",
            fix="Give a folder relative to the DAG file, holding the step's script.",
            argument="source_directory",
        )
    return resolved(folder)


@cache
def resolved(path: Path) -> Path:
    """Steps of one pipeline share folders: each is resolved (a stat per path part) once per parse."""
    return path.resolve()


@cache
def _joined(base: Path, relative: str) -> Path:
    return base / relative


@cache
def _script_in(source_directory: Path, script_name: str) -> tuple[Path, str | None]:
    """The script's resolved path and its name relative to ``source_directory`` (None: outside it).

    Path arithmetic on the resolved paths, kept for the next step of the same folder; whether
    the file is there is asked every time."""
    script = resolved(source_directory / script_name)
    if not script.is_relative_to(source_directory):
        return script, None
    return script, script.relative_to(source_directory).as_posix()


def _check_script(script_name: Any, source_directory: Path) -> str:
    if not isinstance(script_name, str) or not script_name:
        raise PipelineDefinitionError(
            "no script_name was given.",
            fix="Name the script to run, relative to source_directory.",
            argument="script_name",
        )
    script, relative = _script_in(source_directory, script_name)
    if relative is None or not script.is_file():
        raise PipelineDefinitionError(
            f"script_name {script_name!r} is not a file in source_directory {source_directory}.",
            fix="Put the script in source_directory, or fix the name or the folder.",
            argument="script_name",
        )
    return relative


def _parameters_in(values: Iterable[Any]) -> dict[str, PipelineParameter]:
    return {value.name: value for value in values if isinstance(value, PipelineParameter)}


def _adopt_argument_data(step: PythonScriptStep, arguments: Sequence[Any]) -> None:
    """Data in the arguments and not declared is adopted where its role is known, as Azure ML
    does: a DataReference or a dataset is an input, an ``OutputFileDatasetConfig`` an output
    (an input once another step produces it), ``as_input()`` and friends an input."""
    declared = set(step.input_names) | set(step.output_names)
    for index, value in enumerate(arguments):
        role = _argument_role(value, step)
        if isinstance(value, DataReference) and value.name not in declared:
            step.inputs.append(value)
            declared.add(value.name)
        elif isinstance(value, PipelineData) and value.name not in declared and role in ("input", "output"):
            check_data(value, step=step.name, argument=f"arguments[{index}]")
            if role == "input":
                step.inputs.append(value)
            else:
                step.outputs.append(value)
                value.producers.add(step)
            declared.add(value.name)
        elif isinstance(value, PipelineData) and value.name not in declared:
            raise PipelineDefinitionError(
                f'PipelineData "{value.name}" is in the arguments but in neither inputs= nor outputs=.',
                fix="Add it to outputs= if this step writes it, or to inputs= if it reads it.",
                step=step.name,
                argument=f"arguments[{index}]",
            )
    for data in step.outputs:
        if data.name in step.input_names:
            raise PipelineDefinitionError(
                f'data "{data.name}" is both an input and an output of the step.',
                fix="Write the result to a new PipelineData.",
                step=step.name,
                argument="outputs",
            )
    _check_placeholders(step)


def _argument_role(value: Any, step: Step) -> str | None:
    role = getattr(value, "argument_role", None)
    if role == "output" and any(producer is not step for producer in value.producers.steps()):
        return "input"
    return role if isinstance(role, str) else None


def _check_placeholders(step: PythonScriptStep) -> None:
    """``$AML_DATAREFERENCE_<name>`` (and v1's ``$AZUREML_DATAREFERENCE_<name>``) in an argument
    must name data of the step: it is replaced by the data's path when the step runs."""
    names = set(step.input_names) | set(step.output_names)
    for index, token in enumerate(step.arguments):
        if token.kind != "literal":
            continue
        for parameter in PARAMETER_PLACEHOLDER.finditer(token.value):
            # Its value is rendered in, so it is part of the fingerprint like any parameter.
            found = parameter.group(1)
            if not any(found.startswith(name) for name in step.parameters):
                step.parameters[found] = PipelineParameter(found)
        for placeholder in DATA_PLACEHOLDER.finditer(token.value):
            if not any(placeholder.group(2).startswith(name) for name in names):
                raise PipelineDefinitionError(
                    f"{placeholder.group(0)} names no data of this step.",
                    fix="Add the data to inputs= or outputs=, or pass the data object itself in arguments.",
                    step=step.name,
                    argument=f"arguments[{index}]",
                )
