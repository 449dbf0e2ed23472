// consumer/handler.ts as a user edits it: `npm start` runs whatever it exports, `npm run build` bundles it
// into the file the image runs, and a file that exports neither form or both fails at start-up (exit 78)
// and at build, naming the file and what it exports. Each case runs a copy of consumer/ whose handler.ts
// is the case's, with the repository's node_modules.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { EMULATOR_CREDENTIALS } from "../local/emulator";
import { EXIT_INVALID_CONFIG } from "../src/app";
import { killConsumers, spawnConsumer, type ConsumerProcess } from "./helpers/consumer-process";
import { eventually, queueCounts, sendMessages } from "./helpers/queue";
import { startTestBed } from "./helpers/test-bed";

const repo = join(__dirname, "..", "..");
const copies: string[] = [];
after(async () => {
  await killConsumers();
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the repository's consumer/ whose handler.ts is `source`; returns the copy's root. */
function withHandler(source: string): string {
  const root = mkdtempSync(join(tmpdir(), "handler-file-"));
  copies.push(root);
  for (const part of ["package.json", "build.mjs", "src", "local"])
    cpSync(join(repo, "consumer", part), join(root, "consumer", part), { recursive: true });
  writeFileSync(join(root, "consumer", "handler.ts"), source);
  symlinkSync(join(repo, "node_modules"), join(root, "node_modules"), "dir");
  return root;
}

/** `npm run build` in a copy: consumer/build.mjs, as the consumer workspace's build script runs it. */
function build(root: string): Promise<{ code: number; stdout: string; stderr: string; bundle: string }> {
  const bundle = join(root, "consumer", "dist", "main.js");
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, "consumer", "build.mjs")],
      { cwd: join(root, "consumer"), timeout: 120_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr, bundle }),
    );
  });
}

/** `npm start` in a copy: consumer/local/start.ts, on an emulator port of its own. */
const start = (root: string, env: Record<string, string> = {}) =>
  spawnConsumer(
    join(root, "consumer", "local", "start.ts"),
    { LOCAL_SQS_PORT: "0", HEALTH_PORT: "0", ...env },
    [],
    root,
  );

/** Its exit code, or a failure when it is still running after `ms` (a handler file it should have refused). */
async function exitCode(consumer: ConsumerProcess, ms = 30_000): Promise<number | null> {
  const timer = setTimeout(() => consumer.child.kill("SIGKILL"), ms);
  const exit = await consumer.exited;
  clearTimeout(timer);
  assert.notEqual(exit.signal, "SIGKILL", `still running after ${ms} ms`);
  return exit.code;
}

const LAMBDA_HANDLER = `import type { SQSBatchResponse, SQSEvent } from "aws-lambda";

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const batchItemFailures: SQSBatchResponse["batchItemFailures"] = [];
  for (const record of event.Records) {
    if (record.body === "bad" && record.attributes.ApproximateReceiveCount === "1")
      batchItemFailures.push({ itemIdentifier: record.messageId });
    else console.log(JSON.stringify({ event: "lambda-handled", body: record.body }));
  }
  return { batchItemFailures };
};
`;

