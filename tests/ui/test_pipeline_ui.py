"""The UI plugin in a real `airflow api-server`, through its routes and in Debian's Chromium.

Screenshots of each view go to $AML_UI_SCREENSHOTS (docs/ui when `make screenshots` runs them).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from ui_site import REPO, Site

DAG = "ui_pipeline"
SECRET = "secret_pipeline"


def _run_path(site: Site, name: str, dag: str = DAG) -> str:
    return f"/ml-pipelines/api/dags/{dag}/runs/{quote(site.runs[name], safe='')}"


def test_the_committed_bundle_is_built_from_the_committed_source() -> None:
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "ui_bundle.sh"), "check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]


def test_a_run_view_has_each_steps_status_decision_outputs_and_mlflow_run(site: Site) -> None:
    status, view = site.get(_run_path(site, "second"), "ada")

    assert status == 200, view
    steps = {step["name"]: step for step in view["steps"]}
    assert [step["name"] for step in view["steps"]] == ["fetch", "prepare", "train", "report"]
    assert {name: step["status"] for name, step in steps.items()} == {
        "fetch": "reused",
        "prepare": "reused",
        "train": "ran",
        "report": "ran",
    }
    assert steps["train"]["decision"]["message"] == 're-run: parameter "alpha" changed (1.0 -> 0.5)'
    assert steps["prepare"]["decision"]["message"].startswith(f"reused from run {site.runs['first']}")
    assert {"source": "prepare", "target": "train", "data": "table"} in view["edges"]
    assert {"source": "data:raw", "target": "fetch", "data": "raw"} in view["edges"]
    assert steps["train"]["mlflow"]["metrics"]["rows"] == 142
    assert steps["train"]["mlflow"]["url"].startswith("/ml-pipelines/mlflow/#/experiments/")
    assert steps["train"]["model_version"] == "2"
    assert steps["fetch"]["transfer"] is None  # reused: nothing was copied in this run
    assert steps["fetch"]["mlflow"]["metrics"]["bytes"] > 0  # the reused copy's run has its figures
    assert view["run"]["params"] == {"alpha": 0.5}


def test_two_runs_compared_name_the_changed_parameter(site: Site) -> None:
    status, comparison = site.get(
        f"/ml-pipelines/api/dags/{DAG}/compare?base={quote(site.runs['first'])}&other={quote(site.runs['second'])}",
        "ada",
    )

    assert status == 200, comparison
    assert comparison["params"] == [{"name": "alpha", "base": 1.0, "other": 0.5}]
    rows = {row["step"]: row for row in comparison["steps"]}
    assert not rows["prepare"]["changed"]
    assert rows["train"]["reasons"] == ['parameter "alpha" changed (1.0 -> 0.5)']
    assert rows["report"]["reasons"][0].startswith('input "model" changed')


def test_outputs_preview_and_download_through_their_datastore(site: Site) -> None:
    base = _run_path(site, "second") + "/outputs"

    status, summary = site.get(f"{base}/summary/preview", "ada")
    assert status == 200, summary
    assert summary["kind"] == "folder"
    assert summary["preview"]["kind"] == "json" and '"rows": 142' in summary["preview"]["text"]
    status, table = site.get(f"{base}/table/preview?file=table.csv", "ada")
    assert table["rows"][0] == ["alcohol", "malic_acid", "ash", "alcalinity_of_ash"]
    status, body = site.get(f"{base}/table/download?file=table.csv", "ada")
    assert status == 200 and body.startswith(b"alcohol,malic_acid")
    status, _ = site.get(f"{base}/table/download?file=../../secret.txt", "ada")
    assert status == 404


def test_a_user_who_may_not_read_a_dag_sees_nothing_of_it(site: Site) -> None:
    secret_run = quote(site.runs["secret"], safe="")
    paths = [
        f"/ml-pipelines/api/dags/{SECRET}/pipeline",
        f"/ml-pipelines/api/dags/{SECRET}/runs",
        f"/ml-pipelines/api/dags/{SECRET}/runs/{secret_run}",
        f"/ml-pipelines/api/dags/{SECRET}/compare?base={secret_run}&other={secret_run}",
        f"/ml-pipelines/api/dags/{SECRET}/runs/{secret_run}/outputs/kept/preview",
        f"/ml-pipelines/api/dags/{SECRET}/runs/{secret_run}/outputs/kept/download?file=secret.txt",
        f"/ml-pipelines/api/cache/{SECRET}/keep/explain",
        f"/ml-pipelines/api/cache?dag_id={SECRET}",
    ]
    for path in paths:
        assert site.get(path, "ada")[0] == 200, path
        status, body = site.get(path, "bob")
        assert status == 403, (path, body)
        assert "only team blue" not in str(body)
        assert site.get(path, None)[0] == 401, path
    status, _ = site.get(f"/ml-pipelines/api/cache/{SECRET}?step=keep", "bob", method="DELETE")
    assert status == 403
    status, listing = site.get("/ml-pipelines/api/cache", "bob")
    assert status == 200 and {entry["dag_id"] for entry in listing["entries"]} == {DAG}
    # Bob may read ui_pipeline, and the whole MLflow store (every pipeline's runs) is not for him.
    assert site.get(f"/ml-pipelines/api/dags/{DAG}/pipeline", "bob")[0] == 200
    assert site.get("/ml-pipelines/mlflow/", "bob")[0] == 403
    assert site.get("/ml-pipelines/mlflow/", "ada")[0] == 200


def _shoot(page: Any, site: Site, name: str) -> None:
    """What the user sees with the plugin's view scrolled to its top (or the page itself)."""
    view = page.locator(".mlp")
    if view.count():
        view.evaluate("element => element.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(site.screenshots / f"{name}.png"))


def _plugin(page: Any, site: Site, path: str) -> Any:
    page.goto(f"{site.url}{path}", wait_until="domcontentloaded")
    page.wait_for_selector(".mlp")
    return page.locator(".mlp")


def test_the_run_tab_in_the_airflow_ui_shows_the_pipeline_and_is_usable_by_keyboard(
    site: Site, page_as: Any
) -> None:
    page = page_as("ada")
    view = _plugin(
        page, site, f"/dags/{DAG}/runs/{quote(site.runs['second'], safe='')}/plugin/ml-pipeline-run"
    )
    page.wait_for_selector('[data-node="train"]')

    assert view.locator('[data-node="train"]').get_attribute("data-status") == "ran"
    assert view.locator('[data-node="prepare"]').get_attribute("data-status") == "reused"
    assert view.locator(".edge-label", has_text="table").count() == 2  # to train and to report
    # Tab reaches every step in the graph; Enter opens the focused step.
    focused = []
    page.locator('[data-node^="data:"]').first.focus()
    for _ in range(8):
        focused.append(page.evaluate("document.activeElement && document.activeElement.dataset.node"))
        if focused[-1] == "train":
            break
        page.keyboard.press("Tab")
    assert focused[-1] == "train", focused
    page.keyboard.press("Enter")
    panel = page.locator('[data-step-panel="train"]')
    assert 'parameter "alpha" changed (1.0 -> 0.5)' in panel.inner_text()
    assert panel.locator("td", has_text="rows").count() == 1
    panel.get_by_role("button", name="Preview model").click()
    page.wait_for_selector("pre")
    assert '"alpha": 0.5' in panel.locator("pre").inner_text()
    _shoot(page, site, "run-view")

    link = panel.get_by_role("link", name=re.compile("Open MLflow run")).get_attribute("href")
    page.goto(f"{site.url}{link}", wait_until="domcontentloaded")
    page.wait_for_selector("text=train", timeout=180_000)
    assert page.title().startswith("MLflow") or "mlflow" in page.url
    _shoot(page, site, "mlflow-run")


def test_the_dag_tab_compares_runs(site: Site, page_as: Any) -> None:
    page = page_as("ada")
    view = _plugin(page, site, f"/dags/{DAG}/plugin/ml-pipeline")
    table = view.get_by_test_id("comparison")
    table.wait_for()

    assert 'parameter "alpha" changed (1.0 -> 0.5)' in table.locator("tr", has_text="train").inner_text()
    assert "unchanged" in table.locator("tr", has_text="prepare").inner_text()
    _shoot(page, site, "dag-view")


def test_the_step_cache_page_explains_and_clears(site: Site, page_as: Any) -> None:
    page = page_as("ada")
    view = _plugin(page, site, "/plugin/ml-step-cache")
    section = view.locator(f'[data-cache-step="{DAG}.train"]')
    section.wait_for()
    assert section.locator("tr[data-fingerprint]").count() == 2  # alpha 1.0 and alpha 0.5

    section.get_by_role("button", name="Why did train run or get reused?").click()
    explained = view.get_by_test_id("explain")
    explained.locator("tr.changed").first.wait_for()
    assert "params.alpha" in explained.inner_text()
    _shoot(page, site, "step-cache")

    section.get_by_role("button", name="Clear every entry of train").click()
    section.get_by_role("button", name=re.compile("Confirm: clear all 2 of train")).click()
    view.get_by_role("status").filter(has_text="Cleared 2 entries").wait_for()
    view.locator(f'[data-cache-step="{DAG}.train"]').wait_for(state="detached")


def test_the_designer_palette_lists_the_connections_of_the_provider_types(site: Site) -> None:
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    defined = {
        "palette_lake": "mldatastore",
        "palette_gpu": "mlcomputedocker",
        "palette_old_cpu": "ml_compute",  # the first release's type name, still read
        "palette_other": "http",
    }
    with create_session() as session:
        for conn_id, conn_type in defined.items():
            session.add(Connection(conn_id=conn_id, conn_type=conn_type, extra="{}"))
    status, palette = site.get("/ml-pipelines/api/designer/palette", "ada")
    assert status == 200, palette
    assert {"palette_lake"} <= set(palette["datastores"]) and "palette_other" not in palette["datastores"]
    assert {"palette_gpu", "palette_old_cpu"} <= set(palette["compute_targets"])
    assert "palette_other" not in palette["compute_targets"]


def test_the_designer_builds_checks_and_saves_a_spec(site: Site, page_as: Any, dags_folder: Path) -> None:
    page = page_as("ada")
    view = _plugin(page, site, "/plugin/ml-pipeline-designer")
    view.get_by_role("button", name="+ ui_pipeline/steps/prepare.py").wait_for()

    view.get_by_label("DAG id").fill("designed_pipeline")
    view.get_by_role("button", name="+ Data reference (existing data)").click()
    view.get_by_label("Path on the datastore").fill("samples/wine/wine.csv")
    # Keyboard only: focus the palette entry and press Enter.
    view.get_by_role("button", name="+ ui_pipeline/steps/prepare.py").focus()
    page.keyboard.press("Enter")
    view.get_by_label("Source folder (relative to the spec file)").fill("ui_pipeline/steps")
    view.get_by_role("checkbox", name="data").check()  # the data reference as the step's input
    view.get_by_label("Outputs (names, comma separated)").fill("table")
    view.get_by_label("Arguments, one a line (data:NAME is a data path, param:NAME a parameter)").fill(
        "--raw\ndata:data\n--out\ndata:tabel"
    )
    problems = view.get_by_test_id("problems")
    problems.get_by_text("argument {data: tabel} names data the step neither reads nor writes").wait_for()
    view.get_by_label("Arguments, one a line (data:NAME is a data path, param:NAME a parameter)").fill(
        "--raw\ndata:data\n--out\ndata:table"
    )
    problems.get_by_text("No problems: this pipeline can be saved.").wait_for()
    _shoot(page, site, "designer")
    view.get_by_role("button", name="Save designed_pipeline.pipeline.yaml").click()
    view.get_by_role("status").filter(has_text="Saved designed_pipeline.pipeline.yaml").wait_for()

    saved = (dags_folder / "designed_pipeline.pipeline.yaml").read_text()
    assert "script: prepare.py" in saved and "- {data: table}" in saved
    assert (
        (dags_folder / "designed_pipeline.py")
        .read_text()
        .endswith('dag = dag_from_spec(__file__, "designed_pipeline.pipeline.yaml")\n')
    )
    check = subprocess.run(
        [
            str(Path(sys.executable).parent / "airflow-ml"),
            "validate",
            str(dags_folder / "designed_pipeline.pipeline.yaml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "ok designed_pipeline" in check.stdout, check.stdout + check.stderr


def test_a_user_who_may_not_read_a_dag_sees_no_view_of_it(site: Site, page_as: Any) -> None:
    page = page_as("bob")
    page.goto(
        f"{site.url}/dags/{SECRET}/runs/{quote(site.runs['secret'], safe='')}/plugin/ml-pipeline-run",
        wait_until="domcontentloaded",
    )
    page.wait_for_load_state("networkidle", timeout=180_000)
    plugin = page.locator(".mlp")
    if plugin.count():
        plugin.get_by_text("Pipeline view unavailable").wait_for()
    assert page.locator('[data-node="keep"]').count() == 0
    assert "only team blue" not in page.content()


def test_the_designer_places_a_published_module_and_saves_a_module_step(
    site: Site, page_as: Any, dags_folder: Path, request: pytest.FixtureRequest
) -> None:
    from airflow_ml_provider.modules.publish import publish, read_definition
    from airflow_ml_provider.modules.store import ModuleRegistry

    registry_url = f"sqlite:///{site.home / 'step-cache.db'}"  # the API server's provider database
    publish(
        read_definition(dags_folder / "modules" / "add_numbers" / "module.yaml"), ModuleRegistry(registry_url)
    )
    for name in ("module_pipeline.pipeline.yaml", "module_pipeline.py"):
        request.addfinalizer(lambda path=dags_folder / name: path.unlink(missing_ok=True))
    status, palette = site.get("/ml-pipelines/api/designer/palette", "ada")
    assert status == 200, palette
    # The palette offers the module's default version (the first one published).
    (module,) = [m for m in palette["modules"] if m["module"] == "AddNumbers" and m["default"]]
    version = module["version"]
    assert [[p["name"] for p in module[key]] for key in ("inputs", "outputs", "parameters")] == [
        ["earlier"],
        ["total"],
        ["number"],
    ]
    assert site.get("/ml-pipelines/api/designer/palette", None)[0] == 401

    page = page_as("ada")
    view = _plugin(page, site, "/plugin/ml-pipeline-designer")
    entry = view.get_by_role("button", name=f"+ module AddNumbers v{version} (in earlier, out total)")
    entry.wait_for()
    view.get_by_label("DAG id").fill("module_pipeline")
    canvas = view.get_by_test_id("canvas")
    # Dragged from the palette onto the canvas, twice: the second adds to the first one's sum.
    entry.drag_to(canvas, target_position={"x": 60, "y": 60})
    view.get_by_role("status").filter(
        has_text=f"Added step AddNumbers, module AddNumbers version {version}"
    ).wait_for()
    view.get_by_label("Parameter number").fill("3")
    entry.drag_to(canvas, target_position={"x": 370, "y": 60})
    view.get_by_role("status").filter(has_text="Added step AddNumbers_2").wait_for()
    view.get_by_label("Input port earlier (optional)").select_option("AddNumbers_total")
    view.get_by_label("Parameter number").fill("param:n")
    problems = view.get_by_test_id("problems")
    # Checked live, as parsing would: the pipeline has no parameter n.
    problems.get_by_text("parameter 'n' is not declared under parameters:").wait_for()
    view.get_by_label("Parameter number").fill("4")
    problems.get_by_text("No problems: this pipeline can be saved.").wait_for()
    assert view.locator(".edge-label", has_text="AddNumbers_total").count() == 1
    assert (
        view.locator('[data-node="AddNumbers_2"]').get_attribute("aria-label").startswith("step AddNumbers_2")
    )
    _shoot(page, site, "designer-module")
    view.get_by_role("button", name="Save module_pipeline.pipeline.yaml").click()
    view.get_by_role("status").filter(has_text="Saved module_pipeline.pipeline.yaml").wait_for()

    steps = yaml.safe_load((dags_folder / "module_pipeline.pipeline.yaml").read_text())["steps"]
    assert steps == [
        {
            "name": "AddNumbers",
            "kind": "module",
            "module": "AddNumbers",
            "version": version,
            "inputs": {},
            "outputs": {"total": "AddNumbers_total"},
            "parameters": {"number": 3},
        },
        {
            "name": "AddNumbers_2",
            "kind": "module",
            "module": "AddNumbers",
            "version": version,
            "inputs": {"earlier": "AddNumbers_total"},
            "outputs": {"total": "AddNumbers_2_total"},
            "parameters": {"number": 4},
        },
    ]
    check = subprocess.run(
        [
            str(Path(sys.executable).parent / "airflow-ml"),
            "validate",
            str(dags_folder / "module_pipeline.pipeline.yaml"),
        ],
        env={**os.environ, "AIRFLOW__ML_PIPELINES__CACHE_URL": registry_url},
        capture_output=True,
        text=True,
        check=False,
    )
    assert "ok module_pipeline" in check.stdout, check.stdout + check.stderr
    # With its default version disabled, the palette offers the module's latest usable version.
    newer = site.home / "add_numbers_v2"
    shutil.copytree(dags_folder / "modules" / "add_numbers", newer)
    (newer / "add.py").write_text((newer / "add.py").read_text() + "\n# version 2\n")
    registry = ModuleRegistry(registry_url)
    second, _ = publish(read_definition(newer / "module.yaml"), registry)
    registry.set_status("AddNumbers", version, "Disabled")
    request.addfinalizer(lambda: registry.set_status("AddNumbers", version, "Active"))
    view = _plugin(page, site, "/plugin/ml-pipeline-designer")
    view.get_by_role(
        "button", name=f"+ module AddNumbers v{second.version} (in earlier, out total)"
    ).wait_for()
    assert (
        view.get_by_role("button", name=f"+ module AddNumbers v{version} (in earlier, out total)").count()
        == 0
    )
