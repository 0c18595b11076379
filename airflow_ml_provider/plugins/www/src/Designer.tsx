import { useEffect, useMemo, useState, type DragEvent } from "react";

import { api, ApiError } from "./api";
import { PipelineGraph, type GraphEdge, type GraphNode, type Point } from "./graph";

// The document is the pipeline spec itself (what is saved as <dag_id>.pipeline.yaml).
type Argument = string | number | boolean | { data: string } | { parameter: string };
type OutputDecl = string | { name: string; datastore?: string; directory?: boolean };
// A module step maps ports to data: inputs {port: data}, outputs {port: new data's name}.
type PortMap = Record<string, string>;
type SpecStep = {
  name: string;
  kind?: string;
  script?: string;
  source_directory?: string;
  compute_target?: string;
  inputs?: string[] | PortMap;
  outputs?: OutputDecl[] | Record<string, OutputDecl>;
  module?: string;
  version?: string;
  parameters?: Record<string, unknown>;
  arguments?: Argument[];
  hyperparameters?: Record<string, unknown>;
  register_model?: string;
  source?: string;
  destination?: OutputDecl;
  [key: string]: unknown;
};
type Spec = {
  version: number;
  dag_id: string;
  description?: string;
  schedule?: string | null;
  parameters?: Record<string, unknown>;
  data?: Record<string, { datastore?: string; path: string }>;
  steps: SpecStep[];
  layout?: Record<string, Point>;
  [key: string]: unknown;
};
type Problem = { step: string | null; key: string | null; message: string };
// A published module version, as the palette lists it.
type ModuleView = {
  module: string;
  version: string;
  default: boolean;
  description: string;
  status: string;
  script: string;
  inputs: { name: string; optional: boolean; description: string }[];
  outputs: { name: string; directory: boolean; description: string }[];
  parameters: { name: string; default: unknown; type: string | null; description: string }[];
};
type Palette = {
  kinds: string[];
  scripts: { script: string; source_directory: string }[];
  compute_targets: string[];
  datastores: string[];
  modules: ModuleView[];
  folder: string;
};
type SpecFile = { file: string; dag_id: string | null; steps: number; problem: string | null };
type Template = { label: string; step?: Partial<SpecStep>; data?: boolean; module?: ModuleView };

const EMPTY: Spec = { version: 1, dag_id: "new_pipeline", schedule: null, parameters: {}, data: {}, steps: [], layout: {} };

const outputName = (output: OutputDecl): string => (typeof output === "string" ? output : output.name);
const listOf = <T,>(value: T[] | Record<string, T> | undefined): T[] => (Array.isArray(value) ? value : []);
const portsOf = <T,>(value: T[] | Record<string, T> | undefined): Record<string, T> =>
  value && !Array.isArray(value) && typeof value === "object" ? value : {};
const stepOutputs = (step: SpecStep): string[] =>
  step.kind === "data_transfer"
    ? step.destination
      ? [outputName(step.destination)]
      : []
    : step.kind === "module"
      ? Object.values(portsOf(step.outputs)).map(outputName)
      : listOf(step.outputs).map(outputName);
const stepInputs = (step: SpecStep): string[] =>
  step.kind === "data_transfer" ? (step.source ? [step.source] : []) : step.kind === "module" ? Object.values(portsOf(step.inputs)) : listOf(step.inputs);
const moduleOf = (step: SpecStep, palette: Palette | null): ModuleView | undefined => {
  const versions = (palette?.modules ?? []).filter((m) => m.module === step.module);
  return versions.find((m) => (step.version === undefined ? m.default : m.version === String(step.version)));
};
const valueText = (value: unknown): string =>
  typeof value === "object" && value !== null && "parameter" in value ? `param:${(value as { parameter: string }).parameter}` : value === undefined ? "" : String(value);

const argumentsText = (values: Argument[] = []): string =>
  values
    .map((value) =>
      typeof value === "object" ? ("data" in value ? `data:${value.data}` : `param:${value.parameter}`) : String(value),
    )
    .join("\n");
