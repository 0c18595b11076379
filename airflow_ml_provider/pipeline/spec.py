"""Pipeline spec files: a pipeline written as YAML instead of Python. Pure Python (PyYAML only).

The document (``<name>.pipeline.yaml``, format ``version: 1``)::

    version: 1
    dag_id: wine_yaml
    description: Wine classifier, written as a spec
    schedule: null                      # a cron expression or preset, or null
    tags: [ml-pipeline]
    experiment_name: wine_yaml          # optional; tracking: required | optional | off
    parameters:                         # the DAG's params (PipelineParameter values)
      C: {default: 1.0, type: number, minimum: 0.0001, description: Inverse regularisation}
      test_size: 0.25                   # a default alone
    data:                               # data that exists before the pipeline (DataReference)
      samples_wine: {datastore: samples, path: wine.csv}
    steps:
      - name: ingest                    # kind: python_script (default) | estimator | data_transfer | module
        script: ingest.py
        source_directory: wine/steps/ingest
        inputs: [raw_wine]              # names from data:, or outputs of other steps
        outputs: [clean]                # new PipelineData; or {name:, datastore:, directory:}
        arguments: [--raw, {data: raw_wine}, --output, {data: clean}, --c, {parameter: C}]
      - name: add                       # a published module (airflow-ml module publish)
        kind: module
        module: AddNumbers
        version: "2"                    # optional: the module's default version
        inputs: {in1: clean}            # input port -> data
        outputs: {out_sum: total}       # output port -> the name of the data it makes
        parameters: {arg1: 3, arg2: {parameter: C}}
    layout:                             # where the designer placed each step; not part of the DAG
      ingest: {x: 40, y: 120}

Parsing checks the document's own shape and its names (what each key may hold, which data a
step refers to) and reports every problem at once, each naming the DAG, the step and the key.
What needs the files and the whole graph (scripts exist, one producer per output, no cycle)
is checked when the spec becomes a DAG, by the same code as a Python pipeline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from airflow_ml_provider.pipeline.data import INPUT_MODES
from airflow_ml_provider.pipeline.errors import PipelineDefinitionError
from airflow_ml_provider.pipeline.names import check_name

SPEC_VERSION = 1
SPEC_SUFFIXES = (".pipeline.yaml", ".pipeline.yml")
STEP_KINDS = ("python_script", "estimator", "data_transfer", "module")
PARAMETER_TYPES = ("number", "integer", "string", "boolean", "array", "object")
TRACKING_MODES = ("required", "optional", "off")
_DAG_ID = re.compile(r"^[A-Za-z0-9_.-]{1,250}$")

_TOP_KEYS = {
    "version",
    "dag_id",
    "description",
    "schedule",
    "tags",
    "experiment_name",
    "tracking",
    "parameters",
    "data",
    "steps",
    "layout",
}
_COMMON_STEP_KEYS = {
    "name",
    "kind",
    "compute_target",
    "allow_reuse",
    "version",
    "run_after",
    "tracking",
    "experiment_name",
    "description",
}
_SCRIPT_KEYS = {"script", "source_directory", "inputs", "outputs", "arguments", "params", "environment"}
STEP_KEYS: dict[str, set[str]] = {
    "python_script": _COMMON_STEP_KEYS | _SCRIPT_KEYS,
    "estimator": _COMMON_STEP_KEYS
    | _SCRIPT_KEYS
    | {"hyperparameters", "register_model", "model_alias", "model_output"},
    "data_transfer": _COMMON_STEP_KEYS
    | {"source", "destination", "source_reference_type", "destination_reference_type", "overwrite"},
    # ``version`` is the module's version here, as ModuleStep(version=...).
    "module": _COMMON_STEP_KEYS | {"module", "inputs", "outputs", "parameters", "params", "environment"},
}
_PARAMETER_KEYS = {"default", "type", "description", "minimum", "maximum", "enum"}
_DATA_KEYS = {"datastore", "path", "mode", "description"}
_OUTPUT_KEYS = {"name", "datastore", "directory"}
_ENVIRONMENT_KEYS = {"requirements", "python", "image", "variables"}


@dataclass(frozen=True)
class ParameterSpec:
    name: str
    default: Any
    type: str | None = None
    description: str | None = None
    schema: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DataReferenceSpec:
    name: str
    datastore: str
    path: str
    mode: str | None = None


@dataclass(frozen=True)
class OutputSpec:
    name: str
    datastore: str | None = None
    directory: bool = True


@dataclass(frozen=True)
class InputSpec:
    """An input by name: ``reference`` for data from ``data:``, else an output of ``producer``."""

    name: str
    mode: str | None = None
    reference: DataReferenceSpec | None = None
    producer: str | None = None


@dataclass(frozen=True)
class ArgumentSpec:
    """One argument: literal text, a parameter by name, or data (an input or output) by name."""

    kind: str  # literal | parameter | data
    value: str


@dataclass
class StepSpec:
    name: str
    kind: str
    inputs: list[InputSpec] = field(default_factory=list)
    outputs: list[OutputSpec] = field(default_factory=list)
    arguments: list[ArgumentSpec] = field(default_factory=list)
    run_after: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    # A module step's wiring: port -> data name.
    input_ports: dict[str, str] = field(default_factory=dict)
    output_ports: dict[str, str] = field(default_factory=dict)


@dataclass
class PipelineSpec:
    dag_id: str
    description: str | None
    schedule: str | None
    tags: list[str]
    experiment_name: str | None
    tracking: str | None
    parameters: dict[str, ParameterSpec]
    data: dict[str, DataReferenceSpec]
    steps: list[StepSpec]
    layout: dict[str, dict[str, float]]

    def output(self, name: str) -> tuple[StepSpec, OutputSpec] | None:
        for step in self.steps:
            for output in step.outputs:
                if output.name == name:
                    return step, output
        return None


class PipelineSpecError(PipelineDefinitionError):
    """A spec that cannot become a pipeline; ``problems`` holds every problem found."""

    def __init__(self, problems: list[PipelineDefinitionError], source: str | None = None) -> None:
        self.problems = problems
        self.source = source
        text = "\n".join(str(problem) for problem in problems)
        super().__init__(f"{source}: {text}" if source else text, fix="")

    def _message(self) -> str:
        return self.problem


def is_spec_file(name: str) -> bool:
    return name.endswith(SPEC_SUFFIXES)


def load_document(text: str, *, source: str | None = None) -> dict[str, Any]:
    """The YAML document of a spec, or a PipelineSpecError saying where the YAML is broken."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise PipelineSpecError(
            [
                PipelineDefinitionError(
                    f"the file is not valid YAML{where}: {problem}.",
                    fix="Fix the YAML syntax (indentation, quotes, colons).",
                )
            ],
            source,
        ) from None
    if not isinstance(document, dict):
        raise PipelineSpecError(
            [
                PipelineDefinitionError(
                    "the file does not hold a mapping of pipeline keys.",
                    fix="Start with `version: 1`, `dag_id: ...` and `steps: [...]`.",
                )
            ],
            source,
        )
    return document


