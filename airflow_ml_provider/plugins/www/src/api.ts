// Calls to the plugin's routes, relative to the Airflow UI's base URL; the browser sends the
// Airflow session cookie, and each route checks the user's rights on the DAG it is about.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
  ) {
    super(typeof detail === "string" ? detail : `request failed (${status})`);
  }
}

export const apiUrl = (path: string): string => new URL(`ml-pipelines/api/${path}`, document.baseURI).href;

export const mlflowHome = (): string => new URL("ml-pipelines/mlflow/", document.baseURI).href;

export async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(apiUrl(path), {
    credentials: "same-origin",
    headers: init?.body ? { "Content-Type": "application/json" } : undefined,
    ...init,
  });
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    throw new ApiError(response.status, typeof body === "object" && body !== null && "detail" in body ? body.detail : body);
  }
  return body as T;
}

export const q = encodeURIComponent;

export type Reference = {
  uri: string;
  digest?: string;
  size?: number;
  files?: number;
  produced_by?: { dag_id?: string; run_id?: string; task_id?: string; try?: number };
};

export type DataPort = {
  name: string;
  kind: "reference" | "pipeline_data";
  datastore?: string;
  path?: string;
  directory?: boolean;
  mode?: string | null;
};

export type TrackingRun = {
  run_id: string;
  status: string;
  metrics: Record<string, number>;
  url: string | null;
  reused_from?: string | null;
};

export type Step = {
  name: string;
  kind: string;
  compute_target: string;
  script?: string;
  source_directory?: string;
  inputs: DataPort[];
  outputs: DataPort[];
  destination?: DataPort;
  register_model?: string;
  status: string;
  duration: number | null;
  decision: { decision: string; message: string; fingerprint: string | null; at: number } | null;
  references: Record<string, Reference>;
  mlflow_run_id?: string | null;
  mlflow?: TrackingRun | null;
  model_version?: string | null;
  transfer?: { bytes: number; files: number; seconds: number; bytes_per_second: number } | null;
};

export type RunSummary = {
  dag_id: string;
  run_id: string | null;
  state?: string | null;
  logical_date?: string | null;
  start?: string | null;
  end?: string | null;
  params?: Record<string, unknown>;
};

export type Edge = { source: string; target: string; data: string | null };

export type PipelineView = {
  run: RunSummary;
  steps: Step[];
  data: (DataPort & { id: string })[];
  edges: Edge[];
};

export const formatBytes = (bytes?: number | null): string => {
  if (bytes === undefined || bytes === null) return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
};

export const formatSeconds = (seconds?: number | null): string =>
  seconds === undefined || seconds === null ? "" : seconds < 90 ? `${seconds.toFixed(1)} s` : `${(seconds / 60).toFixed(1)} min`;

export const shortDigest = (digest?: string | null): string => (digest ? digest.replace(/^blake3:/, "").slice(0, 12) : "");

export const formatTime = (epochSeconds?: number | null): string =>
  epochSeconds ? new Date(epochSeconds * 1000).toISOString().replace("T", " ").slice(0, 19) : "";
