/**
 * SVG charts of the benchmark results, written next to the JSON: the ramp (clients against tick
 * p99 and action → ack p99, with the limits) and bytes sent per client by scenario. Plain SVG,
 * no dependency.
 */

interface RampStep {
  clients: number;
  tickP99Ms: number;
  rttP99Ms: number;
  generatorCpuPercent?: number;
}

const W = 640;
const H = 360;
const M = { left: 60, right: 20, top: 40, bottom: 50 };
const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const num = (n: number) => (Number.isFinite(n) ? n : 0);

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function frame(title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`,
    ...body,
    "</svg>",
    "",
  ].join("\n");
}

function axes(xLabel: string, yLabel: string, yMax: number, xTicks: Array<[number, string]>): string[] {
  const out: string[] = [];
  const x0 = M.left;
  const y0 = H - M.bottom;
  out.push(`<line x1="${x0}" y1="${y0}" x2="${W - M.right}" y2="${y0}" stroke="black"/>`);
  out.push(`<line x1="${x0}" y1="${M.top}" x2="${x0}" y2="${y0}" stroke="black"/>`);
  for (let i = 0; i <= 5; i++) {
    const v = (yMax * i) / 5;
    const y = y0 - ((y0 - M.top) * i) / 5;
    out.push(`<line x1="${x0}" y1="${y}" x2="${W - M.right}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${x0 - 6}" y="${y + 4}" text-anchor="end">${+v.toFixed(1)}</text>`);
  }
  for (const [x, label] of xTicks) out.push(`<text x="${x}" y="${y0 + 16}" text-anchor="middle">${esc(label)}</text>`);
  out.push(`<text x="${(x0 + W - M.right) / 2}" y="${H - 12}" text-anchor="middle">${esc(xLabel)}</text>`);
  out.push(
    `<text transform="translate(16 ${(M.top + y0) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  );
  return out;
}

/** Clients held against tick p99 and action → ack p99, with the two limits as dashed lines. */
export function rampChart(steps: RampStep[], limits: { tickP99Ms: number; rttP99Ms: number }): string {
  const xMax = niceMax(Math.max(100, ...steps.map((s) => s.clients)));
  // Up to three times the ack limit: a step far past it is drawn at the top edge.
  const worst = Math.max(...steps.map((s) => Math.max(num(s.tickP99Ms), num(s.rttP99Ms))));
  const yMax = niceMax(Math.min(limits.rttP99Ms * 3, Math.max(limits.rttP99Ms * 1.2, worst)));
  const px = (c: number) => M.left + ((W - M.left - M.right) * c) / xMax;
  const py = (v: number) => H - M.bottom - ((H - M.top - M.bottom) * Math.min(num(v), yMax)) / yMax;
  const ticks: Array<[number, string]> = [];
  for (let i = 0; i <= 5; i++) ticks.push([px((xMax * i) / 5), String(Math.round((xMax * i) / 5))]);
  const body = axes("clients on one process", "ms (p99)", yMax, ticks);
  const series = [
    { key: "tickP99Ms" as const, color: "#1f77b4", label: "tick p99" },
    { key: "rttP99Ms" as const, color: "#d62728", label: "action → ack p99" },
  ];
  for (const [limit, color, label] of [
    [limits.tickP99Ms, "#1f77b4", `tick limit ${limits.tickP99Ms} ms`],
    [limits.rttP99Ms, "#d62728", `ack limit ${limits.rttP99Ms} ms`],
  ] as const) {
    body.push(
      `<line x1="${M.left}" y1="${py(limit)}" x2="${W - M.right}" y2="${py(limit)}" stroke="${color}" stroke-dasharray="6 4" opacity="0.6"/>`,
      `<text x="${W - M.right - 4}" y="${py(limit) - 4}" text-anchor="end" fill="${color}">${esc(label)}</text>`,
    );
  }
  series.forEach((s, i) => {
    const points = steps.map((st) => `${px(st.clients).toFixed(1)},${py(st[s.key]).toFixed(1)}`).join(" ");
    body.push(`<polyline points="${points}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    for (const st of steps)
      body.push(`<circle cx="${px(st.clients).toFixed(1)}" cy="${py(st[s.key]).toFixed(1)}" r="3" fill="${s.color}"/>`);
    body.push(
      `<rect x="${M.left + 12}" y="${M.top + 6 + i * 18}" width="12" height="4" fill="${s.color}"/>`,
      `<text x="${M.left + 30}" y="${M.top + 12 + i * 18}">${esc(s.label)}</text>`,
    );
  });
  return frame("Ramp: one process, AOI on", body);
}

/** Bytes sent per client per second, one bar per scenario. */
export function bytesChart(rows: Array<{ scenario: string; bytesPerSecPerClient: number }>): string {
  const yMax = niceMax(Math.max(1, ...rows.map((r) => num(r.bytesPerSecPerClient) / 1000)));
  const slot = (W - M.left - M.right) / Math.max(1, rows.length);
  const py = (v: number) => H - M.bottom - ((H - M.top - M.bottom) * v) / yMax;
  const ticks: Array<[number, string]> = rows.map((r, i) => [M.left + slot * (i + 0.5), r.scenario]);
  const body = axes("scenario", "KB/s sent per client", yMax, ticks);
  rows.forEach((r, i) => {
    const v = num(r.bytesPerSecPerClient) / 1000;
    const x = M.left + slot * i + slot * 0.2;
    body.push(
      `<rect x="${x.toFixed(1)}" y="${py(v).toFixed(1)}" width="${(slot * 0.6).toFixed(1)}" height="${(H - M.bottom - py(v)).toFixed(1)}" fill="#2ca02c"/>`,
      `<text x="${(x + slot * 0.3).toFixed(1)}" y="${(py(v) - 4).toFixed(1)}" text-anchor="middle">${v.toFixed(2)}</text>`,
    );
  });
  return frame("Bytes sent per client", body);
}
