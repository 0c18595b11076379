import { useEffect, useState } from "react";

import { api, q, shortDigest, type RunSummary } from "./api";
import { RunGraph, Unavailable, usePipelineView } from "./RunView";
import { statusLabel } from "./styles";

type CompareRow = {
  step: string;
  status?: [string, string];
  fingerprint?: [string | null, string | null];
  changed: boolean;
  reasons: string[];
  outputs_changed?: string[];
  messages?: [string | null, string | null];
};

type Comparison = {
  base: RunSummary;
  other: RunSummary;
  params: { name: string; base: unknown; other: unknown }[];
  steps: CompareRow[];
};

function Compare({ dagId, runs }: { dagId: string; runs: RunSummary[] }) {
  const [base, setBase] = useState(runs[1]?.run_id ?? "");
  const [other, setOther] = useState(runs[0]?.run_id ?? "");
  const [result, setResult] = useState<Comparison | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!base || !other) return;
    api<Comparison>(`dags/${q(dagId)}/compare?base=${q(base)}&other=${q(other)}`)
      .then((found) => {
        setResult(found);
        setError(null);
      })
      .catch((e: Error) => setError(e.message));
  }, [dagId, base, other]);
  const choose = (label: string, value: string, set: (v: string) => void) => (
    <label>
      {label}{" "}
      <select value={value} onChange={(event) => set(event.target.value)}>
        {runs.map((run) => (
          <option key={run.run_id} value={run.run_id ?? ""}>
            {run.run_id} ({run.state})
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <section aria-label="compare two runs">
      <h3>Compare runs</h3>
      <div className="row">
        {choose("Earlier run", base, setBase)}
        {choose("Later run", other, setOther)}
      </div>
      {error && <p className="problem">{error}</p>}
      {result && (
        <>
          {result.params.length > 0 && (
            <p>
              Parameters changed:{" "}
              {result.params.map((p) => `${p.name} ${JSON.stringify(p.base)} → ${JSON.stringify(p.other)}`).join(", ")}
            </p>
          )}
          <table data-testid="comparison">
            <thead>
              <tr>
                <th scope="col">step</th>
                <th scope="col">earlier</th>
                <th scope="col">later</th>
                <th scope="col">what changed</th>
              </tr>
            </thead>
            <tbody>
              {result.steps.map((row) => (
                <tr key={row.step} className={row.changed ? "changed" : undefined}>
                  <th scope="row">{row.step}</th>
                  <td>
                    {row.status && <span className="badge" data-status={row.status[0]}>{statusLabel(row.status[0])}</span>}{" "}
                    <code>{shortDigest(row.fingerprint?.[0])}</code>
                  </td>
                  <td>
                    {row.status && <span className="badge" data-status={row.status[1]}>{statusLabel(row.status[1])}</span>}{" "}
                    <code>{shortDigest(row.fingerprint?.[1])}</code>
                  </td>
                  <td>
                    {row.changed ? (
                      <>
                        {row.reasons.length > 0 ? row.reasons.join("; ") : "fingerprint changed"}
                        {row.outputs_changed && row.outputs_changed.length > 0 && <div>outputs changed: {row.outputs_changed.join(", ")}</div>}
                      </>
                    ) : (
                      <span className="muted">unchanged</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

export function DagView({ dagId }: { dagId: string }) {
  const [runs, setRuns] = useState<RunSummary[] | null>(null);
  const [runId, setRunId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<RunSummary[]>(`dags/${q(dagId)}/runs`)
      .then((found) => {
        setRuns(found);
        setRunId(found[0]?.run_id ?? null);
      })
      .catch((e: Error) => setError(e.message));
  }, [dagId]);
  const { view, error: viewError } = usePipelineView(dagId, runId);
  if (error) return <Unavailable error={error} />;
  if (!runs) return <p className="muted">Loading…</p>;
  return (
    <div>
      <h2>
        Pipeline <code>{dagId}</code>
      </h2>
      <label>
        Run{" "}
        <select value={runId ?? ""} onChange={(event) => setRunId(event.target.value || null)}>
          <option value="">no run: the pipeline as defined</option>
          {runs.map((run) => (
            <option key={run.run_id} value={run.run_id ?? ""}>
              {run.run_id} ({run.state})
            </option>
          ))}
        </select>
      </label>
      {viewError && <Unavailable error={viewError} />}
      {view && <RunGraph view={view} dagId={dagId} />}
      {runs.length >= 2 && <Compare dagId={dagId} runs={runs} />}
    </div>
  );
}
