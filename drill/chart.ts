// The pod count over time: a small text chart for the terminal and an SVG plot with the queue depth.

/** One observation of a run, `t` in seconds since the burst began. */
export interface Sample {
  readonly t: number;
  readonly replicas: number;
  readonly terminating: number;
  /** Messages held: visible + in flight + delayed. */
  readonly depth: number;
}

/** Replicas as columns of blocks, one column per time bin (the bin's highest count), seconds below. */
export function textChart(samples: readonly Sample[], width = 64): string {
  if (samples.length === 0) return "(no samples)";
  const end = samples.at(-1)!.t;
  const binSeconds = Math.max(end / width, 1e-9);
  const bins: (number | undefined)[] = Array.from({ length: width }, () => undefined);
  for (const s of samples) {
    const bin = Math.min(width - 1, Math.floor(s.t / binSeconds));
    bins[bin] = Math.max(bins[bin] ?? 0, s.replicas);
  }
  // A bin no sample fell in (the sampler is late on a loaded machine) shows the count before it.
  for (let i = 0; i < width; i++) bins[i] ??= i === 0 ? 0 : bins[i - 1];
  const counts = bins as number[];
  const top = Math.max(1, ...counts);
  const rows: string[] = [];
  for (let level = top; level >= 1; level--) {
    rows.push(`${String(level).padStart(3)} | ${counts.map((b) => (b >= level ? "█" : " ")).join("")}`);
  }
  rows.push(`  0 +-${"-".repeat(width)}`);
  const right = `${Math.round(end)} s`;
  rows.push(`      0 s${" ".repeat(Math.max(1, width - 3 - right.length))}${right}`);
  return rows.join("\n");
}

const W = 860;
const H = 360;
const PAD = { left: 56, right: 76, top: 40, bottom: 44 };

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;");
}

/**
 * The autoscaled run's replicas (step line, left axis) and queue depth (right axis), with the fixed
 * deployment's queue depth dashed for comparison.
 */
export function svgPlot(
  title: string,
  autoscaled: readonly Sample[],
  fixed: readonly Sample[],
  fixedLabel: string,
): string {
  const end = Math.max(autoscaled.at(-1)?.t ?? 1, fixed.at(-1)?.t ?? 1);
  const maxPods = Math.max(1, ...autoscaled.map((s) => s.replicas + s.terminating));
  const maxDepth = Math.max(1, ...autoscaled.map((s) => s.depth), ...fixed.map((s) => s.depth));
  const x = (t: number): number => PAD.left + (t / end) * (W - PAD.left - PAD.right);
  const yPods = (n: number): number => H - PAD.bottom - (n / maxPods) * (H - PAD.top - PAD.bottom);
  const yDepth = (d: number): number => H - PAD.bottom - (d / maxDepth) * (H - PAD.top - PAD.bottom);
  const step = (samples: readonly Sample[], value: (s: Sample) => number): string =>
    samples
      .map((s, i) =>
        i === 0 ? `M${x(s.t).toFixed(1)},${value(s).toFixed(1)}` : `H${x(s.t).toFixed(1)} V${value(s).toFixed(1)}`,
      )
      .join(" ");
  const line = (samples: readonly Sample[]): string =>
    samples.map((s, i) => `${i === 0 ? "M" : "L"}${x(s.t).toFixed(1)},${yDepth(s.depth).toFixed(1)}`).join(" ");
  const ticks = (count: number, max: number, place: (v: number) => number, anchorX: number, anchor: string): string =>
    Array.from({ length: count + 1 }, (_, i) => Math.round((max * i) / count))
      .map(
        (v) =>
          `<text x="${anchorX}" y="${(place(v) + 4).toFixed(1)}" text-anchor="${anchor}">${v.toLocaleString("en-US")}</text>`,
      )
      .join("");
  const timeTicks = Array.from({ length: 6 }, (_, i) => Math.round((end * i) / 5))
    .map((t) => `<text x="${x(t).toFixed(1)}" y="${H - PAD.bottom + 18}" text-anchor="middle">${t} s</text>`)
    .join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${PAD.left}" y="22" font-size="14">${escape(title)}</text>
<g fill="#444">${ticks(Math.min(maxPods, 8), maxPods, yPods, PAD.left - 8, "end")}</g>
<g fill="#777">${ticks(4, maxDepth, yDepth, W - PAD.right + 8, "start")}</g>
<g fill="#444">${timeTicks}</g>
<line x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}" stroke="#999"/>
<path d="${line(fixed)}" fill="none" stroke="#d62728" stroke-width="1.5" stroke-dasharray="6 4"/>
<path d="${line(autoscaled)}" fill="none" stroke="#999" stroke-width="1.5"/>
<path d="${step(autoscaled, (s) => yPods(s.replicas + s.terminating))}" fill="none" stroke="#ff7f0e" stroke-width="1.5" stroke-dasharray="2 3"/>
<path d="${step(autoscaled, (s) => yPods(s.replicas))}" fill="none" stroke="#1f77b4" stroke-width="2.5"/>
<text x="18" y="${H / 2}" transform="rotate(-90 18 ${H / 2})" text-anchor="middle" fill="#1f77b4">pods</text>
<text x="${W - 14}" y="${H / 2}" transform="rotate(90 ${W - 14} ${H / 2})" text-anchor="middle" fill="#777">messages in the queue</text>
<g transform="translate(${PAD.left + 10},${PAD.top + 6})">
<line x1="0" y1="0" x2="24" y2="0" stroke="#1f77b4" stroke-width="2.5"/><text x="30" y="4">replicas (autoscaled)</text>
<line x1="0" y1="16" x2="24" y2="16" stroke="#ff7f0e" stroke-width="1.5" stroke-dasharray="2 3"/><text x="30" y="20">replicas + terminating</text>
<line x1="0" y1="32" x2="24" y2="32" stroke="#999" stroke-width="1.5"/><text x="30" y="36">queue depth (autoscaled)</text>
<line x1="0" y1="48" x2="24" y2="48" stroke="#d62728" stroke-width="1.5" stroke-dasharray="6 4"/><text x="30" y="52">queue depth (${escape(fixedLabel)})</text>
</g>
</svg>
`;
}
