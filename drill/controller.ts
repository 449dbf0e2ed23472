// The drill's KEDA and HPA: two loops on real timers around the pure decisions in hpa.ts. KEDA reads
// the queue with GetQueueAttributes every pollingInterval, caches the metric (useCachedMetrics) and
// owns 0 <-> 1; the HPA syncs on its own period from that cached metric and owns 1 <-> max.
import { setTimeout as sleep } from "node:timers/promises";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { epochMs, readQueueAttributes, type QueueAttributes } from "../harness";
import { hpaDecide, isActive, kedaDecide, queueMetric, type Recommendation, type ScaleEvent } from "./hpa";
import type { DrillPlan } from "./plan";
import type { PodSet } from "./pods";

/** One change the controllers made. */
export interface ScaleDecision {
  readonly at: number;
  readonly by: "keda" | "hpa";
  readonly from: number;
  readonly to: number;
  readonly metric: number;
}

/** KEDA and the HPA for one ScaledObject, scaling `pods`. */
export class ScalingController {
  readonly decisions: ScaleDecision[] = [];
  /** Readings that failed (timeouts, errors): the HPA keeps using the last good one. */
  readFailures = 0;
  private metric: number | undefined;
  private lastActiveAt: number | undefined;
  private readonly history: Recommendation[] = [];
  private readonly events: ScaleEvent[] = [];
  private readonly stopping = new AbortController();
  private loops: Promise<void>[] = [];

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly plan: DrillPlan,
    private readonly pods: PodSet,
  ) {}

  start(): void {
    this.loops = [
      this.every(this.plan.pollingIntervalSeconds, () => this.kedaTick()),
      this.every(this.plan.hpaSyncSeconds, () => Promise.resolve(this.hpaTick())),
    ];
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all(this.loops);
  }

  private async every(seconds: number, tick: () => Promise<void>): Promise<void> {
    while (!this.stopping.signal.aborted) {
      await tick();
      await sleep(seconds * 1000, undefined, { signal: this.stopping.signal }).catch(() => undefined);
    }
  }

  private apply(by: ScaleDecision["by"], to: number, metric: number): void {
    const from = this.pods.replicas;
    if (to === from) return;
    const at = epochMs();
    this.decisions.push({ at, by, from, to, metric });
    if (by === "hpa") this.events.push({ at, change: to - from });
    this.pods.scaleTo(to);
  }

  private async kedaTick(): Promise<void> {
    let attributes: QueueAttributes;
    try {
      attributes = await readQueueAttributes(this.sqs, this.queueUrl);
    } catch {
      this.readFailures++;
      return;
    }
    const now = epochMs();
    const metric = queueMetric(attributes, this.plan.trigger);
    this.metric = metric;
    const active = isActive(metric, this.plan.trigger);
    if (active) this.lastActiveAt = now;
    const action = kedaDecide({
      now,
      currentReplicas: this.pods.replicas,
      active,
      lastActiveAt: this.lastActiveAt,
      minReplicaCount: this.plan.minReplicas,
      cooldownPeriodSeconds: this.plan.cooldownPeriodSeconds,
    });
    if (action.kind !== "none") this.apply("keda", action.replicas, metric);
  }

  private hpaTick(): void {
    if (this.metric === undefined || this.pods.replicas === 0) return;
    const now = epochMs();
    const decision = hpaDecide({
      now,
      currentReplicas: this.pods.replicas,
      metricTotal: this.metric,
      targetPerReplica: this.plan.trigger.queueLength,
      minReplicas: Math.max(1, this.plan.minReplicas),
      maxReplicas: this.plan.maxReplicas,
      behavior: this.plan.behavior,
      history: this.history,
      events: this.events,
    });
    this.history.push({ at: now, replicas: decision.recommendation });
    this.apply("hpa", decision.desiredReplicas, this.metric);
  }
}
