import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import {
  EMULATOR_CREDENTIALS,
  createQueueWithDlq,
  emulatorClient,
  startEmulator,
  type Emulator,
  type QueuePair,
} from "../consumer/local/emulator";
import { DEFAULT_TUNABLES } from "../consumer/src/settings";
import { queueCounts } from "../consumer/test/helpers/queue";
import { startMoveTaskStandIn } from "./helpers/move-task-stand-in";

const script = join(__dirname, "..", "scripts", "redrive.ts");

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `npm run redrive`'s script with `args`, reaching SQS at `endpoint`; `onLine` sees each stdout line. */
function redrive(
  args: string[],
  endpoint: string,
  onLine?: (line: string, child: ReturnType<typeof spawn>) => void,
): Promise<Run> {
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL_SQS: endpoint,
      AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const line of chunk.toString().split("\n").filter(Boolean)) onLine?.(line, child);
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, stdout, stderr })));
}

async function fill(sqs: SQSClient, queueUrl: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Array.from({ length: Math.min(10, count - i) }, (_, j) => ({
          Id: String(j),
          MessageBody: `failed ${i + j}`,
        })),
      }),
    );
  }
}

describe("npm run redrive (StartMessageMoveTask, against a stand-in in front of fauxqs)", () => {
  let emulator: Emulator;
  let sqs: SQSClient;
  let standIn: Awaited<ReturnType<typeof startMoveTaskStandIn>>;
  let queues = 0;
  const pair = (): Promise<QueuePair> =>
    createQueueWithDlq(sqs, `redrive-${process.pid}-${++queues}`, DEFAULT_TUNABLES, 3);

  before(async () => {
    emulator = await startEmulator();
    sqs = emulatorClient(emulator.endpoint);
    standIn = await startMoveTaskStandIn(emulator.endpoint, sqs);
  });
  after(async () => {
    await standIn.close();
    sqs.destroy();
    await emulator.stop();
  });

  it("moves every DLQ message back to its source queue at the rate asked for, reporting progress until COMPLETED", async () => {
    const { queueUrl, dlqUrl } = await pair();
    await fill(sqs, dlqUrl, 25);
    const run = await redrive(["--dlq", dlqUrl, "--rate", "10", "--poll-seconds", "0.3"], standIn.endpoint);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split("\n");
    assert.match(lines[0]!, /^RUNNING: moved \d+ of 25$/);
    const outcome = JSON.parse(lines.at(-1)!) as { status: string; moved: number; toMove: number };
    assert.deepEqual(
      { status: outcome.status, moved: outcome.moved, toMove: outcome.toMove },
      { status: "COMPLETED", moved: 25, toMove: 25 },
    );
    assert.deepEqual(await queueCounts(sqs, dlqUrl), { visible: 0, inFlight: 0 });
    assert.deepEqual(await queueCounts(sqs, queueUrl), { visible: 25, inFlight: 0 });
    const task = standIn.tasks.at(-1)!;
    assert.equal(task.MaxNumberOfMessagesPerSecond, 10, "the rate reached SQS");
    assert.equal(task.DestinationArn, undefined, "no destination: SQS moves each message back to where it came from");
  });

  it("Ctrl-C cancels the task: what moved stays moved, the rest stays in the DLQ, exit 1", async () => {
    const { queueUrl, dlqUrl } = await pair();
    await fill(sqs, dlqUrl, 30);
    let interrupted = false;
    const run = await redrive(
      ["--dlq", dlqUrl, "--rate", "2", "--poll-seconds", "0.3"],
      standIn.endpoint,
      (line, child) => {
        if (!interrupted && line.startsWith("RUNNING")) {
          interrupted = true;
          child.kill("SIGINT");
        }
      },
    );
    assert.equal(run.code, 1);
    assert.match(run.stderr, /cancelling the move task/);
    const outcome = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as { status: string; moved: number };
    assert.equal(outcome.status, "CANCELLED");
    const [source, dlq] = [await queueCounts(sqs, queueUrl), await queueCounts(sqs, dlqUrl)];
    assert.equal(source.visible, outcome.moved);
    assert.equal(dlq.visible, 30 - outcome.moved);
    assert.ok(outcome.moved < 30);
  });

  it("--to moves to another queue instead", async () => {
    const from = await pair();
    const to = await pair();
    await fill(sqs, from.dlqUrl, 3);
    const run = await redrive(["--dlq", from.dlqUrl, "--to", to.queueArn, "--poll-seconds", "0.3"], standIn.endpoint);
    assert.equal(run.code, 0, run.stderr);
    assert.equal((await queueCounts(sqs, to.queueUrl)).visible, 3);
    assert.equal((await queueCounts(sqs, from.queueUrl)).visible, 0);
  });

  it("bad usage exits 64 naming every problem, before any call", async () => {
    const run = await redrive(["--rate", "0", "--to", "orders", "--poll-seconds=-1"], "http://127.0.0.1:1");
    assert.equal(run.code, 64);
    for (const part of ["--dlq is required", "--rate 0", "--to orders", "--poll-seconds -1"])
      assert.ok(run.stderr.includes(part), `${part} in ${run.stderr}`);
  });

  it("a queue that is no queue's DLQ: SQS's refusal is reported, exit 1", async () => {
    const { queueUrl } = await pair();
    const run = await redrive(["--dlq", queueUrl], standIn.endpoint);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /redrive failed: InvalidParameterValue.*not a dead-letter queue/);
  });
});

describe("npm run redrive usage", () => {
  for (const [what, args] of [
    ["a DLQ URL without --dlq", ["https://sqs.us-east-1.amazonaws.com/123456789012/orders-dlq"]],
    ["an empty --rate", ["--dlq", "q", "--rate", ""]],
    ["a fractional --rate", ["--dlq", "q", "--rate", "2.5"]],
    ["--rate above 500", ["--dlq", "q", "--rate", "501"]],
    ["an unknown option", ["--dlq", "q", "--rate-limit", "5"]],
    ["a --to that is an SNS topic ARN", ["--dlq", "q", "--to", "arn:aws:sns:us-east-1:123456789012:orders"]],
  ] as const) {
    it(`${what}: exit 64 before any call`, async () => {
      const run = await redrive([...args], "http://127.0.0.1:1");
      assert.equal(run.code, 64, run.stderr);
      assert.match(run.stderr, /usage: npm run redrive/);
    });
  }
});
