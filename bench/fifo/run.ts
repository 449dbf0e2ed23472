// Scenario F: a FIFO queue of G groups x M messages, 10 ms handler, on the FIFO stand-in
// (consumer/test/helpers/fifo-sqs.ts), which hands out several messages of a group per receive and
// locks the group until they are deleted, as SQS does; fauxqs hands out one per group, so an ordering
// fault could not show there. The stand-in runs in the orchestrator's process, never in a contestant's.
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CreateQueueCommand, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { build } from "esbuild";
import { startFifoSqs } from "../../consumer/test/helpers/fifo-sqs";
import { CONSUMER_BUNDLE_OPTIONS, consumerEnv, epochMs, startProcess, withTimeout } from "../../harness";
import { renderTargetLine } from "../report";
import { checkFifoTargets } from "../targets";
import type { FifoCounts } from "./contestant";

export type FifoContestantId = "consumer" | "sqs-consumer" | "sequential";
export const FIFO_CONTESTANTS: readonly { readonly id: FifoContestantId; readonly label: string }[] = [
  { id: "consumer", label: "this consumer" },
  { id: "sqs-consumer", label: "sqs-consumer per message" },
  { id: "sequential", label: "sequential order-keeping loop" },
];

export interface FifoPlan {
  readonly mode: "full" | "quick";
  readonly groups: number;
  readonly messagesPerGroup: number;
}

export function fifoPlan(quick: boolean): FifoPlan {
  return quick
    ? { mode: "quick", groups: 10, messagesPerGroup: 50 }
    : { mode: "full", groups: 50, messagesPerGroup: 200 };
}

export interface FifoRun {
  readonly contestant: FifoContestantId;
  readonly messages: number;
  /** From the first ReceiveMessage reaching the stand-in until the queue held nothing. */
  readonly seconds: number;
  readonly messagesPerSecond: number;
  readonly handled: number;
  readonly violations: number;
}

/** Runs every contestant once, one after another, each on a fresh queue of the stand-in. */
export async function runFifo(
  plan: FifoPlan,
  dirs: { buildDir: string; homeDir: string },
  progress: (line: string) => void,
): Promise<FifoRun[]> {
  const bundle = join(dirs.buildDir, "fifo-contestant.js");
  await build({
    entryPoints: [join(__dirname, "contestant.ts")],
    outfile: bundle,
    ...CONSUMER_BUNDLE_OPTIONS,
  });
  const firstReceive = new Map<string, number>();
  const stand = await startFifoSqs({
    onRequest: (request) => {
      const queue = typeof request.input.QueueUrl === "string" ? (request.input.QueueUrl.split("/").at(-1) ?? "") : "";
      if (request.operation === "ReceiveMessage" && !firstReceive.has(queue)) firstReceive.set(queue, epochMs());
    },
  });
  const setup = new SQSClient({
    endpoint: stand.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "bench-setup", secretAccessKey: "bench-placeholder" },
  });
  const runs: FifoRun[] = [];
  try {
    for (const contestant of FIFO_CONTESTANTS) {
      const run = await runOne(contestant.id, plan, {
        bundle,
        homeDir: dirs.homeDir,
        endpoint: stand.endpoint,
        setup,
        stand,
        firstReceive,
      });
      runs.push(run);
      progress(
        `F ${contestant.label}: ${Math.round(run.messagesPerSecond)} msg/s, ${run.violations} order violations, ${run.handled} handler runs for ${run.messages} messages`,
      );
    }
  } finally {
    setup.destroy();
    await stand.close();
  }
  return runs;
}

interface RunContext {
  readonly bundle: string;
  readonly homeDir: string;
  readonly endpoint: string;
  readonly setup: SQSClient;
  readonly stand: Awaited<ReturnType<typeof startFifoSqs>>;
  readonly firstReceive: Map<string, number>;
}

let runs = 0;

