import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Metrics } from "../consumer/src/metrics";
import { metricNames, parse } from "../scripts/dashboard/promql";

interface Target {
  readonly refId: string;
  readonly datasource: { readonly type: string };
  readonly expr?: string;
  readonly namespace?: string;
  readonly metricName?: string;
  readonly dimensions?: Record<string, string>;
}
interface Panel {
  readonly title: string;
  readonly datasource: { readonly type: string };
  readonly targets: readonly Target[];
}

const dashboard = JSON.parse(readFileSync(join(__dirname, "..", "dashboards", "sqs-eks-consumer.json"), "utf8")) as {
  panels: Panel[];
  templating: { list: { name: string }[] };
};
const targets = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, ...t })));

/** Every series name the consumer's /metrics serves, read from its real registry (histograms as _bucket/_sum/_count). */
async function exportedSeries(): Promise<Set<string>> {
  const metrics = await new Metrics().registry.getMetricsAsJSON();
  return new Set(
    metrics.flatMap((m) =>
      String(m.type) === "histogram" ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name],
    ),
  );
}

/** SQS metrics CloudWatch publishes for every queue. Source: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html */
const SQS_CLOUDWATCH_METRICS = [
  "ApproximateAgeOfOldestMessage",
  "ApproximateNumberOfMessagesDelayed",
  "ApproximateNumberOfMessagesNotVisible",
  "ApproximateNumberOfMessagesVisible",
  "NumberOfEmptyReceives",
  "NumberOfMessagesDeleted",
  "NumberOfMessagesReceived",
  "NumberOfMessagesSent",
  "SentMessageSize",
];

describe("the Grafana dashboard (dashboards/sqs-eks-consumer.json)", () => {
  it("queries only metrics the consumer really exports", async () => {
    const exported = await exportedSeries();
    const prometheus = targets.filter((t) => t.datasource.type === "prometheus");
    assert.ok(prometheus.length >= 10);
    const unknown = prometheus.flatMap((t) =>
      metricNames(t.expr ?? "")
        .filter((name) => !exported.has(name))
        .map((name) => `${t.panel}/${t.refId}: ${name}`),
    );
    assert.deepEqual(unknown, []);
  });

  it("uses every consumer metric except the process defaults (a new metric gets a panel)", async () => {
    const queried = new Set(
      targets.flatMap((t) => (t.expr ? metricNames(t.expr) : [])).map((n) => n.replace(/_bucket$/, "")),
    );
    const own = (await new Metrics().registry.getMetricsAsJSON())
      .map((m) => m.name)
      .filter((n) => n.startsWith("sqs_consumer_"));
    assert.deepEqual(
      own.filter((n) => !queried.has(n)),
      [],
    );
  });

  it("the name check can fail: a misspelt metric is caught, and a query outside the parsed subset is an error", async () => {
    const exported = await exportedSeries();
    assert.deepEqual(
      metricNames('sum(rate(sqs_consumer_messages_recieved_total{namespace="$namespace"}[5m]))').filter(
        (n) => !exported.has(n),
      ),
      ["sqs_consumer_messages_recieved_total"],
    );
    assert.throws(() => parse("sum(rate(a[5m])) / sum(rate(b[5m]))"), /unsupported PromQL/);
  });

  it("CloudWatch panels read the queue's SQS metrics by queue name, from template variables", () => {
    const cloudwatch = targets.filter((t) => t.datasource.type === "cloudwatch");
    assert.ok(cloudwatch.length >= 4);
    for (const t of cloudwatch) {
      assert.equal(t.namespace, "AWS/SQS");
      assert.ok(SQS_CLOUDWATCH_METRICS.includes(t.metricName ?? ""), `${t.panel}/${t.refId}: ${t.metricName}`);
      assert.match(t.dimensions?.QueueName ?? "", /^\$(queue|dlq)$/);
    }
    const variables = dashboard.templating.list.map((v) => v.name);
    for (const name of ["prometheus", "cloudwatch", "namespace", "region", "queue", "dlq"])
      assert.ok(variables.includes(name), name);
  });

  it("has the panels an on-call engineer asks for", () => {
    const titles = dashboard.panels.map((p) => p.title);
    for (const wanted of [
      "Throughput",
      "Failures by reason",
      "In flight",
      "Handler duration",
      "Receive latency",
      "Queue depth (CloudWatch)",
      "Age of oldest message (CloudWatch)",
    ]) {
      assert.ok(titles.includes(wanted), wanted);
    }
    const failures = dashboard.panels.find((p) => p.title === "Failures by reason")!;
    assert.match(failures.targets[0]!.expr!, /sum by \(reason\)/);
  });
});
