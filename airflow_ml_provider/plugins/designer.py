"""The pipeline designer's work on files: where specs live, checking a spec as the DAG parser
would, and saving it with the loader that makes it a DAG."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_ml_provider.pipeline.errors import PipelineDefinitionError
from airflow_ml_provider.pipeline.spec import (
    SPEC_SUFFIXES,
    PipelineSpecError,
    dump_document,
    is_spec_file,
    load_document,
    parse_spec,
    spec_problems,
)

SPEC_SUFFIX = SPEC_SUFFIXES[0]
SCRIPT_LIMIT = 500
# Building a DAG pushes it on Airflow's process-wide DAG context: one build at a time.
_BUILDING = threading.Lock()


class SpecFileError(ValueError):
    """A spec file name or location the designer refuses."""


def designer_folder() -> Path:
    """``[ml_pipelines] designer_folder``, else the DAGs folder: where specs are opened and saved."""
    from airflow.configuration import conf

    from airflow_ml_provider.settings import SECTION

    folder = conf.get(SECTION, "designer_folder", fallback=None) or conf.get("core", "dags_folder")
    return Path(folder).expanduser().resolve()


def spec_path(folder: Path, name: str) -> Path:
    """``name`` (a spec file relative to ``folder``) as a path inside it."""
    path = (folder / name).resolve()
    if not path.is_relative_to(folder) or not is_spec_file(path.name):
        raise SpecFileError(f"{name!r} is not a {SPEC_SUFFIX} file inside the designer folder")
    return path


def loader_path(spec: Path) -> Path:
    stem = spec.name
    for suffix in SPEC_SUFFIXES:
        stem = stem.removesuffix(suffix)
    return spec.with_name(f"{stem}.py")


@dataclass(frozen=True)
class SpecFile:
    file: str
    dag_id: str | None
    steps: int
    problem: str | None


def list_specs(folder: Path) -> list[SpecFile]:
    found = []
    for path in sorted(folder.rglob("*")):
        if not (path.is_file() and is_spec_file(path.name)):
            continue
        relative = path.relative_to(folder).as_posix()
        try:
            document = load_document(path.read_text(), source=relative)
            found.append(SpecFile(relative, document.get("dag_id"), len(document.get("steps") or []), None))
        except PipelineSpecError as error:
            found.append(SpecFile(relative, None, 0, str(error)))
    return found


def problem_view(problem: PipelineDefinitionError) -> dict[str, Any]:
    return {"step": problem.step, "key": problem.argument, "message": str(problem)}


def check(document: dict[str, Any], folder: Path) -> list[dict[str, Any]]:
    """Every problem of the spec: its shape and names first; when those are right, what the DAG
    parser would say when making it a DAG (scripts exist, one producer per output, no cycle)."""
    problems = spec_problems(document)
    if problems:
        return [problem_view(problem) for problem in problems]
    from airflow_ml_provider.spec_dag import build_dag

    try:
        with _BUILDING:
            build_dag(parse_spec(document), folder)
    except PipelineDefinitionError as error:
        return [problem_view(error)]
    return []


def save(document: dict[str, Any], folder: Path, name: str | None) -> tuple[Path, Path]:
    """Write the spec (and its loader, if it has none) after checking it; returns both paths."""
    from airflow_ml_provider.spec_dag import loader_source

    spec = spec_path(folder, name or f"{document.get('dag_id')}{SPEC_SUFFIX}")
    loader = loader_path(spec)
    expected = loader_source(spec.name)
    if loader.exists() and loader.read_text() != expected:
        raise SpecFileError(
            f"{loader.name} exists and is not the loader of {spec.name}; choose another file name"
        )
    if spec.exists():
        existing = load_document(spec.read_text()).get("dag_id")
        if existing not in (None, document.get("dag_id")):
            raise SpecFileError(f"{spec.name} holds DAG {existing}, not {document.get('dag_id')}")
    spec.parent.mkdir(parents=True, exist_ok=True)
    text = dump_document(document)
    temporary = spec.with_name(f".{spec.name}.saving")
    temporary.write_text(text)
    temporary.replace(spec)
    if not loader.exists():
        loader.write_text(expected)
    return spec, loader


def script_steps(folder: Path) -> list[dict[str, str]]:
    """Python scripts under the designer folder that are not DAG files: what script steps can run."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        relative = path.relative_to(folder)
        if path.parent == folder or any(part.startswith((".", "__")) for part in relative.parts):
            continue
        try:
            text = path.read_text(errors="ignore")
        except OSError:
            continue
        if "DAG(" in text or "dag_from_spec" in text:
            continue
        found.append({"script": path.name, "source_directory": relative.parent.as_posix()})
        if len(found) >= SCRIPT_LIMIT:
            break
    return found