describe("what consumer/handler.ts exports", () => {
  const cases: [string, string, RegExp][] = [
    [
      "neither (an AWS Lambda handler exported as handler)",
      LAMBDA_HANDLER,
      /exports neither handleMessage nor handleBatch \(it exports handler\): export one of them; for an AWS Lambda SQS handler, export it as handleBatch \(export \{ handler as handleBatch \}\)/,
    ],
    [
      "both",
      "export async function handleMessage(): Promise<void> {}\nexport async function handleBatch(): Promise<void> {}\n",
      /exports both handleMessage and handleBatch: export one of them/,
    ],
    ["nothing", "export {};\n", /exports neither handleMessage nor handleBatch \(it exports nothing\)/],
  ];
  for (const [name, source, reason] of cases) {
    test(`${name}: npm start exits 78 and npm run build fails, each naming the file and what it found`, async () => {
      const root = withHandler(source);
      const consumer = start(root);
      assert.equal(await exitCode(consumer), EXIT_INVALID_CONFIG, JSON.stringify(consumer.lines));
      const fatal = consumer.lines.find((line) => line.event === "invalid-config");
      assert.ok(fatal, JSON.stringify(consumer.lines));
      assert.deepEqual(
        (fatal.problems as { key: string }[]).map((p) => p.key),
        ["consumer/handler.ts"],
      );
      assert.match(String(fatal.msg), reason);
      assert.ok(
        !consumer.lines.some((line) => line.event === "local-emulator"),
        "the emulator started for a handler that cannot run",
      );
      const built = await build(root);
      assert.notEqual(built.code, 0, "the build passed");
      assert.match(built.stderr, new RegExp(`consumer/handler\\.ts: ${reason.source}`));
    });
  }

  test("an export that is not a function: npm start exits 78 naming it", async () => {
    const consumer = start(withHandler('export const handleMessage = "log it";\n'));
    assert.equal(await exitCode(consumer), EXIT_INVALID_CONFIG);
    const fatal = consumer.lines.find((line) => line.event === "invalid-config");
    assert.match(String(fatal?.msg), /consumer\/handler\.ts: exports handleMessage as a string, not a function/);
  });

  test("an AWS Lambda SQS handler, exported as handleBatch, runs unchanged with npm start", async () => {
    const root = withHandler(`${LAMBDA_HANDLER}export { handler as handleBatch };\n`);
    const consumer = start(root, { BATCH_WINDOW_SECONDS: "1", RETRY_BASE_SECONDS: "1" });
    try {
      const config = await consumer.waitFor((line) => line.event === "config", 30_000, "start-up");
      assert.equal(config.handler, "batch");
      const local = await consumer.waitFor((line) => line.event === "local-emulator", 10_000, "the emulator");
      const sqs = new SQSClient({
        endpoint: String(local.endpoint),
        region: "us-east-1",
        credentials: EMULATOR_CREDENTIALS,
      });
      for (const body of ["good", "bad"])
        await sqs.send(new SendMessageCommand({ QueueUrl: String(local.queueUrl), MessageBody: body }));
      sqs.destroy();
      const handled = () => consumer.lines.filter((line) => line.event === "lambda-handled").map((line) => line.body);
      await eventually(
        () => handled().length === 2,
        15_000,
        "both messages handled, the bad one on its second receive",
      );
      assert.deepEqual(handled().sort(), ["bad", "good"]);
    } finally {
      consumer.child.kill("SIGINT");
      await consumer.exited;
    }
  });

  test("npm run build bundles the handler: the bundle runs the Lambda handler on its own", async () => {
    const root = withHandler(`${LAMBDA_HANDLER}export { handler as handleBatch };\n`);
    const built = await build(root);
    assert.equal(built.code, 0, built.stderr);
    assert.match(built.stdout, /consumer\/handler\.ts exports handleBatch/);
    // The bundle needs no node_modules: take the copy's away before it runs.
    rmSync(join(root, "node_modules"));
    const bed = await startTestBed();
    const consumer = spawnConsumer(built.bundle, { ...bed.env, BATCH_WINDOW_SECONDS: "1" }, [], root);
    try {
      const config = await consumer.waitFor((line) => line.event === "config", 15_000, "start-up");
      assert.equal(config.handler, "batch");
      await sendMessages(bed.sqs, bed.queue.queueUrl, ["one", "two", "three"]);
      await eventually(
        () => consumer.lines.filter((line) => line.event === "lambda-handled").length === 3,
        10_000,
        "three messages handled",
      );
      await eventually(
        async () => (await queueCounts(bed.sqs, bed.queue.queueUrl)).inFlight === 0,
        5_000,
        "the deletes",
      );
    } finally {
      consumer.child.kill("SIGTERM");
      await consumer.exited;
      await bed.close();
    }
  });
});
