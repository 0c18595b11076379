import { useEffect, useState } from "react";

import {
  api,
  apiUrl,
  formatBytes,
  formatSeconds,
  q,
  shortDigest,
  type PipelineView,
  type Step,
} from "./api";
import { PipelineGraph, type GraphNode } from "./graph";
import { statusLabel } from "./styles";

const RUNNING = new Set(["running", "queued", "waiting", "not started"]);

export const graphNodes = (view: PipelineView): GraphNode[] => [
  ...view.data.map((data) => ({
    id: data.id,
    title: data.name,
    subtitle: `${data.datastore}:${data.path}`,
    status: "data",
    inputs: [],
    outputs: [data.name],
  })),
  ...view.steps.map((step) => ({
    id: step.name,
    title: step.name,
    subtitle: step.kind === "data_transfer" ? "copy" : step.compute_target,
    status: step.status,
    inputs: step.inputs.map((d) => d.name),
    outputs: step.outputs.map((d) => d.name),
  })),
];

type Preview = {
  kind: "folder" | "table" | "json" | "text" | "binary";
  uri: string;
  name?: string;
  size?: number;
  truncated?: boolean;
  files?: { path: string; size: number }[];
  rows?: string[][];
  more_rows?: boolean;
  text?: string;
  preview?: Preview;
};

