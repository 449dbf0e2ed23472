/**
 * For clusters that run the Prometheus Operator: a Service in front of the consumer's health port, a
 * ServiceMonitor that scrapes its /metrics, and a PrometheusRule with the consumer's own alerts (failure
 * ratio, no successful receive, handler duration near the timeout). The CRDs must exist (the
 * `prometheusOperator` flag says they do). Sources: prometheus-operator `Documentation/api-reference/api.md`
 * (ServiceMonitor, PrometheusRule), https://prometheus.io/docs/prometheus/latest/configuration/alerting_rules/
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { METRIC_NAMES, PROBE_PATHS, type Tunables } from "../consumer/src/contract";
import type { Labels } from "./labels";
import { WORKLOAD_NAMES } from "./workload";

/** Share of failed handlers, over 10 minutes, that raises an alert. */
export const FAILURE_RATIO_THRESHOLD = 0.05;
/** A handler p99 above this share of the handler timeout means timeouts are near. */
export const HANDLER_TIMEOUT_SHARE = 0.8;

/** The consumer's alert rules, as a PrometheusRule's `spec.groups`, for pods matched by `selector` (PromQL label matchers). */
export function consumerAlertRules(
  selector: string,
  tunables: Pick<Tunables, "handlerTimeoutSeconds" | "waitTimeSeconds">,
): { name: string; rules: Record<string, unknown>[] }[] {
  const m = METRIC_NAMES;
  const nearTimeout = tunables.handlerTimeoutSeconds * HANDLER_TIMEOUT_SHARE;
  // A handler cut off by a pod's shutdown budget (reason "shutdown") is released, not judged: counting
  // it would page on every rollout that stops long handlers.
  const handlerFailures = `${selector},reason!="shutdown"`;
  return [
    {
      name: "sqs-eks-consumer",
      rules: [
        {
          alert: "SqsConsumerFailureRatioHigh",
          expr: `sum(rate(${m.failed}{${handlerFailures}}[10m])) / clamp_min(sum(rate(${m.failed}{${handlerFailures}}[10m])) + sum(rate(${m.succeeded}{${selector}}[10m])), 1e-9) > ${FAILURE_RATIO_THRESHOLD}`,
          for: "10m",
          labels: { severity: "warning" },
          annotations: {
            summary: `More than ${FAILURE_RATIO_THRESHOLD * 100}% of messages fail their handler`,
            description:
              "Failed messages are retried and then dead-lettered; the logs' handler-failed lines name the reason.",
          },
        },
        {
          alert: "SqsConsumerNoSuccessfulReceive",
          // A healthy consumer completes a receive at least once per long poll, even on an empty queue.
          expr: `sum(rate(${m.received}{${selector}}[10m])) + sum(rate(${m.emptyReceives}{${selector}}[10m])) == 0 or absent(${m.ready}{${selector}}) or max(${m.ready}{${selector}}) == 0`,
          for: "10m",
          labels: { severity: "critical" },
          annotations: {
            summary: "No consumer pod has completed a ReceiveMessage in 10 minutes",
            description: "Check /readyz and the logs' hint: credentials, AccessDenied, a missing queue or the network.",
          },
        },
        {
          alert: "SqsConsumerHandlerNearTimeout",
          expr: `histogram_quantile(0.99, sum by (le) (rate(${m.handlerDuration}_bucket{${selector}}[10m]))) > ${nearTimeout}`,
          for: "15m",
          labels: { severity: "warning" },
          annotations: {
            summary: `Handler p99 is above ${nearTimeout} s, ${HANDLER_TIMEOUT_SHARE * 100}% of the ${tunables.handlerTimeoutSeconds} s timeout`,
            description:
              "Handlers that pass HANDLER_TIMEOUT_SECONDS fail and are retried: speed them up or raise the timeout.",
          },
        },
      ],
    },
  ];
}

export interface ConsumerMonitoringArgs {
  /** The consumer's namespace. */
  readonly namespace: pulumi.Input<string>;
  /** Labels of this stack's objects. */
  readonly labels: Labels;
  /** Labels that select the consumer's pods. */
  readonly selectorLabels: Labels;
  /** The consumer's tunables: /metrics is served on its health port, and the rules' thresholds follow its handler timeout. */
  readonly tunables: Tunables;
  /** Kubernetes provider of the target cluster. */
  readonly provider: k8s.Provider;
}

/** Service, ServiceMonitor and PrometheusRule for one stack's consumer. */
export class ConsumerMonitoring extends pulumi.ComponentResource {
  constructor(name: string, args: ConsumerMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sqs-eks-consumer:prometheus:ConsumerMonitoring", name, {}, opts);
    const childOpts = { parent: this, provider: args.provider };
    // The workload's named container port (/livez, /readyz and /metrics share it).
    const portName = WORKLOAD_NAMES.healthPort;
    const metadata = { namespace: args.namespace, labels: args.labels };
    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { ...metadata, name: "sqs-consumer-metrics" },
        spec: {
          selector: args.selectorLabels,
          ports: [{ name: portName, port: args.tunables.healthPort, targetPort: portName, protocol: "TCP" }],
        },
      },
      childOpts,
    );
    new k8s.apiextensions.CustomResource(
      `${name}-service-monitor`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata: { ...metadata, name: "sqs-consumer" },
        spec: {
          selector: { matchLabels: args.selectorLabels },
          namespaceSelector: { matchNames: [args.namespace] },
          endpoints: [{ port: portName, path: PROBE_PATHS.metrics, interval: "30s", scheme: "http" }],
        },
      },
      { ...childOpts, dependsOn: [service] },
    );
    new k8s.apiextensions.CustomResource(
      `${name}-rules`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: { ...metadata, name: "sqs-consumer" },
        spec: {
          groups: pulumi
            .output(args.namespace)
            .apply((namespace) => consumerAlertRules(`namespace="${namespace}"`, args.tunables)),
        },
      },
      childOpts,
    );
    this.registerOutputs({});
  }
}
