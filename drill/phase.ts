// One run of the scenario: an idle queue, a burst, the pods consuming it, then quiet. Either the
// autoscaled deployment (0 pods, KEDA + HPA decide) or a fixed one (N pods from the start); the
// autoscaled one either on nodes that always have room or on nodes launched for its pods (drill/nodes.ts).
import { setTimeout as sleep } from "node:timers/promises";
import type { SQSClient } from "@aws-sdk/client-sqs";
import {
  consumerEnv,
  createRunQueue,
  deleteRunQueue,
  epochMs,
  messagesHeld,
  preload,
  readQueueAttributes,
  withTimeout,
  type EmulatorControl,
} from "../harness";
import type { Sample } from "./chart";
import { ScalingController, type ScaleDecision } from "./controller";
import { readLedger, type Ledger } from "./ledger";
import { NodeFleet, type NodeModel } from "./nodes";
import type { DrillPlan } from "./plan";
import { PodSet, type PodRecord } from "./pods";

const SAMPLE_MS = 250;
/** A drain slower than 20 messages/s (plus two minutes) is treated as stuck. */
const drainTimeoutMs = (messages: number): number => 120_000 + messages * 50;

export interface DrillContext {
  readonly emulator: EmulatorControl;
  readonly setup: SQSClient;
  readonly bundle: string;
  readonly logDir: string;
  readonly homeDir: string;
  readonly random: () => number;
}

export interface PhaseResult {
  readonly kind: "autoscaled" | "fixed";
  readonly label: string;
  /** Time 0 of `samples` and of the report (epoch ms): the burst is in the queue and scaling starts. */
  readonly burstAt: number;
  readonly samples: readonly Sample[];
  readonly decisions: readonly ScaleDecision[];
  /** From time 0 (the burst in the queue; controller or fixed pods started) to the queue first seen empty (resolution SAMPLE_MS). */
  readonly drainSeconds: number;
  /** How long loading the burst took, before time 0. */
  readonly loadSeconds: number;
  /** From the drain to the pod count back at the floor with nothing terminating (autoscaled only). */
  readonly backToMinSeconds: number | undefined;
  readonly finalReplicas: number;
  readonly peakReplicas: number;
  /**
   * From time 0 (the queue grew) to the last pod of the scale-out running (the latest start before the drain),
   * in seconds; includes every wait for a node.
   */
  readonly lastPodRunningSeconds: number;
  /** Nodes launched for the pods; undefined when nodes always had room. */
  readonly nodesLaunched: number | undefined;
  readonly pods: readonly PodRecord[];
  readonly unexpectedExits: readonly PodRecord[];
  readonly ledger: Ledger;
  /** Messages still in the queue, and in its DLQ, at the end: both 0 for a complete run. */
  readonly left: number;
  readonly deadLettered: number;
  readonly readFailures: number;
}

function podEnv(ctx: DrillContext, plan: DrillPlan, queueUrl: string): Record<string, string> {
  return {
    ...consumerEnv({ endpoint: ctx.emulator.endpoint, homeDir: ctx.homeDir, queueUrl, accessKeyId: "drill-pod" }),
    DRILL_HANDLER_MS: String(plan.handlerMs),
    ...plan.podSettings,
  };
}

