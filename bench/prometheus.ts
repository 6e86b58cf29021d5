/** Reading the server's own /metrics: samples, sums over labels, and histogram quantiles. */

/** `name{labels}` → value. */
export type Samples = Map<string, number>;

export function parseMetrics(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

/** Sum of the samples of `name` whose labels include every `label="value"` given. */
export function sum(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const [key, value] of samples) {
    if (key !== name && !key.startsWith(name + "{")) continue;
    if (Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) total += value;
  }
  return total;
}

/**
 * The `q` quantile of a histogram over the window between two scrapes, summed over all its label
 * sets, interpolating linearly inside a bucket (as PromQL's histogram_quantile does).
 */
export function histogramQuantile(before: Samples, after: Samples, name: string, q: number): number {
  const buckets = new Map<number, number>();
  for (const [key, value] of after) {
    if (!key.startsWith(`${name}_bucket{`)) continue;
    const le = /le="([^"]+)"/.exec(key)![1];
    const bound = le === "+Inf" ? Infinity : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + value - (before.get(key) ?? 0));
  }
  const sorted = [...buckets].sort(([a], [b]) => a - b);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return NaN;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const [bound, count] of sorted) {
    if (count >= rank) {
      if (bound === Infinity) return prevBound;
      return prevBound + ((bound - prevBound) * (rank - prevCount)) / Math.max(1, count - prevCount);
    }
    prevBound = bound;
    prevCount = count;
  }
  return prevBound;
}
