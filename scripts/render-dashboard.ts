// `npm run dashboard:render`: draws docs/dashboard.svg, a picture of dashboards/sqs-eks-consumer.json
// with real data from a local run. The consumer (its real code, in this process) drains a queue on
// the fauxqs emulator while a producer varies the load and a handler sleeps and sometimes fails;
// /metrics is scraped every second and each Prometheus panel's own queries are evaluated over the
// scrapes (scripts/dashboard/promql.ts). CloudWatch does not exist here: the queue panels show the
// emulator's GetQueueAttributes counts, polled every second, and the age panel says so.
// It is not a Grafana screenshot: no Grafana server runs here.
import { GetQueueAttributesCommand, SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { EMULATOR_CREDENTIALS, createQueueWithDlq, emulatorClient, startEmulator } from "../consumer/local/emulator";
import { startConsumer } from "../consumer/src/app";
import { createLogger } from "../consumer/src/logger";
import { DEFAULT_TUNABLES, parseSettings } from "../consumer/src/settings";
import { evaluate, parse, parseExposition, type Scrape } from "./dashboard/promql";

const RUN_SECONDS = 45;
const RATE_WINDOW_SECONDS = 5;
/** Messages per second the producer sends, by phase of the run. */
const LOAD = (t: number): number => (t < 12 ? 30 : t < 24 ? 120 : t < 34 ? 15 : 0);

interface Panel {
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: { type: string };
  fieldConfig: { defaults: { unit: string } };
  targets: {
    refId: string;
    expr?: string;
    legendFormat?: string;
    metricName?: string;
    dimensions?: Record<string, string>;
    label?: string;
  }[];
}
type Series = { name: string; points: (number | undefined)[] };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function run(): Promise<{
  scrapes: Scrape[];
  queue: { t: number; visible: number; inFlight: number; dlq: number }[];
}> {
  const emulator = await startEmulator();
  const sqs = emulatorClient(emulator.endpoint);
  const pair = await createQueueWithDlq(sqs, "orders", { ...DEFAULT_TUNABLES, handlerTimeoutSeconds: 2 }, 2);
  const env = {
    QUEUE_URL: pair.queueUrl,
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL_SQS: emulator.endpoint,
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
    HEALTH_PORT: "0",
    HANDLER_TIMEOUT_SECONDS: "2",
    HANDLER_CONCURRENCY: "40",
    RETRY_BASE_SECONDS: "1",
    RETRY_MAX_SECONDS: "2",
    LOG_LEVEL: "silent",
  };
  Object.assign(process.env, env);
  const parsed = parseSettings(env);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  // A handler with a long tail: mostly tens of milliseconds, sometimes seconds (a timeout), 4% errors.
  const handler = async () => {
    const roll = Math.random();
    await sleep(roll < 0.01 ? 2500 : roll < 0.1 ? 200 + Math.random() * 600 : -Math.log(1 - Math.random()) * 40);
    if (Math.random() < 0.04) throw new Error("downstream said no");
  };
  const running = await startConsumer({ settings: parsed.value, env, logger: createLogger("silent"), handler });
  const scrapes: Scrape[] = [];
  const queue: { t: number; visible: number; inFlight: number; dlq: number }[] = [];
  const started = Date.now();
  let sent = 0;
  for (let second = 0; second < RUN_SECONDS; second++) {
    const t = (Date.now() - started) / 1000;
    const due = Math.round(LOAD(t));
    for (let i = 0; i < due; i += 10) {
      const size = Math.min(10, due - i);
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: pair.queueUrl,
          Entries: Array.from({ length: size }, (_, j) => ({ Id: String(j), MessageBody: `order ${sent + j}` })),
        }),
      );
      sent += size;
    }
    const text = await (await fetch(`http://127.0.0.1:${running.healthPort}/metrics`)).text();
    scrapes.push({ t: (Date.now() - started) / 1000, samples: parseExposition(text) });
    const [main, dlq] = await Promise.all(
      [pair.queueUrl, pair.dlqUrl].map((url) =>
        sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: url,
            AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
          }),
        ),
      ),
    );
    queue.push({
      t: (Date.now() - started) / 1000,
      visible: Number(main!.Attributes?.ApproximateNumberOfMessages),
      inFlight: Number(main!.Attributes?.ApproximateNumberOfMessagesNotVisible),
      dlq: Number(dlq!.Attributes?.ApproximateNumberOfMessages),
    });
    await sleep(Math.max(0, started + (second + 1) * 1000 - Date.now()));
  }
  await running.stop();
  sqs.destroy();
  await emulator.stop();
  process.stderr.write(`sent ${sent} messages in ${RUN_SECONDS} s\n`);
  return { scrapes, queue };
}

