/**
 * The few PromQL forms the dashboard uses, parsed and evaluated over scraped samples: enough to check
 * which metrics a query reads and to draw the dashboard's picture from a local run without a
 * Prometheus server. Anything else is a parse error, so a query outside this subset is noticed.
 * Supported: `metric{matchers}`, `rate(metric{matchers}[range])`, `sum(expr)`,
 * `sum by (labels) (expr)`, `histogram_quantile(q, expr)`. Matchers are `label="value"`; a value
 * holding a Grafana variable (`$name`) matches anything.
 */

export type Node =
  | {
      readonly kind: "selector";
      readonly metric: string;
      readonly matchers: Readonly<Record<string, string>>;
      readonly range?: string;
    }
  | { readonly kind: "rate"; readonly arg: Node & { kind: "selector" } }
  | { readonly kind: "sum"; readonly by: readonly string[]; readonly arg: Node }
  | { readonly kind: "quantile"; readonly q: number; readonly arg: Node };

/** Parses one query of the supported subset; throws naming the position of anything else. */
export function parse(expr: string): Node {
  let pos = 0;
  const fail = (what: string): never => {
    throw new Error(`unsupported PromQL at ${pos} in ${JSON.stringify(expr)}: expected ${what}`);
  };
  const space = (): void => {
    while (/\s/.test(expr[pos] ?? "")) pos++;
  };
  const take = (token: string): boolean => {
    space();
    if (expr.startsWith(token, pos)) {
      pos += token.length;
      return true;
    }
    return false;
  };
  const expect = (token: string): void => void (take(token) || fail(`"${token}"`));
  const identifier = (): string => {
    space();
    const match = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(expr.slice(pos));
    if (!match) return fail("a name");
    pos += match[0].length;
    return match[0];
  };
  const selector = (): Node & { kind: "selector" } => {
    const metric = identifier();
    const matchers: Record<string, string> = {};
    if (take("{")) {
      while (!take("}")) {
        const label = identifier();
        expect("=");
        space();
        const value = /^"((?:[^"\\]|\\.)*)"/.exec(expr.slice(pos)) ?? fail("a quoted label value");
        pos += value[0].length;
        matchers[label] = value[1]!;
        take(",");
      }
    }
    let range: string | undefined;
    if (take("[")) {
      const end = expr.indexOf("]", pos);
      if (end < 0) fail("]");
      range = expr.slice(pos, end);
      pos = end + 1;
    }
    return { kind: "selector", metric, matchers, ...(range !== undefined ? { range } : {}) };
  };
  const node = (): Node => {
    space();
    const start = pos;
    const name = identifier();
    if (name === "rate") {
      expect("(");
      const arg = selector();
      if (arg.range === undefined) fail("a range vector in rate()");
      expect(")");
      return { kind: "rate", arg };
    }
    if (name === "sum") {
      let by: string[] = [];
      if (take("by")) {
        expect("(");
        by = [identifier()];
        while (take(",")) by.push(identifier());
        expect(")");
      }
      expect("(");
      const arg = node();
      expect(")");
      return { kind: "sum", by, arg };
    }
    if (name === "histogram_quantile") {
      expect("(");
      space();
      const number = /^[0-9.]+/.exec(expr.slice(pos)) ?? fail("a quantile");
      pos += number[0].length;
      expect(",");
      const arg = node();
      expect(")");
      return { kind: "quantile", q: Number(number[0]), arg };
    }
    pos = start;
    return selector();
  };
  const root = node();
  space();
  if (pos !== expr.length) fail("the end of the query");
  return root;
}

/** Every metric name a query reads (histogram buckets by their `_bucket` series name). */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  const walk = (n: Node): void => {
    if (n.kind === "selector") names.add(n.metric);
    else walk(n.arg);
  };
  walk(parse(expr));
  return [...names];
}

/** One sample of a scrape. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Everything /metrics said at one moment (`t` in seconds). */
export interface Scrape {
  readonly t: number;
  readonly samples: readonly Sample[];
}

/** Parses the Prometheus text exposition format (comments skipped, no timestamps). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

type Vector = { labels: Record<string, string>; value: number }[];

/**
 * Evaluates a query at scrape `at` of `scrapes` (ordered by time); `rateWindowSeconds` stands in
 * for every range (Grafana's `$__rate_interval`). Returns one value per output series.
 */
export function evaluate(node: Node, scrapes: readonly Scrape[], at: number, rateWindowSeconds: number): Vector {
  const matches = (sample: Sample, selector: Node & { kind: "selector" }): boolean =>
    sample.name === selector.metric &&
    Object.entries(selector.matchers).every(([k, v]) => v.includes("$") || sample.labels[k] === v);
  const key = (labels: Record<string, string>): string => JSON.stringify(Object.entries(labels).sort());
  switch (node.kind) {
    case "selector":
      return scrapes[at]!.samples.filter((s) => matches(s, node)).map((s) => ({
        labels: { ...s.labels },
        value: s.value,
      }));
    case "rate": {
      const now = scrapes[at]!;
      let from = at;
      while (from > 0 && now.t - scrapes[from - 1]!.t <= rateWindowSeconds) from--;
      if (from === at) return [];
      const then = scrapes[from]!;
      const before = new Map(then.samples.filter((s) => matches(s, node.arg)).map((s) => [key(s.labels), s.value]));
      return now.samples
        .filter((s) => matches(s, node.arg))
        .map((s) => ({
          labels: { ...s.labels },
          value: (s.value - (before.get(key(s.labels)) ?? 0)) / (now.t - then.t),
        }));
    }
    case "sum": {
      const groups = new Map<string, { labels: Record<string, string>; value: number }>();
      for (const item of evaluate(node.arg, scrapes, at, rateWindowSeconds)) {
        const labels = Object.fromEntries(node.by.map((l) => [l, item.labels[l] ?? ""]));
        const group = groups.get(key(labels)) ?? { labels, value: 0 };
        group.value += item.value;
        groups.set(key(labels), group);
      }
      return [...groups.values()];
    }
    case "quantile": {
      const byGroup = new Map<string, { labels: Record<string, string>; buckets: { le: number; count: number }[] }>();
      for (const item of evaluate(node.arg, scrapes, at, rateWindowSeconds)) {
        const { le, ...rest } = item.labels;
        const group = byGroup.get(key(rest)) ?? { labels: rest, buckets: [] };
        group.buckets.push({ le: le === "+Inf" ? Infinity : Number(le), count: item.value });
        byGroup.set(key(rest), group);
      }
      return [...byGroup.values()].flatMap(({ labels, buckets }) => {
        const value = bucketQuantile(node.q, buckets);
        return value === undefined ? [] : [{ labels, value }];
      });
    }
  }
}

/** Prometheus's histogram_quantile: linear interpolation inside the bucket the rank falls in. */
function bucketQuantile(q: number, buckets: { le: number; count: number }[]): number | undefined {
  buckets.sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let previousLe = 0;
  let previousCount = 0;
  for (const { le, count } of buckets) {
    if (count >= rank) {
      if (le === Infinity) return previousLe;
      return (
        previousLe + (le - previousLe) * ((rank - previousCount) / Math.max(count - previousCount, Number.EPSILON))
      );
    }
    previousLe = le;
    previousCount = count;
  }
  return previousLe;
}
