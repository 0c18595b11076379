import { useEffect, useState } from "react";

import palette from "./palette.json";

type Theme = "light" | "dark";
type Colours = (typeof palette)["light"];

export const statusNames = Object.keys(palette.light.status) as (keyof Colours["status"])[];

export const statusLabel = (status: string): string =>
  (palette.light.status as Record<string, { label: string }>)[status]?.label ?? status;

const variables = (colours: Colours): string =>
  [
    `--mlp-panel:${colours.panel}`,
    `--mlp-text:${colours.text}`,
    `--mlp-muted:${colours.muted}`,
    `--mlp-line:${colours.line}`,
    `--mlp-accent:${colours.accent}`,
    `--mlp-accent-text:${colours.accentText}`,
    `--mlp-focus:${colours.focus}`,
    `--mlp-problem:${colours.problem}`,
    ...Object.entries(colours.status).flatMap(([name, style]) => {
      const key = name.replace(/[^a-z]/g, "-");
      return [`--mlp-${key}-bg:${style.bg}`, `--mlp-${key}-border:${style.border}`, `--mlp-${key}-text:${style.text}`];
    }),
  ].join(";");

const statusRules = statusNames
  .map((name) => {
    const key = name.replace(/[^a-z]/g, "-");
    return `.mlp [data-status="${name}"]{background:var(--mlp-${key}-bg);border-color:var(--mlp-${key}-border);color:var(--mlp-${key}-text)}
.mlp svg [data-status="${name}"] rect.box{fill:var(--mlp-${key}-bg);stroke:var(--mlp-${key}-border)}
.mlp svg [data-status="${name}"] text{fill:var(--mlp-${key}-text)}`;
  })
  .join("\n");

const CSS = `
.mlp{${variables(palette.light)};background:var(--mlp-panel);color:var(--mlp-text);font-size:14px;line-height:1.45;padding:12px;border-radius:6px}
.mlp[data-theme="dark"]{${variables(palette.dark)}}
.mlp *:focus-visible{outline:3px solid var(--mlp-focus);outline-offset:2px}
.mlp h2{font-size:18px;font-weight:600;margin:0 0 8px}
.mlp h3{font-size:15px;font-weight:600;margin:12px 0 6px}
.mlp a{color:var(--mlp-accent);text-decoration:underline}
.mlp .muted{color:var(--mlp-muted)}
.mlp .problem{color:var(--mlp-problem)}
.mlp button,.mlp select,.mlp input,.mlp textarea{font:inherit;color:var(--mlp-text);background:var(--mlp-panel);border:1px solid var(--mlp-line);border-radius:4px;padding:3px 8px}
.mlp button{cursor:pointer}
.mlp button.primary{background:var(--mlp-accent);color:var(--mlp-accent-text);border-color:var(--mlp-accent)}
.mlp button:disabled{cursor:not-allowed;opacity:.75}
.mlp table{border-collapse:collapse;width:100%;margin:4px 0}
.mlp th,.mlp td{border-bottom:1px solid var(--mlp-line);padding:4px 6px;text-align:left;vertical-align:top}
.mlp th{font-weight:600}
.mlp code,.mlp pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px}
.mlp pre{white-space:pre-wrap;max-height:320px;overflow:auto;border:1px solid var(--mlp-line);padding:6px;border-radius:4px}
.mlp .row{display:flex;gap:12px;align-items:flex-start;flex-wrap:wrap}
.mlp .grow{flex:1 1 420px;min-width:0}
.mlp .side{flex:0 1 460px;min-width:300px;border:1px solid var(--mlp-line);border-radius:6px;padding:10px;margin-top:8px}
.mlp .badge{display:inline-block;border:1px solid;border-radius:10px;padding:0 8px;font-size:12.5px;font-weight:600}
.mlp .graph{overflow:auto;border:1px solid var(--mlp-line);border-radius:6px}
.mlp svg .edge{fill:none;stroke:var(--mlp-line);stroke-width:1.6}
.mlp svg .edge.order{stroke-dasharray:5 4}
.mlp svg .edge-label{fill:var(--mlp-muted);font-size:11.5px}
.mlp svg .edge-label-bg{fill:var(--mlp-panel)}
.mlp svg g.node{cursor:pointer}
.mlp svg g.node:focus{outline:none}
.mlp svg g.node:focus rect.box,.mlp svg g.node.selected rect.box{stroke:var(--mlp-focus);stroke-width:3}
.mlp svg rect.box{stroke-width:1.6}
.mlp svg .port{fill:var(--mlp-panel);stroke:var(--mlp-line);stroke-width:1.5}
.mlp svg .port-label{font-size:11px}
.mlp svg .title{font-weight:600;font-size:13px}
.mlp svg .sub{font-size:11.5px}
.mlp .changed{font-weight:600}
.mlp dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:4px 0}
.mlp dt{color:var(--mlp-muted)}
.mlp dd{margin:0;overflow-wrap:anywhere}
.mlp .canvas{position:relative;border:1px dashed var(--mlp-line);border-radius:6px;min-height:420px;overflow:auto}
.mlp .palette button{display:block;width:100%;text-align:left;margin:3px 0}
.mlp label{display:block;margin:6px 0 2px;font-weight:600}
.mlp .sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
${statusRules}
`;

let injected = false;

export function injectStyles(): void {
  if (injected || typeof document === "undefined") return;
  const style = document.createElement("style");
  style.dataset.plugin = "ml-pipelines";
  style.textContent = CSS;
  document.head.appendChild(style);
  injected = true;
}

const hostTheme = (): Theme => {
  const root = document.documentElement;
  return root.classList.contains("dark") || root.style.colorScheme === "dark" ? "dark" : "light";
};

// Follows the Airflow UI's light/dark switch.
export function useTheme(): Theme {
  const [theme, setTheme] = useState<Theme>(hostTheme);
  useEffect(() => {
    const observer = new MutationObserver(() => setTheme(hostTheme()));
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ["class", "style"] });
    return () => observer.disconnect();
  }, []);
  return theme;
}
