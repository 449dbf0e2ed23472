/**
 * The Prometheus Operator objects under Pulumi mocks, validated against the operator's CRD schemas
 * (@kubernetes-models/prometheus-operator), and their alert rules checked against the metrics the
 * consumer really exports.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { METRIC_NAMES } from "../consumer/src/contract";
import { Metrics } from "../consumer/src/metrics";
import { consumerAlertRules } from "../infra/prometheus";
import type { ProgramRun, RecordedResource } from "./helpers/mocks";
import { assertSucceeded, ofType, runPrograms, scenario } from "./helpers/program";

let off: ProgramRun;
let on: ProgramRun;

before(async () => {
  [off, on] = (await runPrograms([
    await scenario("no-operator", {}),
    await scenario("operator", { prometheusOperator: "true", consumer: { handlerTimeoutSeconds: 100 } }),
  ])) as [ProgramRun, ProgramRun];
  assertSucceeded(off);
  assertSucceeded(on);
});

const custom = (run: ProgramRun, kind: string): RecordedResource[] =>
  ofType(run, "kubernetes:monitoring.coreos.com/v1:" + kind).concat(
    ofType(run, "kubernetes:apiextensions.k8s.io:CustomResource").filter((r) => r.inputs.kind === kind),
  );

describe("Prometheus Operator objects", () => {
  it("only when the stack says the operator runs", () => {
    assert.deepEqual([...custom(off, "ServiceMonitor"), ...custom(off, "PrometheusRule")], []);
    assert.equal(custom(on, "ServiceMonitor").length, 1);
    assert.equal(custom(on, "PrometheusRule").length, 1);
  });

  it("valid against the operator's CRD schemas; the ServiceMonitor scrapes /metrics on the Service's named port", async () => {
    const { ServiceMonitor, PrometheusRule } =
      await import("@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1");
    const monitor = custom(on, "ServiceMonitor")[0]!.inputs;
    const rule = custom(on, "PrometheusRule")[0]!.inputs;
    new ServiceMonitor(monitor as ConstructorParameters<typeof ServiceMonitor>[0]).validate();
    new PrometheusRule(rule as ConstructorParameters<typeof PrometheusRule>[0]).validate();
    const service = ofType(on, "kubernetes:core/v1:Service")[0]!.inputs as {
      metadata: { labels: Record<string, string> };
      spec: { ports: { name: string }[]; selector: Record<string, string> };
    };
    const spec = monitor.spec as {
      selector: { matchLabels: Record<string, string> };
      endpoints: { port: string; path: string }[];
    };
    assert.equal(spec.endpoints[0]!.path, "/metrics");
    assert.equal(spec.endpoints[0]!.port, service.spec.ports[0]!.name);
    for (const [k, v] of Object.entries(spec.selector.matchLabels))
      assert.equal(service.metadata.labels[k], v, `the Service carries ${k}`);
    const deployment = ofType(on, "kubernetes:apps/v1:Deployment")[0]!.inputs as {
      spec: { template: { metadata: { labels: Record<string, string> } } };
    };
    for (const [k, v] of Object.entries(service.spec.selector))
      assert.equal(deployment.spec.template.metadata.labels[k], v, `the pods carry ${k}`);
  });

  it("a model rejects a broken object (the validation can fail)", async () => {
    const { PrometheusRule } = await import("@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1");
    assert.throws(() =>
      new PrometheusRule({
        metadata: { name: "x" },
        spec: { groups: [{ name: "g", rules: [{ alert: "A" }] }] },
      } as unknown as ConstructorParameters<typeof PrometheusRule>[0]).validate(),
    );
  });

  it("the three alerts, with the handler-timeout threshold from the stack's consumer block", () => {
    const groups = (
      custom(on, "PrometheusRule")[0]!.inputs.spec as { groups: { rules: { alert: string; expr: string }[] }[] }
    ).groups;
    const rules = groups.flatMap((g) => g.rules);
    assert.deepEqual(
      rules.map((r) => r.alert),
      ["SqsConsumerFailureRatioHigh", "SqsConsumerNoSuccessfulReceive", "SqsConsumerHandlerNearTimeout"],
    );
    assert.match(rules[2]!.expr, /> 80$/, "80% of the 100 s handler timeout");
    const failedSelectors = [...rules[0]!.expr.matchAll(/sqs_consumer_messages_failed_total\{([^}]*)\}/g)].map(
      (x) => x[1],
    );
    assert.equal(failedSelectors.length, 2);
    for (const sel of failedSelectors)
      assert.match(sel!, /reason!="shutdown"/, "shutdown cut-offs are not handler failures");
    for (const rule of rules) assert.match(rule.expr, /namespace="sqs-eks-consumer-operator"/);
  });

  it("the rules read only metrics the consumer exports (names from the real registry)", async () => {
    const exported = new Set(
      (await new Metrics().registry.getMetricsAsJSON()).flatMap((m) => [m.name, `${m.name}_bucket`]),
    );
    for (const name of Object.values(METRIC_NAMES)) assert.ok(exported.has(name), `${name} is exported`);
    const text = JSON.stringify(
      consumerAlertRules('namespace="x"', { handlerTimeoutSeconds: 60, waitTimeSeconds: 20 }),
    );
    const used = [...text.matchAll(/sqs_consumer_[a-z_]+/g)].map((m) => m[0]);
    assert.ok(used.length >= 6);
    assert.deepEqual(
      used.filter((n) => !exported.has(n)),
      [],
    );
  });
});