async function runOne(id: FifoContestantId, plan: FifoPlan, ctx: RunContext): Promise<FifoRun> {
  const queueName = `bench-fifo-${id}-${++runs}.fifo`;
  const { QueueUrl: queueUrl } = await ctx.setup.send(
    new CreateQueueCommand({ QueueName: queueName, Attributes: { FifoQueue: "true", VisibilityTimeout: "30" } }),
  );
  // Groups interleaved, as producers of many groups would send them.
  const bodies: { group: string; body: string }[] = [];
  for (let i = 0; i < plan.messagesPerGroup; i++)
    for (let g = 0; g < plan.groups; g++) bodies.push({ group: `g${g}`, body: `g${g}:${i}` });
  for (let i = 0; i < bodies.length; i += 10) {
    await ctx.setup.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: bodies.slice(i, i + 10).map((b, j) => ({
          Id: String(j),
          MessageBody: b.body,
          MessageGroupId: b.group,
          MessageDeduplicationId: b.body,
        })),
      }),
    );
  }
  const messages = bodies.length;
  const proc = startProcess(process.execPath, [ctx.bundle], {
    env: {
      ...consumerEnv({ endpoint: ctx.endpoint, homeDir: ctx.homeDir, queueUrl: queueUrl!, accessKeyId: `bench-${id}` }),
      BENCH_FIFO_CONTESTANT: id,
    },
    stdout: "ignore",
    ipc: true,
  });
  let stopping = false;
  const exited = proc.exited.then(({ code }): Promise<never> =>
    stopping
      ? new Promise<never>(() => undefined)
      : Promise.reject(new Error(`${id} exited (${code}) during the FIFO run:\n${proc.stderrTail()}`)),
  );
  exited.catch(() => undefined);
  try {
    const drained = (async () => {
      for (;;) {
        const depth = ctx.stand.depth(queueName);
        if (depth.visible + depth.inFlight === 0) return epochMs();
        await sleep(10);
      }
    })();
    // 10 messages/s at worst (a sequential loop on a loaded machine), plus a minute.
    const endedAt = await withTimeout(
      Promise.race([drained, exited]),
      60_000 + messages * 100,
      `${id}: the FIFO queue to drain`,
    );
    const startedAt = ctx.firstReceive.get(queueName) ?? endedAt;
    const counts = await withTimeout(
      Promise.race([
        new Promise<FifoCounts>((resolve) => {
          proc.child.once("message", (message: FifoCounts) => resolve(message));
          proc.child.send({ type: "report" });
        }),
        exited,
      ]),
      5_000,
      `${id}'s counts`,
    );
    const seconds = (endedAt - startedAt) / 1000;
    return {
      contestant: id,
      messages,
      seconds,
      messagesPerSecond: messages / seconds,
      handled: counts.handled,
      violations: counts.violations,
    };
  } finally {
    stopping = true;
    await proc.kill();
  }
}

/** The scenario's table: one row per contestant, and this consumer against the sequential loop. */
export function renderFifo(plan: FifoPlan, runs: readonly FifoRun[]): string {
  const sequential = runs.find((r) => r.contestant === "sequential");
  const lines = [
    `F: FIFO queue, ${plan.groups} groups x ${plan.messagesPerGroup} messages, 10 ms handler, on the FIFO stand-in`,
    "| contestant | msg/s | x sequential | order violations | handler runs |",
    "|---|---:|---:|---:|---:|",
    ...runs.map((r) => {
      const label = FIFO_CONTESTANTS.find((c) => c.id === r.contestant)!.label;
      const ratio = sequential ? (r.messagesPerSecond / sequential.messagesPerSecond).toFixed(1) : "-";
      return `| ${label} | ${Math.round(r.messagesPerSecond)} | ${ratio} | ${r.violations} | ${r.handled} |`;
    }),
    "",
    `Targets (scenario F)${plan.mode === "quick" ? "; quick mode: sizes too small to judge them" : ""}`,
    ...checkFifoTargets(runs).map(renderTargetLine),
  ];
  return lines.join("\n");
}