function panelSeries(panel: Panel, data: Awaited<ReturnType<typeof run>>): Series[] {
  if (panel.datasource.type === "cloudwatch") {
    return panel.targets.flatMap((t) => {
      const column =
        t.metricName === "ApproximateNumberOfMessagesVisible"
          ? t.dimensions?.QueueName === "$dlq"
            ? "dlq"
            : "visible"
          : t.metricName === "ApproximateNumberOfMessagesNotVisible"
            ? "inFlight"
            : undefined;
      return column === undefined ? [] : [{ name: t.label ?? t.refId, points: data.queue.map((q) => q[column]) }];
    });
  }
  const series = new Map<string, (number | undefined)[]>();
  for (const target of panel.targets) {
    const node = parse(target.expr!);
    data.scrapes.forEach((_, at) => {
      for (const item of evaluate(node, data.scrapes, at, RATE_WINDOW_SECONDS)) {
        const name = (target.legendFormat ?? target.refId).replace(
          /\{\{(\w+)\}\}/g,
          (_m, label: string) => item.labels[label] ?? "",
        );
        const points = series.get(name) ?? new Array<number | undefined>(data.scrapes.length).fill(undefined);
        points[at] = Number.isFinite(item.value) ? item.value : undefined;
        series.set(name, points);
      }
    });
  }
  return [...series].map(([name, points]) => ({ name, points }));
}

const COLORS = ["#73bf69", "#f2cc0c", "#5794f2", "#ff780a", "#b877d9", "#f2495c", "#8ab8ff"];
const CELL = 50;
const ROW = 30;
const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function format(value: number, unit: string): string {
  if (unit === "s") return value < 1 ? `${Math.round(value * 1000)} ms` : `${value.toFixed(1)} s`;
  if (unit === "reqps") return `${value < 10 ? value.toFixed(1) : Math.round(value)}/s`;
  return value < 10 && !Number.isInteger(value) ? value.toFixed(1) : String(Math.round(value));
}