def parse_spec(document: dict[str, Any], *, source: str | None = None) -> PipelineSpec:
    """The pipeline a spec document describes; every problem found is raised together."""
    parser = _Parser(document)
    spec = parser.parse()
    if parser.problems:
        raise PipelineSpecError(parser.problems, source)
    return spec


def spec_problems(document: dict[str, Any]) -> list[PipelineDefinitionError]:
    """Every problem of a spec document (empty when it parses)."""
    parser = _Parser(document)
    parser.parse()
    return parser.problems


def dump_document(document: dict[str, Any]) -> str:
    """A spec document as YAML, keys in the documented order."""
    order: list[str] = [key for key in ("version", "dag_id", "description") if key in document]
    order += [key for key in _ordered_top_keys() if key in document and key not in order]
    order += [key for key in document if key not in order]
    ordered = {key: document[key] for key in order}
    return yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100)


def _ordered_top_keys() -> list[str]:
    return [
        "schedule",
        "tags",
        "experiment_name",
        "tracking",
        "parameters",
        "data",
        "steps",
        "layout",
    ]


class _Parser:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.problems: list[PipelineDefinitionError] = []
        self.dag_id: str | None = None

    def problem(self, problem: str, fix: str, *, step: str | None = None, key: str | None = None) -> None:
        self.problems.append(
            PipelineDefinitionError(problem, fix=fix, dag_id=self.dag_id, step=step, argument=key)
        )

    def parse(self) -> PipelineSpec:
        document = self.document
        dag_id = document.get("dag_id")
        if isinstance(dag_id, str) and _DAG_ID.match(dag_id):
            self.dag_id = dag_id
        else:
            self.problem(
                f"dag_id {dag_id!r} is not a DAG id.",
                "Give dag_id: 1-250 letters, digits, '_', '-' or '.'.",
                key="dag_id",
            )
        if document.get("version", SPEC_VERSION) != SPEC_VERSION:
            self.problem(
                f"spec format version {document.get('version')!r} is not supported.",
                f"Write `version: {SPEC_VERSION}`.",
                key="version",
            )
        self._unknown_keys(document, _TOP_KEYS, "the spec")
        parameters = self._parameters(document.get("parameters") or {})
        data = self._data(document.get("data") or {})
        steps = self._steps(document.get("steps"), data, parameters)
        return PipelineSpec(
            dag_id=self.dag_id or "",
            description=self._optional_text(document, "description"),
            schedule=self._optional_text(document, "schedule"),
            tags=self._tags(document.get("tags") or []),
            experiment_name=self._optional_text(document, "experiment_name"),
            tracking=self._tracking(document.get("tracking"), step=None),
            parameters=parameters,
            data=data,
            steps=steps,
            layout=self._layout(document.get("layout") or {}, steps),
        )

    # top level
    def _unknown_keys(
        self, mapping: dict[str, Any], allowed: set[str], what: str, step: str | None = None
    ) -> None:
        for key in mapping:
            if key not in allowed:
                self.problem(
                    f"{what} has an unknown key {key!r}.",
                    f"Use only: {', '.join(sorted(allowed))}.",
                    step=step,
                    key=str(key),
                )

    def _optional_text(self, mapping: dict[str, Any], key: str, step: str | None = None) -> str | None:
        value = mapping.get(key)
        if value is None or isinstance(value, str):
            return value
        self.problem(
            f"{key} must be text, not {type(value).__name__}.", "Quote the value.", step=step, key=key
        )
        return None

    def _tags(self, tags: Any) -> list[str]:
        if isinstance(tags, list) and all(isinstance(tag, str) for tag in tags):
            return list(tags)
        self.problem("tags must be a list of text.", "Write tags: [ml-pipeline, team-a].", key="tags")
        return []

    def _tracking(self, value: Any, step: str | None) -> str | None:
        if value is None or value in TRACKING_MODES:
            return value
        self.problem(
            f"tracking {value!r} is not one of {', '.join(TRACKING_MODES)}.",
            "Use tracking: optional to run untracked when the tracking server is down.",
            step=step,
            key="tracking",
        )
        return None

    def _name(self, value: Any, what: str, *, step: str | None, key: str) -> str | None:
        try:
            return check_name(value, what=what, step=step, argument=key)
        except PipelineDefinitionError as error:
            self.problems.append(error.located(dag_id=self.dag_id))
            return None

    def _mapping(self, value: Any, what: str, key: str, step: str | None = None) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        self.problem(
            f"{what} must be a mapping of names to values.",
            f"Write {key}: {{name: ...}}.",
            step=step,
            key=key,
        )
        return {}

    def _parameters(self, raw: Any) -> dict[str, ParameterSpec]:
        parameters: dict[str, ParameterSpec] = {}
        for name, value in self._mapping(raw, "parameters", "parameters").items():
            key = f"parameters.{name}"
            if self._name(name, "parameter name", step=None, key=key) is None:
                continue
            if not isinstance(value, dict):
                value = {"default": value}
            self._unknown_keys(value, _PARAMETER_KEYS, f'parameter "{name}"')
            if "default" not in value or value["default"] is None:
                self.problem(
                    f'parameter "{name}" has no default.',
                    "Give it one: the value a run gets when it does not set the parameter.",
                    key=key,
                )
                continue
            declared = value.get("type")
            if declared is not None and declared not in PARAMETER_TYPES:
                self.problem(
                    f'parameter "{name}" has type {declared!r}.',
                    f"Use one of {', '.join(PARAMETER_TYPES)}.",
                    key=f"{key}.type",
                )
                continue
            schema = {k: value[k] for k in ("minimum", "maximum", "enum") if k in value}
            parameters[name] = ParameterSpec(
                name, value["default"], declared, value.get("description"), schema
            )
        return parameters

    def _data(self, raw: Any) -> dict[str, DataReferenceSpec]:
        data: dict[str, DataReferenceSpec] = {}
        for name, value in self._mapping(raw, "data", "data").items():
            key = f"data.{name}"
            if self._name(name, "data name", step=None, key=key) is None:
                continue
            if isinstance(value, str):
                value = {"path": value}
            if not isinstance(value, dict) or not isinstance(value.get("path"), str):
                self.problem(
                    f'data "{name}" has no path.',
                    "Write {datastore: name, path: folder/file.csv} (datastore default: default).",
                    key=key,
                )
                continue
            self._unknown_keys(value, _DATA_KEYS, f'data "{name}"')
            mode = value.get("mode")
            if mode is not None and mode not in INPUT_MODES:
                self.problem(
                    f'data "{name}" has mode {mode!r}.',
                    f"Use one of {', '.join(INPUT_MODES)}.",
                    key=f"{key}.mode",
                )
                mode = None
            data[name] = DataReferenceSpec(
                name, str(value.get("datastore") or "default"), value["path"], mode
            )
        return data

    # steps
    def _steps(
        self, raw: Any, data: dict[str, DataReferenceSpec], parameters: dict[str, ParameterSpec]
    ) -> list[StepSpec]:
        if not isinstance(raw, list) or not raw:
            self.problem("the spec has no steps.", "List the steps under steps: [...].", key="steps")
            return []
        steps: list[StepSpec] = []
        for index, item in enumerate(raw):
            if not isinstance(item, dict):
                self.problem(
                    f"steps[{index}] is not a mapping.",
                    "Write each step as name: ..., script: ...",
                    key=f"steps[{index}]",
                )
                continue
            name = self._name(item.get("name"), "step name", step=None, key=f"steps[{index}].name")
            if name is None:
                continue
            kind = item.get("kind", "python_script")
            if kind not in STEP_KINDS:
                self.problem(
                    f"kind {kind!r} is not a step kind.",
                    f"Use one of {', '.join(STEP_KINDS)}.",
                    step=name,
                    key="kind",
                )
                continue
            self._unknown_keys(item, STEP_KEYS[kind], f"a {kind} step", step=name)
            steps.append(
                StepSpec(name, kind, options={k: v for k, v in item.items() if k not in ("name", "kind")})
            )
        outputs = self._outputs(steps, data)
        for step in steps:
            self._wire(step, data, parameters, outputs, {s.name for s in steps})
        return steps

    def _outputs(self, steps: list[StepSpec], data: dict[str, DataReferenceSpec]) -> dict[str, str]:
        """Every step's outputs (a transfer's PipelineData destination included): output -> producer."""
        producers: dict[str, str] = {}
        for step in steps:
            ports: dict[str, Any] = {}
            if step.kind == "data_transfer":
                raw = step.options.get("destination")
                declared = [raw] if raw is not None and not (isinstance(raw, str) and raw in data) else []
            elif step.kind == "module":
                ports = self._ports(step, "outputs")
                declared = list(ports.values())
            else:
                declared = step.options.get("outputs") or []
                if not isinstance(declared, list):
                    self.problem(
                        "outputs must be a list.",
                        "Write outputs: [name, ...].",
                        step=step.name,
                        key="outputs",
                    )
                    declared = []
            for index, value in enumerate(declared):
                key = f"outputs.{list(ports)[index]}" if ports else f"outputs[{index}]"
                output = self._output(value, step.name, key)
                if output is None:
                    continue
                if output.name in data:
                    self.problem(
                        f'output "{output.name}" has the name of data under data:.',
                        "Give the output its own name.",
                        step=step.name,
                        key="outputs",
                    )
                    continue
                if output.name in producers and producers[output.name] != step.name:
                    self.problem(
                        f'output "{output.name}" is already produced by step "{producers[output.name]}"; '
                        "an output must have exactly one producer.",
                        "Give each step's output its own name.",
                        step=step.name,
                        key="outputs",
                    )
                    continue
                producers[output.name] = step.name
                step.outputs.append(output)
                if step.kind == "module":
                    step.output_ports[list(ports)[index]] = output.name
        return producers

    def _ports(self, step: StepSpec, key: str) -> dict[str, Any]:
        """A module step's ``inputs:`` / ``outputs:``: port name -> data."""
        raw = step.options.get(key) or {}
        if not isinstance(raw, dict):
            self.problem(
                f"{key} of a module step must map the module's ports to data.",
                f"Write {key}: {{port: data_name, ...}}.",
                step=step.name,
                key=key,
            )
            return {}
        ports: dict[str, Any] = {}
        for port, value in raw.items():
            if self._name(port, "port name", step=step.name, key=f"{key}.{port}") is not None:
                ports[str(port)] = value
        return ports

    def _output(self, value: Any, step: str, key: str) -> OutputSpec | None:
        if isinstance(value, str):
            value = {"name": value}
        if not isinstance(value, dict):
            self.problem(
                f"{key} is not an output name.",
                "Write a name, or {name:, datastore:, directory:}.",
                step=step,
                key=key,
            )
            return None
        self._unknown_keys(value, _OUTPUT_KEYS, f"output {value.get('name')!r}", step=step)
        name = self._name(value.get("name"), "output name", step=step, key=key)
        if name is None:
            return None
        directory = value.get("directory", True)
        if not isinstance(directory, bool):
            self.problem(
                f'output "{name}": directory must be true or false.',
                "Write directory: false for a file.",
                step=step,
                key=key,
            )
            directory = True
        datastore = value.get("datastore")
        return OutputSpec(name, None if datastore is None else str(datastore), directory)

    def _input(
        self,
        value: Any,
        step: StepSpec,
        key: str,
        data: dict[str, DataReferenceSpec],
        outputs: dict[str, str],
    ) -> InputSpec | None:
        mode = None
        if isinstance(value, dict):
            mode = value.get("mode")
            value = value.get("name")
            if mode is not None and mode not in INPUT_MODES:
                self.problem(
                    f"{key} has mode {mode!r}.",
                    f"Use one of {', '.join(INPUT_MODES)}.",
                    step=step.name,
                    key=key,
                )
                mode = None
        if not isinstance(value, str):
            self.problem(
                f"{key} is not a data name.",
                "Name data from data: or an output of another step.",
                step=step.name,
                key=key,
            )
            return None
        if value in data:
            return InputSpec(value, mode, reference=data[value])
        if value in outputs:
            if outputs[value] == step.name:
                self.problem(
                    f'data "{value}" is both an input and an output of the step.',
                    "Write the result to a new output.",
                    step=step.name,
                    key=key,
                )
                return None
            return InputSpec(value, mode, producer=outputs[value])
        self.problem(
            f'input "{value}" is neither under data: nor an output of any step.',
            "Declare it under data: (existing data) or as another step's output.",
            step=step.name,
            key=key,
        )
        return None

    def _wire(
        self,
        step: StepSpec,
        data: dict[str, DataReferenceSpec],
        parameters: dict[str, ParameterSpec],
        outputs: dict[str, str],
        step_names: set[str],
    ) -> None:
        options = step.options
        if step.kind == "module":
            self._wire_module(step, data, parameters, outputs)
        elif step.kind == "data_transfer":
            source = self._input(options.get("source"), step, "source", data, outputs)
            step.inputs = [source] if source else []
            destination = options.get("destination")
            if destination is None:
                self.problem(
                    "no destination was given.",
                    "Name the output (or data: entry) to copy to.",
                    step=step.name,
                    key="destination",
                )
            elif isinstance(destination, str) and destination in data:
                options["destination_reference"] = data[destination]
        else:
            if not isinstance(options.get("script"), str) or not options.get("script"):
                self.problem(
                    "no script was given.",
                    "Name the script to run, relative to source_directory.",
                    step=step.name,
                    key="script",
                )
            inputs = options.get("inputs") or []
            if not isinstance(inputs, list):
                self.problem(
                    "inputs must be a list.", "Write inputs: [name, ...].", step=step.name, key="inputs"
                )
                inputs = []
            step.inputs = [
                found
                for index, value in enumerate(inputs)
                if (found := self._input(value, step, f"inputs[{index}]", data, outputs)) is not None
            ]
            step.arguments = self._arguments(step, data, parameters, outputs)
            environment = options.get("environment")
            if environment is not None:
                self._unknown_keys(
                    self._mapping(environment, "environment", "environment", step=step.name),
                    _ENVIRONMENT_KEYS,
                    "environment",
                    step=step.name,
                )
            for key in ("hyperparameters", "params"):
                self._parameter_values(step, key, parameters)
        run_after = options.get("run_after") or []
        if not isinstance(run_after, list):
            run_after = [run_after]
        for before in run_after:
            if before not in step_names or before == step.name:
                self.problem(
                    f"run_after names {before!r}, which is not another step.",
                    "Name steps of this pipeline.",
                    step=step.name,
                    key="run_after",
                )
            else:
                step.run_after.append(before)
        self._tracking(options.get("tracking"), step=step.name)

    def _wire_module(
        self,
        step: StepSpec,
        data: dict[str, DataReferenceSpec],
        parameters: dict[str, ParameterSpec],
        outputs: dict[str, str],
    ) -> None:
        """The module is named; its ports and parameters are checked against the registry when
        the spec becomes a DAG (the parser reads no database)."""
        module = step.options.get("module")
        if not isinstance(module, str) or not module:
            self.problem(
                "no module was given.",
                "Name a published module (airflow-ml module list shows them).",
                step=step.name,
                key="module",
            )
        version = step.options.get("version")
        if version is not None and not isinstance(version, str | int):
            self.problem(
                f"version {version!r} is not a module version.",
                'Write version: "2", or leave it out for the default version.',
                step=step.name,
                key="version",
            )
        for port, value in self._ports(step, "inputs").items():
            found = self._input(value, step, f"inputs.{port}", data, outputs)
            if found is not None:
                step.inputs.append(found)
                step.input_ports[port] = found.name
        for key in ("parameters", "params"):
            self._parameter_values(step, key, parameters)
        environment = step.options.get("environment")
        if environment is not None:
            self._unknown_keys(
                self._mapping(environment, "environment", "environment", step=step.name),
                _ENVIRONMENT_KEYS,
                "environment",
                step=step.name,
            )

    def _arguments(
        self,
        step: StepSpec,
        data: dict[str, DataReferenceSpec],
        parameters: dict[str, ParameterSpec],
        outputs: dict[str, str],
    ) -> list[ArgumentSpec]:
        raw = step.options.get("arguments") or []
        if not isinstance(raw, list):
            self.problem(
                "arguments must be a list.",
                "Write arguments: [--flag, {data: name}, ...].",
                step=step.name,
                key="arguments",
            )
            return []
        declared = {i.name for i in step.inputs} | {o.name for o in step.outputs}
        arguments: list[ArgumentSpec] = []
        for index, value in enumerate(raw):
            key = f"arguments[{index}]"
            if isinstance(value, bool | int | float | str):
                arguments.append(ArgumentSpec("literal", str(value)))
            elif isinstance(value, dict) and len(value) == 1 and "data" in value:
                name = value["data"]
                if name in declared:
                    arguments.append(ArgumentSpec("data", name))
                elif name in data:  # a DataReference in the arguments is an input, as in Python
                    step.inputs.append(InputSpec(name, reference=data[name]))
                    declared.add(name)
                    arguments.append(ArgumentSpec("data", name))
                else:
                    self.problem(
                        f"argument {{data: {name}}} names data the step neither reads nor writes.",
                        "Add it to inputs: or outputs:, or declare it under data:.",
                        step=step.name,
                        key=key,
                    )
            elif isinstance(value, dict) and len(value) == 1 and "parameter" in value:
                if value["parameter"] in parameters:
                    arguments.append(ArgumentSpec("parameter", value["parameter"]))
                else:
                    self._unknown_parameter(value["parameter"], parameters, step.name, key)
            else:
                self.problem(
                    f"{key} ({value!r:.60}) is not an argument.",
                    "Use text or a number, {data: name} or {parameter: name}.",
                    step=step.name,
                    key=key,
                )
        return arguments

    def _parameter_values(self, step: StepSpec, key: str, parameters: dict[str, ParameterSpec]) -> None:
        values = step.options.get(key)
        if values is None:
            return
        for name, value in self._mapping(values, key, key, step=step.name).items():
            if (
                isinstance(value, dict)
                and set(value) == {"parameter"}
                and value["parameter"] not in parameters
            ):
                self._unknown_parameter(value["parameter"], parameters, step.name, f"{key}.{name}")

    def _unknown_parameter(
        self, name: Any, parameters: dict[str, ParameterSpec], step: str, key: str
    ) -> None:
        known = ", ".join(sorted(parameters)) or "none declared"
        self.problem(
            f"parameter {name!r} is not declared under parameters: (known: {known}).",
            f"Declare it: parameters: {{{name}: {{default: ...}}}}.",
            step=step,
            key=key,
        )

    def _layout(self, raw: Any, steps: list[StepSpec]) -> dict[str, dict[str, float]]:
        layout: dict[str, dict[str, float]] = {}
        if not isinstance(raw, dict):
            return layout
        names = {step.name for step in steps}
        for name, place in raw.items():
            if name in names and isinstance(place, dict):
                try:
                    layout[name] = {"x": float(place.get("x", 0)), "y": float(place.get("y", 0))}
                except (TypeError, ValueError):
                    continue
        return layout