function PreviewBox({ preview, download }: { preview: Preview; download: (file?: string) => string }) {
  if (preview.kind === "folder") {
    return (
      <div>
        <table>
          <caption className="sr-only">files of the output</caption>
          <thead>
            <tr>
              <th scope="col">file</th>
              <th scope="col">size</th>
            </tr>
          </thead>
          <tbody>
            {preview.files?.map((file) => (
              <tr key={file.path}>
                <td>
                  <a href={download(file.path)}>{file.path}</a>
                </td>
                <td>{formatBytes(file.size)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {preview.truncated && <p className="muted">only the first files are listed</p>}
        {preview.preview && <PreviewBox preview={{ ...preview.preview, uri: preview.uri }} download={download} />}
      </div>
    );
  }
  if (preview.kind === "table" && preview.rows) {
    const [head, ...rows] = preview.rows;
    return (
      <div style={{ overflowX: "auto" }}>
        <table>
          <thead>
            <tr>{head?.map((cell, i) => <th key={i} scope="col">{cell}</th>)}</tr>
          </thead>
          <tbody>
            {rows.map((row, i) => (
              <tr key={i}>{row.map((cell, j) => <td key={j}>{cell}</td>)}</tr>
            ))}
          </tbody>
        </table>
        {(preview.more_rows || preview.truncated) && <p className="muted">first rows only</p>}
      </div>
    );
  }
  if (preview.kind === "json" || preview.kind === "text") {
    return <pre aria-label={`contents of ${preview.name}`}>{preview.text}</pre>;
  }
  return <p className="muted">{preview.name}: binary file, {formatBytes(preview.size)}; no preview</p>;
}

function OutputRow({ dagId, runId, name, step }: { dagId: string; runId: string; name: string; step: Step }) {
  const reference = step.references[name];
  const [preview, setPreview] = useState<Preview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const base = `dags/${q(dagId)}/runs/${q(runId)}/outputs/${q(name)}`;
  const download = (file?: string) => apiUrl(`${base}/download${file ? `?file=${q(file)}` : ""}`);
  const reused = reference?.produced_by?.run_id && reference.produced_by.run_id !== runId;
  return (
    <div className="output" data-output={name}>
      <h3>output {name}</h3>
      {reference ? (
        <>
          <dl>
            <dt>uri</dt>
            <dd>
              <code>{reference.uri}</code>
            </dd>
            <dt>size</dt>
            <dd>
              {formatBytes(reference.size)} in {reference.files} file{reference.files === 1 ? "" : "s"}
            </dd>
            <dt>digest</dt>
            <dd>
              <code title={reference.digest}>{shortDigest(reference.digest)}</code>
            </dd>
            <dt>produced by</dt>
            <dd>
              {reference.produced_by?.run_id} {reused ? "(reused)" : ""}
            </dd>
          </dl>
          <button
            type="button"
            onClick={() =>
              api<Preview>(`${base}/preview`)
                .then((found) => {
                  setPreview(found);
                  setError(null);
                })
                .catch((e: Error) => setError(e.message))
            }
          >
            Preview {name}
          </button>{" "}
          {reference.files === 1 && <a href={download()}>Download {name}</a>}
          {error && <p className="problem">{error}</p>}
          {preview && <PreviewBox preview={preview} download={download} />}
        </>
      ) : (
        <p className="muted">not published in this run</p>
      )}
    </div>
  );
}

export function StepPanel({ dagId, runId, step }: { dagId: string; runId: string | null; step: Step }) {
  const metrics = Object.entries(step.mlflow?.metrics ?? {});
  return (
    <section className="side" aria-label={`step ${step.name}`} data-step-panel={step.name}>
      <h2>
        {step.name}{" "}
        <span className="badge" data-status={step.status}>
          {statusLabel(step.status)}
        </span>
      </h2>
      {step.decision && (
        <p data-testid="decision">
          <strong>{step.decision.message}</strong>
        </p>
      )}
      <dl>
        <dt>kind</dt>
        <dd>{step.kind.replace("_", " ")}</dd>
        {step.script && (
          <>
            <dt>script</dt>
            <dd>
              <code>
                {step.source_directory}/{step.script}
              </code>
            </dd>
          </>
        )}
        <dt>compute target</dt>
        <dd>{step.compute_target}</dd>
        <dt>duration</dt>
        <dd>{formatSeconds(step.duration) || "-"}</dd>
        {step.decision?.fingerprint && (
          <>
            <dt>fingerprint</dt>
            <dd>
              <code title={step.decision.fingerprint}>{shortDigest(step.decision.fingerprint)}</code>
            </dd>
          </>
        )}
        {step.model_version && (
          <>
            <dt>model</dt>
            <dd>
              {step.register_model} version {step.model_version}
            </dd>
          </>
        )}
        {step.transfer && (
          <>
            <dt>copied</dt>
            <dd>
              {formatBytes(step.transfer.bytes)}, {step.transfer.files} file(s), {formatBytes(step.transfer.bytes_per_second)}/s
            </dd>
          </>
        )}
      </dl>
      {step.mlflow ? (
        <>
          <h3>MLflow run</h3>
          <p>
            {step.mlflow.url ? <a href={step.mlflow.url}>Open MLflow run {step.mlflow.run_id.slice(0, 8)}</a> : step.mlflow.run_id}{" "}
            <span className="muted">({step.mlflow.status.toLowerCase()}{step.mlflow.reused_from ? `, reused from ${step.mlflow.reused_from.slice(0, 8)}` : ""})</span>
          </p>
          {metrics.length > 0 && (
            <table>
              <caption className="sr-only">metrics of step {step.name}</caption>
              <thead>
                <tr>
                  <th scope="col">metric</th>
                  <th scope="col">value</th>
                </tr>
              </thead>
              <tbody>
                {metrics.map(([key, value]) => (
                  <tr key={key}>
                    <td>{key}</td>
                    <td>{Number.isInteger(value) ? value : value.toPrecision(4)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      ) : null}
      {runId && step.outputs.map((output) => <OutputRow key={output.name} dagId={dagId} runId={runId} name={output.name} step={step} />)}
      {step.inputs.length > 0 && (
        <>
          <h3>inputs</h3>
          <ul>
            {step.inputs.map((data) => (
              <li key={data.name}>
                {data.name}{" "}
                <span className="muted">{data.kind === "reference" ? `${data.datastore}:${data.path}` : "from another step"}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

export function RunGraph({ view, dagId }: { view: PipelineView; dagId: string }) {
  const [selected, setSelected] = useState<string | null>(null);
  const step = view.steps.find((s) => s.name === selected);
  const data = view.data.find((d) => d.id === selected);
  // The graph takes the page's width; the selected step's details follow below it.
  return (
    <div>
      <div>
        <PipelineGraph
          nodes={graphNodes(view)}
          edges={view.edges}
          selected={selected}
          onSelect={setSelected}
          label={`pipeline ${dagId}${view.run.run_id ? `, run ${view.run.run_id}` : ""}`}
        />
        <p className="muted">Select a step (click, or Tab to it and press Enter) to see its reuse decision, outputs and MLflow run.</p>
      </div>
      {step && <StepPanel dagId={dagId} runId={view.run.run_id} step={step} />}
      {data && (
        <section className="side" aria-label={`data ${data.name}`}>
          <h2>{data.name}</h2>
          <dl>
            <dt>datastore</dt>
            <dd>{data.datastore}</dd>
            <dt>path</dt>
            <dd>
              <code>{data.path}</code>
            </dd>
          </dl>
        </section>
      )}
    </div>
  );
}

export function usePipelineView(dagId: string, runId: string | null): { view: PipelineView | null; error: string | null } {
  const [view, setView] = useState<PipelineView | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    const load = () =>
      api<PipelineView>(runId ? `dags/${q(dagId)}/runs/${q(runId)}` : `dags/${q(dagId)}/pipeline`)
        .then((found) => {
          if (stopped) return;
          setView(found);
          setError(null);
          if (runId && found.steps.some((s) => RUNNING.has(s.status)) && !["success", "failed"].includes(found.run.state ?? "")) {
            timer = window.setTimeout(load, 5000);
          }
        })
        .catch((e: Error) => !stopped && setError(e.message));
    setView(null);
    load();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [dagId, runId]);
  return { view, error };
}

// A DAG without pipeline steps has nothing to show here; anything else is a problem to report.
export function Unavailable({ error }: { error: string }) {
  return error.includes("has no pipeline steps") ? (
    <p className="muted">This DAG has no pipeline steps.</p>
  ) : (
    <p className="problem">Pipeline view unavailable: {error}</p>
  );
}

export function RunView({ dagId, runId }: { dagId: string; runId: string }) {
  const { view, error } = usePipelineView(dagId, runId);
  if (error) return <Unavailable error={error} />;
  if (!view) return <p className="muted">Loading the pipeline…</p>;
  const counts = view.steps.reduce<Record<string, number>>((found, step) => ({ ...found, [step.status]: (found[step.status] ?? 0) + 1 }), {});
  return (
    <div>
      <h2>
        Pipeline run <code>{runId}</code>
      </h2>
      <p>
        {Object.entries(counts)
          .map(([status, count]) => `${count} ${statusLabel(status)}`)
          .join(", ")}
        {view.run.params && Object.keys(view.run.params).length > 0 && (
          <span className="muted">
            {" "}
            · parameters {Object.entries(view.run.params).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")}
          </span>
        )}
      </p>
      <RunGraph view={view} dagId={dagId} />
    </div>
  );
}
