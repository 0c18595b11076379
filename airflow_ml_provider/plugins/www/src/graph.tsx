import { useRef, useState, type KeyboardEvent, type PointerEvent } from "react";

import { statusLabel } from "./styles";

// A pipeline drawn as boxes (steps, and the data that exists before the pipeline) with input
// ports on the left, output ports on the right, and edges labelled by the data they carry.
export type GraphNode = {
  id: string;
  title: string;
  subtitle: string;
  status: string;
  inputs: string[];
  outputs: string[];
  problem?: boolean;
};

// ``port``: the target's input port the data goes to, where ports have names of their own
// (a module step's); else the target's input of the data's name.
export type GraphEdge = { source: string; target: string; data: string | null; port?: string };

export type Point = { x: number; y: number };

const WIDTH = 184;
const DATA_WIDTH = 150;
const HEAD = 44;
const PORT = 17;
const GAP_X = 64;
const GAP_Y = 28;

const width = (node: GraphNode): number => (node.id.startsWith("data:") ? DATA_WIDTH : WIDTH);
const height = (node: GraphNode): number => HEAD + PORT * Math.max(node.inputs.length, node.outputs.length, 1) + 6;
const portY = (index: number): number => HEAD + PORT * index + PORT / 2;
// What fits on a line of a box (about 6.6 px a character); the whole text is in the tooltip.
const fit = (text: string, box: number): string => {
  const room = Math.floor((box - 16) / 6.6);
  return text.length > room ? `${text.slice(0, room - 1)}…` : text;
};

// Layers by longest path from the sources; within a layer, ordered by where their inputs come from.
export function layout(nodes: GraphNode[], edges: GraphEdge[]): Record<string, Point> {
  const layer: Record<string, number> = {};
  const incoming = (id: string) => edges.filter((e) => e.target === id).map((e) => e.source);
  const visit = (id: string, seen: Set<string>): number => {
    if (layer[id] !== undefined) return layer[id];
    if (seen.has(id)) return 0;
    seen.add(id);
    const sources = incoming(id).filter((s) => nodes.some((n) => n.id === s));
    layer[id] = sources.length ? Math.max(...sources.map((s) => visit(s, seen) + 1)) : 0;
    return layer[id];
  };
  nodes.forEach((node) => visit(node.id, new Set()));
  // Data used by one step sits just before it.
  nodes.forEach((node) => {
    if (node.id.startsWith("data:")) {
      const users = edges.filter((e) => e.source === node.id).map((e) => layer[e.target] ?? 1);
      if (users.length) layer[node.id] = Math.max(0, Math.min(...users) - 1);
    }
  });
  const columns: GraphNode[][] = [];
  nodes.forEach((node) => (columns[layer[node.id]] ??= []).push(node));
  const positions: Record<string, Point> = {};
  let x = 16;
  columns.forEach((column) => {
    if (!column) return;
    const centre = (node: GraphNode): number => {
      const ys = incoming(node.id)
        .map((s) => positions[s])
        .filter(Boolean)
        .map((p) => p.y);
      return ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : 0;
    };
    column.sort((a, b) => centre(a) - centre(b));
    let y = 16;
    column.forEach((node) => {
      positions[node.id] = { x, y };
      y += height(node) + GAP_Y;
    });
    x += Math.max(...column.map(width)) + GAP_X;
  });
  return positions;
}

type Props = {
  nodes: GraphNode[];
  edges: GraphEdge[];
  selected: string | null;
  onSelect: (id: string) => void;
  positions?: Record<string, Point>;
  onMove?: (id: string, to: Point) => void;
  onConnect?: (data: string, target: string) => void;
  label: string;
  // The designer draws steps that have not run: no status line.
  showStatus?: boolean;
};

