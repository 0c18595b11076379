import { type ReactNode } from "react";

import { CachePage } from "./CachePage";
import { DagView } from "./DagView";
import { Designer } from "./Designer";
import { RunView } from "./RunView";
import { injectStyles, useTheme } from "./styles";

// Airflow passes the page's context: dagId on a DAG's tab, dagId and runId on a run's tab.
type PluginProps = { dagId?: string; runId?: string };

function Frame({ children, view }: { children: ReactNode; view: string }) {
  injectStyles();
  const theme = useTheme();
  return (
    <div className="mlp" data-theme={theme} data-view={view}>
      {children}
    </div>
  );
}

const PipelineRun = ({ dagId, runId }: PluginProps) => (
  <Frame view="run">{dagId && runId ? <RunView dagId={dagId} runId={runId} /> : <p>Open this tab from a DAG run.</p>}</Frame>
);

const PipelineGraphPage = ({ dagId }: PluginProps) => (
  <Frame view="dag">{dagId ? <DagView dagId={dagId} /> : <p>Open this tab from a DAG.</p>}</Frame>
);

const StepCache = () => (
  <Frame view="cache">
    <CachePage />
  </Frame>
);

const PipelineDesigner = () => (
  <Frame view="designer">
    <Designer />
  </Frame>
);

// Airflow's loader looks up each React app by its name first (see the plugin's VIEWS).
const views: Record<string, (props: PluginProps) => ReactNode> = {
  Pipeline: PipelineRun,
  "Pipeline graph": PipelineGraphPage,
  "Step cache": StepCache,
  "Pipeline designer": PipelineDesigner,
};
Object.entries(views).forEach(([name, component]) => Reflect.set(globalThis, name, component));

export default PipelineRun;
