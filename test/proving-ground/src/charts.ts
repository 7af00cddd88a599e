// The day drawn: orders answered per second and acceptance latency (p50, p99) over the run, and the
// CPU one order cost, by process. Plain SVG written next to the scorecard, readable in any browser.
import type { Outcome } from "./drive.js";

const width = 720;
const height = 260;
const margin = { left: 56, right: 16, top: 28, bottom: 36 };
const plotW = width - margin.left - margin.right;
const plotH = height - margin.top - margin.bottom;

const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;");

function frame(title: string, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
<text x="${margin.left}" y="16" font-size="13" font-weight="bold">${escapeXml(title)}</text>
${body}
</svg>
`;
}

function polyline(points: Array<[number, number]>, color: string): string {
  return `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ")}"/>`;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0) : 0;
}

/** Per second of the run: orders answered, and the p50 and p99 of their acceptance latency. */
export function timelineSvg(outcomes: readonly Outcome[], startedAt: number): string {
  const seconds = new Map<number, number[]>();
  for (const o of outcomes) {
    if (o.answeredAt === undefined || o.latencyMs === undefined) continue;
    const s = Math.floor((o.answeredAt - startedAt) / 1_000);
    seconds.set(s, [...(seconds.get(s) ?? []), o.latencyMs]);
  }
  const last = Math.max(1, ...seconds.keys());
  const rows = Array.from({ length: last + 1 }, (_, s) => {
    const sorted = [...(seconds.get(s) ?? [])].sort((a, b) => a - b);
    return { s, count: sorted.length, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) };
  });
  const maxMs = Math.max(1, ...rows.map((r) => r.p99));
  const maxCount = Math.max(1, ...rows.map((r) => r.count));
  const x = (s: number) => margin.left + (s / last) * plotW;
  const yMs = (ms: number) => margin.top + plotH - (ms / maxMs) * plotH;
  const yCount = (n: number) => margin.top + plotH - (n / maxCount) * plotH;
  const bars = rows
    .map(
      (r) =>
        `<rect x="${x(r.s).toFixed(1)}" y="${yCount(r.count).toFixed(1)}" width="${Math.max(1, plotW / (last + 1) - 1).toFixed(1)}" height="${(margin.top + plotH - yCount(r.count)).toFixed(1)}" fill="#dde6f3"/>`,
    )
    .join("\n");
  const axes = `<line x1="${margin.left}" y1="${margin.top + plotH}" x2="${margin.left + plotW}" y2="${margin.top + plotH}" stroke="#444"/>
<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${margin.top + plotH}" stroke="#444"/>
<text x="${margin.left - 4}" y="${margin.top + 4}" text-anchor="end">${maxMs} ms</text>
<text x="${margin.left - 4}" y="${margin.top + plotH}" text-anchor="end">0</text>
<text x="${margin.left + plotW}" y="${height - 8}" text-anchor="end">${last} s</text>
<text x="${margin.left + plotW}" y="${margin.top - 6}" text-anchor="end" fill="#6b86b3">bars: orders answered per second (max ${maxCount})</text>
<text x="${margin.left + 4}" y="${height - 8}" fill="#1f77b4">p50</text><text x="${margin.left + 34}" y="${height - 8}" fill="#d62728">p99</text>`;
  const p50 = polyline(
    rows.map((r) => [x(r.s), yMs(r.p50)]),
    "#1f77b4",
  );
  const p99 = polyline(
    rows.map((r) => [x(r.s), yMs(r.p99)]),
    "#d62728",
  );
  return frame(
    "Acceptance latency and orders answered, per second of the day",
    `${bars}\n${axes}\n${p50}\n${p99}`,
  );
}

/** CPU milliseconds one accepted order cost, per process, as horizontal bars. */
export function costSvg(cpuMsPerOrder: Readonly<Record<string, number>>): string {
  const entries = Object.entries(cpuMsPerOrder).sort(([, a], [, b]) => b - a);
  const max = Math.max(1, ...entries.map(([, v]) => v));
  const barH = plotH / Math.max(1, entries.length) - 4;
  const left = margin.left + 64;
  const span = width - left - margin.right - 48;
  const bars = entries
    .map(([name, ms], i) => {
      const y = margin.top + i * (barH + 4);
      return `<text x="${left - 6}" y="${(y + barH / 2 + 4).toFixed(1)}" text-anchor="end">${escapeXml(name)}</text>
<rect x="${left}" y="${y.toFixed(1)}" width="${((ms / max) * span).toFixed(1)}" height="${barH.toFixed(1)}" fill="#4c78a8"/>
<text x="${(left + (ms / max) * span + 4).toFixed(1)}" y="${(y + barH / 2 + 4).toFixed(1)}">${ms} ms</text>`;
    })
    .join("\n");
  return frame("CPU per accepted order, by process", bars);
}
