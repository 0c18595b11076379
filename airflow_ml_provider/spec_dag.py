"""Pipeline spec files as DAGs: the factory that turns a parsed spec into steps in a DAG.

A spec file becomes a DAG through a two-line Python file beside it (the pipeline designer
writes one with every spec it saves)::

    from airflow_ml_provider.spec_dag import dag_from_spec
    dag = dag_from_spec(__file__, "wine_yaml.pipeline.yaml")

The steps are the same classes a Python pipeline uses, so the same checks run when the DAG
file is parsed, and the same fingerprints decide reuse.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param

from airflow_ml_provider.pipeline.data import DataReference, PipelineData, PipelineParameter
from airflow_ml_provider.pipeline.environment import Environment
from airflow_ml_provider.pipeline.errors import PipelineDefinitionError
from airflow_ml_provider.pipeline.spec import (
    ArgumentSpec,
    InputSpec,
    OutputSpec,
    PipelineSpec,
    PipelineSpecError,
    StepSpec,
    load_document,
    parse_spec,
)
from airflow_ml_provider.pipeline.steps import EstimatorStep, PythonScriptStep, Step
from airflow_ml_provider.pipeline.transfer import DataTransferStep
from airflow_ml_provider.rendered import pipeline_of

SPEC_FILE_ATTRIBUTE = "_ml_spec_file"
LOADER_TEMPLATE = '''"""The DAG of {spec_name}, a pipeline spec (edit it in the designer or by hand)."""

from airflow_ml_provider.spec_dag import dag_from_spec

dag = dag_from_spec(__file__, "{spec_name}")
'''


def dag_from_spec(anchor: str | os.PathLike[str], spec_file: str | os.PathLike[str] | None = None) -> DAG:
    """The DAG of a spec file; ``spec_file`` is relative to ``anchor``'s folder (the loader's
    ``__file__``), or ``anchor`` is the spec file itself."""
    path = Path(anchor)
    if spec_file is not None:
        path = path.parent / spec_file
    try:
        text = path.read_text()
    except OSError as error:
        raise PipelineSpecError(
            [PipelineDefinitionError(f"cannot read the spec: {error.strerror}.", fix="Check the file name.")],
            str(path),
        ) from None
    spec = parse_spec(load_document(text, source=str(path)), source=str(path))
    return build_dag(spec, path.parent, spec_file=path)


def build_dag(spec: PipelineSpec, base_directory: Path, *, spec_file: Path | None = None) -> DAG:
    """A DAG holding the spec's steps; ``source_directory`` values are relative to ``base_directory``.

    Raises PipelineDefinitionError as a Python pipeline does: the first step that cannot be
    built, then every input that no step produces.
    """
    default_args: dict[str, Any] = {}
    if spec.tracking:
        default_args["tracking"] = spec.tracking
    if spec.experiment_name:
        default_args["experiment_name"] = spec.experiment_name
    params = {}
    for name, parameter in spec.parameters.items():
        schema: dict[str, Any] = dict(parameter.schema)
        if parameter.type:
            schema["type"] = parameter.type
        params[name] = Param(parameter.default, description=parameter.description, **schema)
    with DAG(
        spec.dag_id,
        schedule=spec.schedule,
        description=spec.description,
        tags=spec.tags,
        params=params,
        default_args=default_args,
    ) as dag:
        built: dict[str, Step] = {}
        for step in spec.steps:
            built[step.name] = _step(spec, step, base_directory)
        for step in spec.steps:
            for before in step.run_after:
                built[step.name].run_after(built[before])
    problems = pipeline_of(dag).problems()
    if problems:
        raise problems[0]
    setattr(dag, SPEC_FILE_ATTRIBUTE, str(spec_file) if spec_file else None)
    return dag


def _step(spec: PipelineSpec, step: StepSpec, base_directory: Path) -> Step:
    options = step.options
    common: dict[str, Any] = {
        "allow_reuse": bool(options.get("allow_reuse", True)),
        "version": None if options.get("version") is None else str(options["version"]),
        "base_directory": base_directory,
    }
    if step.kind == "module":
        return _module_step(spec, step)
    if step.kind == "data_transfer":
        destination = options.get("destination_reference")
        return DataTransferStep(
            name=step.name,
            source=_input(spec, step.inputs[0]) if step.inputs else None,
            destination=_reference(destination) if destination else _output(step.outputs[0]),
            source_reference_type=options.get("source_reference_type"),
            destination_reference_type=options.get("destination_reference_type"),
            overwrite=bool(options.get("overwrite", False)),
            tracking=options.get("tracking"),
            experiment_name=options.get("experiment_name"),
            **common,
        )
    script: dict[str, Any] = {
        "source_directory": options.get("source_directory"),
        "arguments": [_argument(spec, step, argument) for argument in step.arguments],
        "inputs": [_input(spec, data) for data in step.inputs],
        "outputs": [_output(output) for output in step.outputs],
        "compute_target": options.get("compute_target", "local"),
        "environment": _environment(options.get("environment")),
        "params": _values(spec, options.get("params")),
        "tracking": options.get("tracking"),
        "experiment_name": options.get("experiment_name"),
        **common,
    }
    if step.kind == "estimator":
        return EstimatorStep(
            name=step.name,
            entry_script=options.get("script"),
            hyperparameters=_values(spec, options.get("hyperparameters")),
            register_model=options.get("register_model"),
            model_alias=options.get("model_alias"),
            model_output=options.get("model_output"),
            **script,
        )
    return PythonScriptStep(name=step.name, script_name=options.get("script"), **script)


def _module_step(spec: PipelineSpec, step: StepSpec) -> Step:
    """A ModuleStep running the published version the step names (resolved from the registry)."""
    from airflow_ml_provider.modules.resolve import module_version, published, wire
    from airflow_ml_provider.pipeline.modules import ModuleStep

    options = step.options
    version = options.get("version")
    found = published(
        str(options["module"]),
        None if version is None else str(version),
        dag_id=spec.dag_id,
        step=step.name,
    )
    by_name = {data.name: data for data in step.inputs}
    inputs = {port: _input(spec, by_name[name]) for port, name in step.input_ports.items()}
    produced = {output.name: output for output in step.outputs}
    outputs = {port: _output(produced[name]) for port, name in step.output_ports.items()}
    arguments = wire(
        found,
        inputs=inputs,
        outputs=outputs,
        parameters=_values(spec, options.get("parameters")),
        dag_id=spec.dag_id,
        step=step.name,
    )
    return ModuleStep(
        module_version=module_version(found),
        inputs_map=inputs,
        outputs_map=outputs,
        arguments=arguments,
        name=step.name,
        compute_target=options.get("compute_target", "local"),
        params=_values(spec, options.get("params")),
        environment=_environment(options.get("environment")),
        allow_reuse=bool(options.get("allow_reuse", True)),
        tracking=options.get("tracking"),
        experiment_name=options.get("experiment_name"),
    )


def _reference(data: Any, mode: str | None = None) -> DataReference:
    return DataReference(
        datastore=data.datastore,
        path_on_datastore=data.path,
        name=data.name,
        mode=mode or data.mode,  # type: ignore[arg-type]
    )


def _output(output: OutputSpec) -> PipelineData:
    return PipelineData(output.name, datastore=output.datastore, is_directory=output.directory)


def _input(spec: PipelineSpec, data: InputSpec) -> DataReference | PipelineData:
    if data.reference is not None:
        return _reference(data.reference, data.mode)
    produced = spec.output(data.name)
    output = produced[1] if produced else OutputSpec(data.name)
    return PipelineData(
        output.name,
        datastore=output.datastore,
        is_directory=output.directory,
        mode=data.mode,  # type: ignore[arg-type]
    )


def _parameter(spec: PipelineSpec, name: str) -> PipelineParameter:
    return PipelineParameter(name, spec.parameters[name].default)


def _argument(spec: PipelineSpec, step: StepSpec, argument: ArgumentSpec) -> Any:
    if argument.kind == "parameter":
        return _parameter(spec, argument.value)
    if argument.kind == "data":
        for data in step.inputs:
            if data.name == argument.value:
                return _input(spec, data)
        return next(_output(o) for o in step.outputs if o.name == argument.value)
    return argument.value


def _values(spec: PipelineSpec, values: Any) -> dict[str, Any]:
    """``hyperparameters`` / ``params``: literals, or ``{parameter: name}``."""
    if not isinstance(values, dict):
        return {}
    return {
        str(key): _parameter(spec, value["parameter"])
        if isinstance(value, dict) and set(value) == {"parameter"}
        else value
        for key, value in values.items()
    }


def _environment(raw: Any) -> Environment | None:
    if not isinstance(raw, dict):
        return None
    return Environment(
        requirements=raw.get("requirements"),
        python=raw.get("python"),
        image=raw.get("image"),
        variables={str(k): str(v) for k, v in (raw.get("variables") or {}).items()},
    )


def loader_source(spec_name: str) -> str:
    """The Python file that makes ``spec_name`` (a file in the same folder) a DAG."""
    return LOADER_TEMPLATE.format(spec_name=spec_name)