export function PipelineGraph({ nodes, edges, selected, onSelect, positions, onMove, onConnect, label, showStatus = true }: Props) {
  const placed = positions ?? layout(nodes, edges);
  const byId = Object.fromEntries(nodes.map((node) => [node.id, node]));
  const svg = useRef<SVGSVGElement>(null);
  const [drag, setDrag] = useState<{ id: string; dx: number; dy: number } | null>(null);
  const [wire, setWire] = useState<{ data: string; from: Point; to: Point } | null>(null);

  const maxX = Math.max(600, ...nodes.map((n) => (placed[n.id]?.x ?? 0) + width(n) + 40));
  const maxY = Math.max(200, ...nodes.map((n) => (placed[n.id]?.y ?? 0) + height(n) + 40));

  const local = (event: PointerEvent): Point => {
    const box = svg.current?.getBoundingClientRect();
    return { x: event.clientX - (box?.left ?? 0), y: event.clientY - (box?.top ?? 0) };
  };

  const key = (event: KeyboardEvent, id: string) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      onSelect(id);
    }
    const moves: Record<string, Point> = { ArrowLeft: { x: -20, y: 0 }, ArrowRight: { x: 20, y: 0 }, ArrowUp: { x: 0, y: -20 }, ArrowDown: { x: 0, y: 20 } };
    if (onMove && moves[event.key] && placed[id]) {
      event.preventDefault();
      onMove(id, { x: Math.max(0, placed[id].x + moves[event.key].x), y: Math.max(0, placed[id].y + moves[event.key].y) });
    }
  };

  const edgePath = (edge: GraphEdge) => {
    const source = byId[edge.source];
    const target = byId[edge.target];
    if (!source || !target || !placed[edge.source] || !placed[edge.target]) return null;
    const out = edge.data ? Math.max(0, source.outputs.indexOf(edge.data)) : 0;
    const inn = edge.data ? Math.max(0, target.inputs.indexOf(edge.port ?? edge.data)) : 0;
    const from = { x: placed[edge.source].x + width(source), y: placed[edge.source].y + (edge.data ? portY(out) : HEAD / 2) };
    const to = { x: placed[edge.target].x, y: placed[edge.target].y + (edge.data ? portY(inn) : HEAD / 2) };
    const bend = Math.max(40, (to.x - from.x) / 2);
    return { d: `M${from.x},${from.y} C${from.x + bend},${from.y} ${to.x - bend},${to.y} ${to.x},${to.y}`, mid: { x: (from.x + to.x) / 2, y: (from.y + to.y) / 2 } };
  };

  return (
    <div className="graph">
      <svg
        ref={svg}
        width={maxX}
        height={maxY}
        role="group"
        aria-label={label}
        onPointerMove={(event) => {
          if (drag && onMove) onMove(drag.id, { x: Math.max(0, local(event).x - drag.dx), y: Math.max(0, local(event).y - drag.dy) });
          if (wire) setWire({ ...wire, to: local(event) });
        }}
        onPointerUp={(event) => {
          setDrag(null);
          if (wire && onConnect) {
            const at = local(event);
            const target = nodes.find((n) => placed[n.id] && at.x >= placed[n.id].x && at.x <= placed[n.id].x + width(n) && at.y >= placed[n.id].y && at.y <= placed[n.id].y + height(n));
            if (target && !target.id.startsWith("data:")) onConnect(wire.data, target.id);
          }
          setWire(null);
        }}
      >
        <title>{label}</title>
        {edges.map((edge) => {
          const path = edgePath(edge);
          if (!path) return null;
          return (
            <g key={`${edge.source}-${edge.target}-${edge.data}-${edge.port ?? ""}`}>
              <path className={edge.data ? "edge" : "edge order"} d={path.d} markerEnd="url(#mlp-arrow)" />
              {edge.data && (
                <>
                  <rect className="edge-label-bg" x={path.mid.x - edge.data.length * 3.4 - 3} y={path.mid.y - 16} width={edge.data.length * 6.8 + 6} height={14} rx={3} />
                  <text className="edge-label" x={path.mid.x} y={path.mid.y - 5} textAnchor="middle">
                    {edge.data}
                  </text>
                </>
              )}
            </g>
          );
        })}
        {wire && <path className="edge order" d={`M${wire.from.x},${wire.from.y} L${wire.to.x},${wire.to.y}`} />}
        <defs>
          <marker id="mlp-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" fill="currentColor" className="muted" />
          </marker>
        </defs>
        {nodes.map((node) => {
          const at = placed[node.id];
          if (!at) return null;
          const isData = node.id.startsWith("data:");
          const status = isData ? "data" : node.status;
          return (
            <g
              key={node.id}
              className={`node${selected === node.id ? " selected" : ""}`}
              data-status={status}
              data-node={node.id}
              transform={`translate(${at.x},${at.y})`}
              tabIndex={0}
              role="button"
              aria-pressed={selected === node.id}
              aria-label={`${isData ? "data" : "step"} ${node.title}: ${isData ? node.subtitle : statusLabel(status)}${node.problem ? ", has problems" : ""}`}
              onClick={() => onSelect(node.id)}
              onKeyDown={(event) => key(event, node.id)}
              onPointerDown={(event) => {
                if (!onMove || (event.target as Element).classList.contains("port")) return;
                const p = local(event);
                setDrag({ id: node.id, dx: p.x - at.x, dy: p.y - at.y });
              }}
            >
              <rect className="box" width={width(node)} height={height(node)} rx={7} strokeDasharray={node.problem ? "6 3" : undefined} />
              <text className="title" x={10} y={18}>
                {fit(node.title, width(node))}
              </text>
              <title>{`${node.title}: ${isData || !showStatus ? node.subtitle : statusLabel(status)}`}</title>
              <text className="sub" x={10} y={34}>
                {fit(
                  isData || !showStatus ? node.subtitle : `${statusLabel(status)}${node.subtitle ? ` · ${node.subtitle}` : ""}`,
                  width(node),
                )}
              </text>
              {node.inputs.map((name, i) => (
                <g key={`in-${name}`}>
                  <circle className="port" cx={0} cy={portY(i)} r={4.5} />
                  <text className="port-label" x={9} y={portY(i) + 4}>
                    {name}
                  </text>
                </g>
              ))}
              {node.outputs.map((name, i) => (
                <g key={`out-${name}`}>
                  <circle
                    className="port"
                    cx={width(node)}
                    cy={isData ? height(node) / 2 : portY(i)}
                    r={4.5}
                    onPointerDown={(event) => {
                      if (!onConnect) return;
                      event.stopPropagation();
                      setWire({ data: name, from: { x: at.x + width(node), y: at.y + portY(i) }, to: local(event) });
                    }}
                  />
                  {!isData && (
                    <text className="port-label" x={width(node) - 9} y={portY(i) + 4} textAnchor="end">
                      {name}
                    </text>
                  )}
                </g>
              ))}
            </g>
          );
        })}
      </svg>
    </div>
  );
}