function drawPanel(panel: Panel, series: Series[], seconds: number[], top: number): string {
  const x = panel.gridPos.x * CELL + 8;
  const y = panel.gridPos.y * ROW + top;
  const w = panel.gridPos.w * CELL - 8;
  const h = panel.gridPos.h * ROW - 8;
  const plot = { x: x + 56, y: y + 30, w: w - 70, h: h - 62 };
  const out = [
    `<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="3" fill="#181b1f" stroke="#2c3235"/>`,
    `<text x="${x + 10}" y="${y + 19}" class="title">${escape(panel.title)}</text>`,
  ];
  const values = series.flatMap((s) => s.points.filter((v): v is number => v !== undefined));
  if (values.length === 0) {
    out.push(
      `<text x="${x + w / 2}" y="${y + h / 2}" text-anchor="middle" class="muted">No data in a local run: CloudWatch only</text>`,
    );
    return out.join("\n");
  }
  const max = Math.max(...values) * 1.1 || 1;
  const unit = panel.fieldConfig.defaults.unit;
  const tMax = seconds.at(-1) ?? 1;
  for (let i = 0; i <= 4; i++) {
    const gy = plot.y + plot.h - (plot.h * i) / 4;
    out.push(
      `<line x1="${plot.x}" y1="${gy}" x2="${plot.x + plot.w}" y2="${gy}" class="grid"/>`,
      `<text x="${plot.x - 6}" y="${gy + 4}" text-anchor="end" class="axis">${format((max * i) / 4, unit)}</text>`,
    );
  }
  for (let s = 0; s <= tMax; s += 10)
    out.push(
      `<text x="${plot.x + (plot.w * s) / tMax}" y="${plot.y + plot.h + 14}" text-anchor="middle" class="axis">${s}s</text>`,
    );
  series.forEach((s, i) => {
    const path = s.points
      .map((v, at) =>
        v === undefined
          ? undefined
          : `${(plot.x + (plot.w * seconds[at]!) / tMax).toFixed(1)},${(plot.y + plot.h - (plot.h * v) / max).toFixed(1)}`,
      )
      .reduce<string[]>(
        (segments, point) => {
          if (point === undefined) segments.push("");
          else segments[segments.length - 1] += `${segments.at(-1) ? " " : ""}${point}`;
          return segments;
        },
        [""],
      )
      .filter(Boolean);
    for (const segment of path)
      out.push(`<polyline points="${segment}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.5"/>`);
    const lx = plot.x + i * Math.min(140, plot.w / Math.max(series.length, 1));
    out.push(
      `<rect x="${lx}" y="${y + h - 16}" width="10" height="3" fill="${COLORS[i % COLORS.length]}"/>`,
      `<text x="${lx + 14}" y="${y + h - 11}" class="legend">${escape(s.name)}</text>`,
    );
  });
  return out.join("\n");
}

async function main(): Promise<void> {
  const repo = join(__dirname, "..");
  const dashboard = JSON.parse(
    (await import("node:fs")).readFileSync(join(repo, "dashboards", "sqs-eks-consumer.json"), "utf8"),
  ) as { title: string; panels: Panel[] };
  const data = await run();
  const seconds = data.scrapes.map((s) => s.t);
  const top = 64;
  const height = Math.max(...dashboard.panels.map((p) => p.gridPos.y + p.gridPos.h)) * ROW + top + 8;
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${24 * CELL + 8}" height="${height}" viewBox="0 0 ${24 * CELL + 8} ${height}" font-family="Inter, Helvetica, Arial, sans-serif">`,
    `<style>.title{fill:#d8d9da;font-size:13px;font-weight:600}.axis{fill:#8e8e8e;font-size:10px}.legend{fill:#ccccdc;font-size:11px}.muted{fill:#8e8e8e;font-size:12px}.grid{stroke:#2c3235;stroke-width:1}.head{fill:#d8d9da;font-size:16px;font-weight:600}.note{fill:#8e8e8e;font-size:11px}</style>`,
    `<rect width="100%" height="100%" fill="#111217"/>`,
    `<text x="12" y="24" class="head">${escape(dashboard.title)}: dashboards/sqs-eks-consumer.json, drawn from a ${RUN_SECONDS} s local run</text>`,
    `<text x="12" y="44" class="note">scripts/render-dashboard.ts: Prometheus panels evaluate the dashboard's own queries over /metrics scraped every second ($__rate_interval = ${RATE_WINDOW_SECONDS} s); queue panels show the emulator's GetQueueAttributes (CloudWatch in a real deployment). Not a Grafana screenshot.</text>`,
    ...dashboard.panels.map((p) =>
      drawPanel(
        p,
        panelSeries(p, data),
        p.datasource.type === "cloudwatch" ? data.queue.map((q) => q.t) : seconds,
        top,
      ),
    ),
    `</svg>`,
  ].join("\n");
  writeFileSync(join(repo, "docs", "dashboard.svg"), `${svg}\n`);
  process.stderr.write("wrote docs/dashboard.svg\n");
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
