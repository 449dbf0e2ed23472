// consumer/handler.ts as a user edits it: `npm start` runs whatever it exports, `npm run build` bundles it
// into the file the image runs, and a file that exports neither form or both fails at start-up (exit 78)
// and at build, naming the file and what it exports. Each case runs a copy of consumer/ whose handler.ts
// is the case's, with the repository's node_modules.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
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

/**
 * A copy of the repository's consumer/ whose handler.ts is `source`, with `files` (paths from the root)
 * beside it; returns the copy's root. With `image`, the copy has the Dockerfile and .dockerignore too,
 * so that the build checks the handler's imports against the image's build stage.
 */
function withHandler(source: string, files: Record<string, string> = {}, image = false): string {
  const root = mkdtempSync(join(tmpdir(), "handler-file-"));
  copies.push(root);
  for (const part of ["package.json", "build.mjs", "src", "local", ...(image ? ["Dockerfile"] : [])])
    cpSync(join(repo, "consumer", part), join(root, "consumer", part), { recursive: true });
  if (image) cpSync(join(repo, ".dockerignore"), join(root, ".dockerignore"));
  writeFileSync(join(root, "consumer", "handler.ts"), source);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
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

describe("a handler file npm start and npm run build refuse alike, in one line naming the file, the place and the fix", () => {
  /** Runs `npm start` on the copy; returns the fatal line's message after checking the exit code and that nothing else was printed. */
  async function refusedAtStart(root: string): Promise<string> {
    const consumer = start(root);
    assert.equal(
      await exitCode(consumer),
      EXIT_INVALID_CONFIG,
      JSON.stringify(consumer.lines) + consumer.stray.join(""),
    );
    assert.deepEqual(consumer.stray, [], "a stack trace or other output besides the JSON lines");
    const fatal = consumer.lines.find((line) => line.event === "invalid-config");
    assert.ok(fatal, JSON.stringify(consumer.lines));
    return String(fatal.msg);
  }

  /** Runs `npm run build` on the copy; returns its stderr after checking that it failed with one line. */
  async function refusedAtBuild(root: string): Promise<string> {
    const built = await build(root);
    assert.notEqual(built.code, 0, `the build passed: ${built.stdout}`);
    assert.equal(built.stderr.trim().split("\n").length, 1, built.stderr);
    return built.stderr.trim();
  }

  test("a callback-style handler (event, context, callback): refused, with the fix", async () => {
    const root = withHandler(
      "export const handleBatch = (event: unknown, context: unknown, callback: (e: null, r: object) => void) => callback(null, { batchItemFailures: [] });\n",
    );
    const reason =
      /consumer\/handler\.ts: exports handleBatch as a function of 3 parameters, a callback-style handler .*make it async and return its answer/;
    assert.match(await refusedAtStart(root), reason);
    assert.match(await refusedAtBuild(root), reason);
  });

  test("an export that is not a function: refused by both", async () => {
    const root = withHandler("export const handleBatch = { batchItemFailures: [] };\n");
    const reason = /consumer\/handler\.ts: exports handleBatch as an object, not a function/;
    assert.match(await refusedAtStart(root), reason);
    assert.match(await refusedAtBuild(root), reason);
  });

  test("top-level await: refused by both at its place, saying what to do instead", async () => {
    const root = withHandler(
      "const ready = await Promise.resolve(true);\nexport async function handleMessage(): Promise<void> {\n  if (!ready) throw new Error();\n}\n",
    );
    const reason =
      /consumer\/handler\.ts:1:15: Top-level await is currently not supported .*await inside handleMessage or handleBatch instead/;
    assert.match(await refusedAtStart(root), reason);
    assert.match(await refusedAtBuild(root), reason);
  });

  test("a syntax error: refused by both at its place", async () => {
    const root = withHandler("export const a = 1;\nexport const b = {;\n");
    const reason = /consumer\/handler\.ts:2:19: Expected identifier but found ";"/;
    assert.match(await refusedAtStart(root), reason);
    assert.match(await refusedAtBuild(root), reason);
  });

  test("a throw at the top level: refused by both, naming where it was thrown", async () => {
    const root = withHandler(
      'const table = process.env.ORDERS_TABLE;\nif (!table) throw new Error("ORDERS_TABLE is not set");\nexport async function handleMessage(): Promise<void> {}\n',
    );
    const reason = /consumer\/handler\.ts:2:\d+: Error: ORDERS_TABLE is not set/;
    assert.match(await refusedAtStart(root), reason);
    assert.match(await refusedAtBuild(root), reason);
  });

  test("an npm package the consumer workspace does not declare (here a root dev dependency): the build names it and the install command", async () => {
    const root = withHandler(
      'import { parse } from "yaml";\nexport async function handleMessage(): Promise<void> {\n  parse("a: 1");\n}\n',
      {},
      true,
    );
    assert.match(
      await refusedAtBuild(root),
      /^consumer\/handler\.ts: imports "yaml", which is not declared in consumer\/package\.json, so the image's npm ci does not install it: npm install --workspace consumer yaml$/,
    );
  });

  test("a file outside consumer/: the build names it and where to put it; a file beside handler.ts builds", async () => {
    const outside = withHandler(
      'import { total } from "../shared/money";\nexport async function handleMessage(): Promise<void> {\n  total();\n}\n',
      { "shared/money.ts": "export const total = () => 1;\n" },
      true,
    );
    assert.match(
      await refusedAtBuild(outside),
      /^consumer\/handler\.ts: imports "shared\/money\.ts", which is not in the image's build stage .*put it in consumer\/, beside handler\.ts$/,
    );
    const beside = withHandler(
      'import { total } from "./orders/money";\nexport async function handleMessage(): Promise<void> {\n  total();\n}\n',
      { "consumer/orders/money.ts": "export const total = () => 1;\n" },
      true,
    );
    const built = await build(beside);
    assert.equal(built.code, 0, built.stderr);
  });

  test("CommonJS exports (module.exports = { handleBatch }): npm start runs it and npm run build bundles it", async () => {
    const root = withHandler("module.exports = { handleBatch: async () => ({ batchItemFailures: [] }) };\n");
    const built = await build(root);
    assert.equal(built.code, 0, built.stderr);
    assert.match(built.stdout, /consumer\/handler\.ts exports handleBatch/);
    const consumer = start(root);
    try {
      const config = await consumer.waitFor((line) => line.event === "config", 30_000, "start-up");
      assert.equal(config.handler, "batch");
    } finally {
      consumer.child.kill("SIGTERM");
      await consumer.exited;
    }
  });
});
