import { useCallback, useEffect, useState } from "react";

import { api, formatBytes, formatTime, q, shortDigest, type Reference } from "./api";

type Entry = {
  dag_id: string;
  step: string;
  fingerprint: string;
  created_at: number;
  produced_by: { run_id?: string; try?: number };
  outputs: Record<string, Reference>;
  size: number;
  hits: number;
  last_hit: number | null;
};

type Explanation = {
  run_id: string;
  decision: string;
  message: string;
  earlier_run_id: string | null;
  fields: { field: string; earlier: string; now: string; changed: boolean }[];
};

function Explain({ dagId, step, onClose }: { dagId: string; step: string; onClose: () => void }) {
  const [found, setFound] = useState<Explanation | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [all, setAll] = useState(false);
  useEffect(() => {
    api<Explanation>(`cache/${q(dagId)}/${q(step)}/explain`)
      .then(setFound)
      .catch((e: Error) => setError(e.message));
  }, [dagId, step]);
  const fields = found?.fields.filter((f) => all || f.changed) ?? [];
  return (
    <section className="side" aria-label={`why ${step} ran`} data-testid="explain">
      <h2>
        Why {dagId}.{step}
      </h2>
      <button type="button" onClick={onClose}>
        Close explanation
      </button>
      {error && <p className="problem">{error}</p>}
      {found && (
        <>
          <p>
            In run <code>{found.run_id}</code>: <strong>{found.message}</strong>
          </p>
          {found.earlier_run_id ? (
            <>
              <p className="muted">Field by field against the result of run {found.earlier_run_id}.</p>
              <label>
                <input type="checkbox" checked={all} onChange={(event) => setAll(event.target.checked)} /> show unchanged fields too
              </label>
              <table>
                <thead>
                  <tr>
                    <th scope="col">field</th>
                    <th scope="col">earlier</th>
                    <th scope="col">this run</th>
                  </tr>
                </thead>
                <tbody>
                  {fields.map((f) => (
                    <tr key={f.field} className={f.changed ? "changed" : undefined}>
                      <td>
                        <code>{f.field}</code>
                      </td>
                      <td>
                        <code>{f.earlier}</code>
                      </td>
                      <td>
                        <code>{f.now}</code> {f.changed && <span>(changed)</span>}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {fields.length === 0 && <p className="muted">no field changed</p>}
            </>
          ) : (
            <p className="muted">no earlier result of this step to compare with</p>
          )}
        </>
      )}
    </section>
  );
}

export function CachePage() {
  const [entries, setEntries] = useState<Entry[] | null>(null);
  const [canClear, setCanClear] = useState<Record<string, boolean>>({});
  const [dag, setDag] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [explain, setExplain] = useState<{ dag: string; step: string } | null>(null);
  const [confirm, setConfirm] = useState<string | null>(null);

  const load = useCallback(() => {
    api<{ entries: Entry[]; can_clear: Record<string, boolean> }>("cache")
      .then((found) => {
        setEntries(found.entries);
        setCanClear(found.can_clear);
      })
      .catch((e: Error) => setError(e.message));
  }, []);
  useEffect(load, [load]);

  const clear = (dagId: string, step: string, fingerprint?: string) => {
    const query = `step=${q(step)}${fingerprint ? `&fingerprint=${q(fingerprint)}` : ""}`;
    api<{ cleared: number }>(`cache/${q(dagId)}?${query}`, { method: "DELETE" })
      .then((done) => {
        setMessage(`Cleared ${done.cleared} entr${done.cleared === 1 ? "y" : "ies"} of ${dagId}.${step}; the step runs again next time.`);
        setConfirm(null);
        load();
      })
      .catch((e: Error) => setError(e.message));
  };

  if (error) return <p className="problem">{error}</p>;
  if (!entries) return <p className="muted">Loading the step cache…</p>;
  const dags = [...new Set(entries.map((e) => e.dag_id))];
  const shown = entries.filter((e) => !dag || e.dag_id === dag);
  const groups = [...new Set(shown.map((e) => `${e.dag_id}\u0000${e.step}`))];
  return (
    <div className="row">
      <div className="grow">
        <h2>Step cache</h2>
        <p className="muted">
          Results of steps, kept by fingerprint; a step whose fingerprint matches one is reused. Clearing makes it run again.
        </p>
        <label>
          DAG{" "}
          <select value={dag} onChange={(event) => setDag(event.target.value)}>
            <option value="">all DAGs</option>
            {dags.map((d) => (
              <option key={d}>{d}</option>
            ))}
          </select>
        </label>
        <p role="status">{message}</p>
        {groups.length === 0 && <p>No cached results{dag ? ` for ${dag}` : ""}.</p>}
        {groups.map((group) => {
          const [dagId, step] = group.split("\u0000");
          const rows = shown.filter((e) => e.dag_id === dagId && e.step === step);
          const allowed = canClear[dagId];
          const confirmKey = `${dagId}.${step}`;
          return (
            <section key={group} aria-label={`${dagId}.${step}`} data-cache-step={confirmKey}>
              <h3>
                {dagId}.{step}
              </h3>
              <button type="button" onClick={() => setExplain({ dag: dagId, step })}>
                Why did {step} run or get reused?
              </button>{" "}
              {confirm === confirmKey ? (
                <>
                  <button type="button" className="primary" onClick={() => clear(dagId, step)}>
                    Confirm: clear all {rows.length} of {step}
                  </button>{" "}
                  <button type="button" onClick={() => setConfirm(null)}>
                    Keep them
                  </button>
                </>
              ) : (
                <button type="button" disabled={!allowed} title={allowed ? undefined : "you may not clear this DAG's results"} onClick={() => setConfirm(confirmKey)}>
                  Clear every entry of {step}
                </button>
              )}
              <table>
                <thead>
                  <tr>
                    <th scope="col">fingerprint</th>
                    <th scope="col">produced by run</th>
                    <th scope="col">created</th>
                    <th scope="col">outputs</th>
                    <th scope="col">size</th>
                    <th scope="col">reused</th>
                    <th scope="col">last reused</th>
                    <th scope="col">
                      <span className="sr-only">actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((entry) => (
                    <tr key={entry.fingerprint} data-fingerprint={entry.fingerprint}>
                      <td>
                        <code title={entry.fingerprint}>{shortDigest(entry.fingerprint)}</code>
                      </td>
                      <td>{entry.produced_by.run_id}</td>
                      <td>{formatTime(entry.created_at)}</td>
                      <td>{Object.keys(entry.outputs).join(", ")}</td>
                      <td>{formatBytes(entry.size)}</td>
                      <td>{entry.hits}×</td>
                      <td>{formatTime(entry.last_hit) || "never"}</td>
                      <td>
                        <button type="button" disabled={!allowed} onClick={() => clear(dagId, step, entry.fingerprint)}>
                          Clear entry {shortDigest(entry.fingerprint)}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          );
        })}
      </div>
      {explain && <Explain dagId={explain.dag} step={explain.step} onClose={() => setExplain(null)} />}
    </div>
  );
}