/** Runs the scenario once and accounts for every message. */
export async function runPhase(
  ctx: DrillContext,
  plan: DrillPlan,
  kind: PhaseResult["kind"],
  progress: (line: string) => void,
  nodes?: NodeModel,
): Promise<PhaseResult> {
  const label =
    kind === "autoscaled"
      ? `autoscaled ${plan.minReplicas}..${plan.maxReplicas}` +
        (nodes === undefined
          ? ""
          : `, nodes launched for pods (${nodes.instanceType}: ${nodes.podsPerNode} pods each, ready ${nodes.provisionSeconds} s after launch)`)
      : `fixed ${plan.fixedReplicas} replicas`;
  const fleet = nodes === undefined ? undefined : new NodeFleet(nodes);
  const queue = await createRunQueue(ctx.setup, `drill-${kind}-${Date.now()}`);
  const pods = new PodSet({
    bundle: ctx.bundle,
    logDir: ctx.logDir,
    env: podEnv(ctx, plan, queue.queueUrl),
    gracePeriodMs: plan.gracePeriodSeconds * 1000,
    random: ctx.random,
    prefix: nodes === undefined ? kind : `${kind}-nodes`,
    ...(fleet === undefined ? {} : { nodes: fleet }),
  });
  const controller = kind === "autoscaled" ? new ScalingController(ctx.setup, queue.queueUrl, plan, pods) : undefined;
  const samples: Sample[] = [];
  let burstAt = 0;
  let burstSent = false;
  let drainedAt: number | undefined;
  let sampling = true;
  let readFailures = 0;
  const sampler = (async () => {
    while (sampling) {
      try {
        const a = await readQueueAttributes(ctx.setup, queue.queueUrl);
        const at = epochMs();
        const depth = a.visible + a.notVisible + a.delayed;
        if (burstAt > 0)
          samples.push({ t: (at - burstAt) / 1000, replicas: pods.replicas, terminating: pods.terminating, depth });
        if (burstSent && depth === 0) drainedAt ??= at;
      } catch {
        readFailures++;
      }
      await sleep(SAMPLE_MS);
    }
  })();
  const until = async (done: () => boolean, ms: number, what: string): Promise<void> => {
    const crashed = (): boolean => pods.unexpectedExits().length > 0;
    await withTimeout(
      (async () => {
        while (!done() && !crashed()) await sleep(100);
        if (crashed())
          throw new Error(
            `${label}: a pod exited without being told to:\n${pods
              .unexpectedExits()
              .map((p) => `${p.name} code ${p.exitCode}: ${p.stderrTail}`)
              .join("\n")}`,
          );
      })(),
      ms,
      `${label}: ${what}`,
    );
  };

  try {
    // The whole burst is in the queue before anything consumes it, so both deployments face the same
    // 50,000 messages at time 0 (sending them takes minutes on a loaded machine: a producer that slow
    // would set the pace of both drains instead of the consumers).
    progress(`${label}: loading a burst of ${plan.messages.toLocaleString("en-US")} messages into the idle queue`);
    const loadStartedAt = epochMs();
    await preload(ctx.setup, queue.queueUrl, plan.messages);
    burstAt = epochMs();
    const loadSeconds = (burstAt - loadStartedAt) / 1000;
    burstSent = true;
    if (controller) controller.start();
    else pods.scaleTo(plan.fixedReplicas);
    await until(() => drainedAt !== undefined, drainTimeoutMs(plan.messages), "the queue to drain");
    progress(
      `${label}: drained after ${((drainedAt! - burstAt) / 1000).toFixed(1)} s with ${pods.replicas} pods; now quiet`,
    );
    let backToMinSeconds: number | undefined;
    if (controller) {
      const limitMs =
        (plan.cooldownPeriodSeconds + plan.behavior.scaleDown.stabilizationWindowSeconds + plan.gracePeriodSeconds) *
          1000 +
        60_000;
      await until(
        () => pods.replicas === plan.minReplicas && pods.terminating === 0,
        limitMs,
        `scale back to ${plan.minReplicas} pods`,
      );
      backToMinSeconds = (epochMs() - drainedAt!) / 1000;
      await controller.stop();
    } else {
      pods.scaleTo(0);
    }
    const finalReplicas = pods.replicas;
    await until(() => pods.terminating === 0, plan.gracePeriodSeconds * 1000 + 10_000, "terminating pods to exit");
    sampling = false;
    await sampler;
    pods.scaleTo(0);
    await pods.settled();
    return {
      kind,
      label,
      burstAt,
      samples,
      decisions: controller?.decisions ?? [],
      drainSeconds: (drainedAt! - burstAt) / 1000,
      loadSeconds,
      backToMinSeconds,
      finalReplicas,
      peakReplicas: Math.max(0, ...samples.map((s) => s.replicas)),
      lastPodRunningSeconds:
        (Math.max(burstAt, ...pods.records.filter((p) => p.startedAt <= drainedAt!).map((p) => p.startedAt)) -
          burstAt) /
        1000,
      nodesLaunched: fleet?.nodes.length,
      pods: pods.records,
      unexpectedExits: pods.unexpectedExits(),
      ledger: readLedger(pods.records, plan.messages),
      left: await messagesHeld(ctx.setup, queue.queueUrl),
      deadLettered: await messagesHeld(ctx.setup, queue.dlqUrl),
      readFailures: readFailures + (controller?.readFailures ?? 0),
    };
  } finally {
    sampling = false;
    await controller?.stop();
    await sampler;
    await pods.killAll();
    await deleteRunQueue(ctx.setup, queue);
  }
}