const parseArguments = (text: string): Argument[] =>
  text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => (line.startsWith("data:") ? { data: line.slice(5) } : line.startsWith("param:") ? { parameter: line.slice(6) } : line));

const parseValue = (text: string): unknown => {
  const trimmed = text.trim();
  if (trimmed === "true" || trimmed === "false") return trimmed === "true";
  return trimmed !== "" && !Number.isNaN(Number(trimmed)) ? Number(trimmed) : trimmed;
};

const uniqueName = (base: string, taken: string[]): string => {
  const clean = base.replace(/[^A-Za-z0-9_-]/g, "_") || "step";
  let name = clean;
  for (let i = 2; taken.includes(name); i += 1) name = `${clean}_${i}`;
  return name;
};

function StepEditor({
  step,
  spec,
  palette,
  problems,
  update,
  remove,
}: {
  step: SpecStep;
  spec: Spec;
  palette: Palette | null;
  problems: Problem[];
  update: (changes: Partial<SpecStep>) => void;
  remove: () => void;
}) {
  const available = [
    ...Object.keys(spec.data ?? {}),
    ...spec.steps.filter((s) => s.name !== step.name).flatMap(stepOutputs),
  ];
  const kind = step.kind ?? "python_script";
  if (kind === "module") return <ModuleStepEditor step={step} palette={palette} available={available} problems={problems} update={update} remove={remove} />;
  return (
    <section className="side" aria-label={`edit step ${step.name}`}>
      <h2>Step {step.name}</h2>
      {problems.map((p) => (
        <p key={p.message} className="problem">
          {p.message}
        </p>
      ))}
      <label htmlFor="step-name">Name</label>
      <input id="step-name" value={step.name} onChange={(event) => update({ name: event.target.value })} />
      <label htmlFor="step-kind">Kind</label>
      <select id="step-kind" value={kind} onChange={(event) => update({ kind: event.target.value })}>
        {(palette?.kinds ?? ["python_script", "estimator", "data_transfer"]).filter((k) => k !== "module").map((k) => (
          <option key={k} value={k}>
            {k.replace("_", " ")}
          </option>
        ))}
      </select>
      {kind === "data_transfer" ? (
        <>
          <label htmlFor="step-source">Copy from</label>
          <select id="step-source" value={step.source ?? ""} onChange={(event) => update({ source: event.target.value })}>
            <option value="">choose data</option>
            {available.map((name) => (
              <option key={name}>{name}</option>
            ))}
          </select>
          <label htmlFor="step-destination">Copy to (a new output)</label>
          <input id="step-destination" value={step.destination ? outputName(step.destination) : ""} onChange={(event) => update({ destination: event.target.value })} />
        </>
      ) : (
        <>
          <label htmlFor="step-script">Script</label>
          <input id="step-script" value={step.script ?? ""} onChange={(event) => update({ script: event.target.value })} />
          <label htmlFor="step-folder">Source folder (relative to the spec file)</label>
          <input id="step-folder" value={step.source_directory ?? ""} onChange={(event) => update({ source_directory: event.target.value })} />
          <label htmlFor="step-target">Compute target</label>
          <select id="step-target" value={step.compute_target ?? "local"} onChange={(event) => update({ compute_target: event.target.value })}>
            {[...new Set([...(palette?.compute_targets ?? ["local"]), step.compute_target ?? "local"])].map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
          <fieldset>
            <legend>Inputs</legend>
            {available.length === 0 && <p className="muted">no data yet: add a data reference or another step's output</p>}
            {available.map((name) => (
              <label key={name} style={{ fontWeight: 400 }}>
                <input
                  type="checkbox"
                  checked={listOf(step.inputs).includes(name)}
                  onChange={(event) =>
                    update({
                      inputs: event.target.checked ? [...listOf(step.inputs), name] : listOf(step.inputs).filter((i) => i !== name),
                    })
                  }
                />{" "}
                {name}
              </label>
            ))}
          </fieldset>
          <label htmlFor="step-outputs">Outputs (names, comma separated)</label>
          <input
            id="step-outputs"
            value={listOf(step.outputs).map(outputName).join(", ")}
            onChange={(event) =>
              update({
                outputs: event.target.value
                  .split(",")
                  .map((s) => s.trim())
                  .filter(Boolean),
              })
            }
          />
          <label htmlFor="step-arguments">Arguments, one a line (data:NAME is a data path, param:NAME a parameter)</label>
          <textarea id="step-arguments" rows={6} value={argumentsText(step.arguments)} onChange={(event) => update({ arguments: parseArguments(event.target.value) })} />
          {kind === "estimator" && (
            <>
              <label htmlFor="step-register">Register the model as</label>
              <input id="step-register" value={step.register_model ?? ""} onChange={(event) => update({ register_model: event.target.value || undefined })} />
            </>
          )}
        </>
      )}
      <p>
        <button type="button" onClick={remove}>
          Remove step {step.name}
        </button>
      </p>
    </section>
  );
}

function ModuleStepEditor({
  step,
  palette,
  available,
  problems,
  update,
  remove,
}: {
  step: SpecStep;
  palette: Palette | null;
  available: string[];
  problems: Problem[];
  update: (changes: Partial<SpecStep>) => void;
  remove: () => void;
}) {
  const view = moduleOf(step, palette);
  const versions = (palette?.modules ?? []).filter((m) => m.module === step.module);
  const inputs = portsOf(step.inputs);
  const outputs = portsOf(step.outputs);
  const parameters = step.parameters ?? {};
  return (
    <section className="side" aria-label={`edit step ${step.name}`}>
      <h2>Step {step.name}</h2>
      {problems.map((p) => (
        <p key={p.message} className="problem">
          {p.message}
        </p>
      ))}
      <p>
        Module <strong>{step.module}</strong>
        {view?.description ? `: ${view.description}` : ""}
      </p>
      <label htmlFor="step-name">Name</label>
      <input id="step-name" value={step.name} onChange={(event) => update({ name: event.target.value })} />
      <label htmlFor="step-module-version">Module version</label>
      <select id="step-module-version" value={step.version ?? ""} onChange={(event) => update({ version: event.target.value || undefined })}>
        <option value="">the default version</option>
        {[...new Set([...versions.map((m) => m.version), ...(step.version ? [String(step.version)] : [])])].map((v) => (
          <option key={v} value={v}>
            {v}
            {versions.find((m) => m.version === v)?.status === "Deprecated" ? " (deprecated)" : ""}
          </option>
        ))}
      </select>
      <label htmlFor="step-target">Compute target</label>
      <select id="step-target" value={step.compute_target ?? "local"} onChange={(event) => update({ compute_target: event.target.value })}>
        {[...new Set([...(palette?.compute_targets ?? ["local"]), step.compute_target ?? "local"])].map((t) => (
          <option key={t}>{t}</option>
        ))}
      </select>
      {!view && <p className="muted">This module version is not in the palette: the check says whether it is published.</p>}
      <fieldset>
        <legend>Input ports</legend>
        {(view?.inputs ?? Object.keys(inputs).map((name) => ({ name, optional: false, description: "" }))).map((port) => (
          <div key={port.name}>
            <label htmlFor={`port-in-${port.name}`}>
              Input port {port.name}
              {port.optional ? " (optional)" : ""}
            </label>
            <select
              id={`port-in-${port.name}`}
              value={inputs[port.name] ?? ""}
              onChange={(event) => {
                const next = { ...inputs };
                if (event.target.value) next[port.name] = event.target.value;
                else delete next[port.name];
                update({ inputs: next });
              }}
            >
              <option value="">not connected</option>
              {[...new Set([...available, ...(inputs[port.name] ? [inputs[port.name]] : [])])].map((name) => (
                <option key={name}>{name}</option>
              ))}
            </select>
          </div>
        ))}
      </fieldset>
      <fieldset>
        <legend>Output ports</legend>
        {(view?.outputs ?? Object.keys(outputs).map((name) => ({ name }))).map((port) => (
          <div key={port.name}>
            <label htmlFor={`port-out-${port.name}`}>Output port {port.name}: data name</label>
            <input
              id={`port-out-${port.name}`}
              value={outputs[port.name] ? outputName(outputs[port.name]) : ""}
              onChange={(event) => update({ outputs: { ...outputs, [port.name]: event.target.value } })}
            />
          </div>
        ))}
      </fieldset>
      {(view?.parameters ?? []).length > 0 && (
        <fieldset>
          <legend>Parameters (param:NAME is a pipeline parameter)</legend>
          {(view?.parameters ?? []).map((parameter) => (
            <div key={parameter.name}>
              <label htmlFor={`module-param-${parameter.name}`}>Parameter {parameter.name}</label>
              <input
                id={`module-param-${parameter.name}`}
                placeholder={`default: ${String(parameter.default)}`}
                value={valueText(parameters[parameter.name])}
                onChange={(event) => {
                  const next = { ...parameters };
                  const text = event.target.value;
                  if (text.trim() === "") delete next[parameter.name];
                  else next[parameter.name] = text.startsWith("param:") ? { parameter: text.slice(6) } : parseValue(text);
                  update({ parameters: next });
                }}
              />
            </div>
          ))}
        </fieldset>
      )}
      <p>
        <button type="button" onClick={remove}>
          Remove step {step.name}
        </button>
      </p>
    </section>
  );
}

function PipelineEditor({ spec, palette, set }: { spec: Spec; palette: Palette | null; set: (spec: Spec) => void }) {
  const parameters = Object.entries(spec.parameters ?? {})
    .map(([name, value]) => `${name} = ${typeof value === "object" && value !== null && "default" in value ? (value as { default: unknown }).default : value}`)
    .join("\n");
  return (
    <section className="side" aria-label="pipeline settings">
      <h2>Pipeline</h2>
      <label htmlFor="dag-id">DAG id</label>
      <input id="dag-id" value={spec.dag_id} onChange={(event) => set({ ...spec, dag_id: event.target.value })} />
      <label htmlFor="dag-description">Description</label>
      <input id="dag-description" value={spec.description ?? ""} onChange={(event) => set({ ...spec, description: event.target.value || undefined })} />
      <label htmlFor="dag-schedule">Schedule (cron or preset; empty: none)</label>
      <input id="dag-schedule" value={spec.schedule ?? ""} onChange={(event) => set({ ...spec, schedule: event.target.value || null })} />
      <label htmlFor="dag-parameters">Parameters, one a line: name = default</label>
      <textarea
        id="dag-parameters"
        rows={4}
        defaultValue={parameters}
        onBlur={(event) =>
          set({
            ...spec,
            parameters: Object.fromEntries(
              event.target.value
                .split("\n")
                .filter((line) => line.includes("="))
                .map((line) => [line.split("=")[0].trim(), { default: parseValue(line.slice(line.indexOf("=") + 1)) }]),
            ),
          })
        }
      />
      <h3>Data that exists before the pipeline</h3>
      {Object.entries(spec.data ?? {}).map(([name, data]) => (
        <fieldset key={name}>
          <legend>{name}</legend>
          <label htmlFor={`data-${name}-store`}>Datastore</label>
          <select id={`data-${name}-store`} value={data.datastore ?? "default"} onChange={(event) => set({ ...spec, data: { ...spec.data, [name]: { ...data, datastore: event.target.value } } })}>
            {[...new Set([...(palette?.datastores ?? ["default"]), data.datastore ?? "default"])].map((d) => (
              <option key={d}>{d}</option>
            ))}
          </select>
          <label htmlFor={`data-${name}-path`}>Path on the datastore</label>
          <input id={`data-${name}-path`} value={data.path} onChange={(event) => set({ ...spec, data: { ...spec.data, [name]: { ...data, path: event.target.value } } })} />
        </fieldset>
      ))}
    </section>
  );
}

export function Designer() {
  const [spec, setSpec] = useState<Spec>(EMPTY);
  const [file, setFile] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [palette, setPalette] = useState<Palette | null>(null);
  const [specs, setSpecs] = useState<SpecFile[]>([]);
  const [choice, setChoice] = useState("");
  const [problems, setProblems] = useState<Problem[] | null>(null);
  const [status, setStatus] = useState<string>("");

  useEffect(() => {
    api<Palette>("designer/palette").then(setPalette).catch((e: Error) => setStatus(e.message));
    api<SpecFile[]>("designer/specs").then(setSpecs).catch(() => setSpecs([]));
  }, []);

  // Checked as the DAG file's parse would check it, a moment after each change.
  useEffect(() => {
    if (spec.steps.length === 0) {
      setProblems(null);
      return;
    }
    const timer = window.setTimeout(() => {
      api<{ problems: Problem[] }>("designer/check", { method: "POST", body: JSON.stringify({ document: spec }) })
        .then((found) => setProblems(found.problems))
        .catch((e: Error) => setStatus(e.message));
    }, 400);
    return () => window.clearTimeout(timer);
  }, [spec]);

  const layout = spec.layout ?? {};
  const nodes: GraphNode[] = useMemo(
    () => [
      ...Object.entries(spec.data ?? {}).map(([name, data]) => ({ id: `data:${name}`, title: name, subtitle: `${data.datastore ?? "default"}:${data.path}`, status: "data", inputs: [], outputs: [name] })),
      ...spec.steps.map((step) => ({
        id: step.name,
        title: step.name,
        subtitle:
          step.kind === "data_transfer" ? "copy" : step.kind === "module" ? `module ${step.module}${step.version ? ` v${step.version}` : ""}` : step.script ?? "",
        status: "not started",
        // A module step shows its input ports by name, connected or not.
        inputs: step.kind === "module" ? (moduleOf(step, palette)?.inputs.map((p) => p.name) ?? Object.keys(portsOf(step.inputs))) : stepInputs(step),
        outputs: stepOutputs(step),
        problem: problems?.some((p) => p.step === step.name),
      })),
    ],
    [spec, problems, palette],
  );
  const edges: GraphEdge[] = useMemo(() => {
    const producers: Record<string, string> = {};
    spec.steps.forEach((step) => stepOutputs(step).forEach((o) => (producers[o] = step.name)));
    return spec.steps.flatMap((step) =>
      step.kind === "module"
        ? Object.entries(portsOf(step.inputs)).map(([port, name]) => ({ source: producers[name] ?? `data:${name}`, target: step.name, data: name, port }))
        : stepInputs(step).map((name) => ({ source: producers[name] ?? `data:${name}`, target: step.name, data: name })),
    );
  }, [spec]);

  const freeSpot = (): Point => {
    const taken = Object.values(layout);
    const x = 16 + (taken.length % 4) * 260;
    const y = 16 + Math.floor(taken.length / 4) * 150;
    return { x, y };
  };

  const add = (template: Template, at?: Point) => {
    const names = [...spec.steps.map((s) => s.name), ...Object.keys(spec.data ?? {})];
    if (template.data) {
      const name = uniqueName("data", names);
      setSpec({ ...spec, data: { ...spec.data, [name]: { datastore: "default", path: "" } }, layout: { ...layout, [`data:${name}`]: at ?? freeSpot() } });
      setSelected(null);
      setStatus(`Added data ${name}: set its datastore and path under Pipeline.`);
      return;
    }
    if (template.module) {
      const found = template.module;
      const name = uniqueName(found.module, names);
      const taken = [...names, name, ...spec.steps.flatMap(stepOutputs)];
      const outputs: PortMap = {};
      found.outputs.forEach((port) => {
        outputs[port.name] = uniqueName(`${name}_${port.name}`, taken);
        taken.push(outputs[port.name]);
      });
      const step: SpecStep = { name, kind: "module", module: found.module, version: found.version, inputs: {}, outputs, parameters: {} };
      setSpec({ ...spec, steps: [...spec.steps, step], layout: { ...layout, [name]: at ?? freeSpot() } });
      setSelected(name);
      setStatus(`Added step ${name}, module ${found.module} version ${found.version}.`);
      return;
    }
    const base = template.step?.script?.replace(/\.py$/, "") ?? template.step?.kind ?? "step";
    const name = uniqueName(base, names);
    const step: SpecStep = { name, ...template.step };
    if (step.kind !== "data_transfer") {
      step.inputs = [];
      step.outputs = [];
      step.arguments = [];
    }
    setSpec({ ...spec, steps: [...spec.steps, step], layout: { ...layout, [name]: at ?? freeSpot() } });
    setSelected(name);
    setStatus(`Added step ${name}.`);
  };

  const templates: Template[] = [
    // Each module once: its default version, or its latest usable one when the default is disabled.
    ...(palette?.modules ?? [])
      .filter((m, i, all) => (all.some((o) => o.module === m.module && o.default) ? m.default : !all.slice(i + 1).some((o) => o.module === m.module)))
      .map((m) => ({ label: `module ${m.module} v${m.version} (${[...m.inputs.map((p) => `in ${p.name}`), ...m.outputs.map((p) => `out ${p.name}`)].join(", ")})`, module: m })),
    ...(palette?.scripts ?? []).map((s) => ({ label: `${s.source_directory}/${s.script}`, step: { script: s.script, source_directory: s.source_directory } })),
    { label: "Python script step", step: { script: "" } },
    { label: "Estimator step (trains, registers a model)", step: { kind: "estimator", script: "" } },
    { label: "Data transfer step (copies data)", step: { kind: "data_transfer" } },
    { label: "Data reference (existing data)", data: true },
  ];

  const updateStep = (name: string, changes: Partial<SpecStep>) => {
    const renamed = changes.name !== undefined && changes.name !== name ? changes.name : null;
    const steps = spec.steps.map((step) => (step.name === name ? { ...step, ...changes } : step));
    const nextLayout = { ...layout };
    if (renamed) {
      nextLayout[renamed] = nextLayout[name];
      delete nextLayout[name];
      setSelected(renamed);
    }
    setSpec({ ...spec, steps, layout: nextLayout });
  };

  const connect = (data: string, target: string) => {
    const step = spec.steps.find((s) => s.name === target);
    if (!step || stepOutputs(step).includes(data)) return;
    if (step.kind === "module") {
      const inputs = portsOf(step.inputs);
      const ports = moduleOf(step, palette)?.inputs.map((p) => p.name) ?? [];
      const open = ports.find((port) => !inputs[port]);
      if (!open) {
        setStatus(`Every input port of ${target} is connected: change one in the step's panel.`);
        return;
      }
      updateStep(target, { inputs: { ...inputs, [open]: data } });
      setStatus(`Connected ${data} to input port ${open} of ${target}.`);
      return;
    }
    if (step.kind === "data_transfer") {
      updateStep(target, { source: data });
    } else if (!listOf(step.inputs).includes(data)) {
      updateStep(target, { inputs: [...listOf(step.inputs), data], arguments: [...(step.arguments ?? []), `--${data}`, { data }] });
    }
    setStatus(`Connected ${data} to ${target}.`);
  };

  const open = (name: string) =>
    api<{ file: string; document: Spec }>(`designer/spec?file=${encodeURIComponent(name)}`)
      .then((found) => {
        setSpec({ layout: {}, ...found.document });
        setFile(found.file);
        setSelected(null);
        setStatus(`Opened ${found.file}.`);
      })
      .catch((e: Error) => setStatus(e.message));

  const save = () =>
    api<{ file: string; loader: string }>("designer/spec", { method: "PUT", body: JSON.stringify({ document: spec, file }) })
      .then((done) => {
        setFile(done.file);
        setStatus(`Saved ${done.file} (DAG file ${done.loader}); the DAG processor picks it up on its next pass.`);
      })
      .catch((e: ApiError) => {
        const detail = e.detail as { problems?: Problem[] } | string;
        if (typeof detail === "object" && detail?.problems) {
          setProblems(detail.problems);
          setStatus("Not saved: the pipeline has problems.");
        } else setStatus(`Not saved: ${e.message}`);
      });

  const drop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    const index = Number(event.dataTransfer.getData("text/plain"));
    const box = event.currentTarget.getBoundingClientRect();
    if (templates[index]) add(templates[index], { x: Math.max(0, event.clientX - box.left - 40), y: Math.max(0, event.clientY - box.top - 20) });
  };

  const current = spec.steps.find((s) => s.name === selected);
  return (
    <div>
      <h2>Pipeline designer</h2>
      <div className="row">
        <label>
          Open a pipeline spec{" "}
          <select value={choice} onChange={(event) => setChoice(event.target.value)}>
            <option value="">choose a spec</option>
            {specs.map((s) => (
              <option key={s.file} value={s.file}>
                {s.file} {s.dag_id ? `(${s.dag_id})` : ""}
              </option>
            ))}
          </select>
        </label>
        <button type="button" disabled={!choice} onClick={() => open(choice)}>
          Open
        </button>
        <button
          type="button"
          onClick={() => {
            setSpec(EMPTY);
            setFile(null);
            setSelected(null);
          }}
        >
          New pipeline
        </button>
        <button type="button" className="primary" disabled={spec.steps.length === 0 || (problems?.length ?? 1) > 0} onClick={save}>
          Save {file ?? `${spec.dag_id}.pipeline.yaml`}
        </button>
      </div>
      <p role="status" aria-live="polite">
        {status}
      </p>
      <div className="row">
        <nav className="palette" aria-label="steps to add" style={{ flex: "0 0 230px" }}>
          <h3>Add to the pipeline</h3>
          <p className="muted">Drag onto the canvas, or press a button.</p>
          {templates.map((template, index) => (
            <button key={template.label} type="button" draggable onDragStart={(event) => event.dataTransfer.setData("text/plain", String(index))} onClick={() => add(template)}>
              + {template.label}
            </button>
          ))}
          {palette && palette.modules.length === 0 && <p className="muted">No published modules (airflow-ml module publish adds one).</p>}
        </nav>
        <div className="grow canvas" onDragOver={(event) => event.preventDefault()} onDrop={drop} data-testid="canvas">
          <PipelineGraph
            nodes={nodes}
            edges={edges}
            selected={selected}
            onSelect={(id) => setSelected(id.startsWith("data:") ? null : id)}
            positions={Object.fromEntries(nodes.map((n, i) => [n.id, layout[n.id] ?? { x: 16 + (i % 4) * 260, y: 16 + Math.floor(i / 4) * 150 }]))}
            onMove={(id, to) => setSpec({ ...spec, layout: { ...layout, [id]: to } })}
            onConnect={connect}
            label={`pipeline ${spec.dag_id} being designed`}
            showStatus={false}
          />
          <p className="muted">Drag from an output port (right edge) onto a step to connect; select a step and use the arrow keys to move it.</p>
        </div>
        {current ? (
          <StepEditor
            step={current}
            spec={spec}
            palette={palette}
            problems={problems?.filter((p) => p.step === current.name) ?? []}
            update={(changes) => updateStep(current.name, changes)}
            remove={() => {
              setSpec({ ...spec, steps: spec.steps.filter((s) => s.name !== current.name) });
              setSelected(null);
            }}
          />
        ) : (
          <PipelineEditor spec={spec} palette={palette} set={setSpec} />
        )}
      </div>
      <section aria-label="problems" data-testid="problems">
        <h3>Checks</h3>
        {problems === null ? (
          <p className="muted">Add steps; the pipeline is checked as you edit it.</p>
        ) : problems.length === 0 ? (
          <p>No problems: this pipeline can be saved.</p>
        ) : (
          <ul>
            {problems.map((p) => (
              <li key={p.message} className="problem">
                {p.message}
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
