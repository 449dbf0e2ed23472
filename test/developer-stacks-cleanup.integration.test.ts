/**
 * The developer stacks' listing and cleanup job (scripts/developer-stacks.ts): which stacks expire, judged on
 * a recorded backend (test/fixtures/developer-stacks/backend.json), and the command run end to end against a
 * stand-in `pulumi` on PATH that serves that backend and records every call: a dry run destroys nothing and
 * logs what it would, a real run destroys exactly the expired stacks and logs each, a failed destroy is
 * logged and fails the run.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { developerStacks, expiredStacks, formatStacks, type StackSummary } from "../scripts/developer-stacks/inventory";
import { REPO_ROOT } from "./helpers/program";

interface RecordedStack {
  readonly summary: StackSummary;
  readonly outputs: Record<string, unknown>;
  readonly types: string[];
}
const BACKEND = path.join(REPO_ROOT, "test", "fixtures", "developer-stacks", "backend.json");
let backend: { now: string; stacks: RecordedStack[] };

before(async () => {
  backend = JSON.parse(await readFile(BACKEND, "utf8")) as typeof backend;
});

function inventory(now = new Date(backend.now)) {
  const stacks = backend.stacks.filter((s) => s.summary.name.split("/")[1] === "sqs-eks-consumer");
  const exported = new Map(
    stacks.map((s) => [s.summary.name, { deployment: { resources: s.types.map((type) => ({ type })) } }]),
  );
  return developerStacks(
    stacks.map((s) => s.summary),
    new Map(stacks.map((s) => [s.summary.name, s.outputs])),
    now,
    exported,
  );
}

describe("which developer stacks the cleanup job destroys", () => {
  it("takes the stacks idle for at least their ttlHours, and only developer stacks", () => {
    const now = new Date(backend.now);
    assert.deepEqual(
      expiredStacks(inventory(), now).map((s) => s.name),
      // alice-feature: idle 99.5 h > 72; bob: idle exactly 24 h = his ttlHours.
      ["acme/sqs-eks-consumer/alice-feature", "acme/sqs-eks-consumer/bob"],
    );
  });

  it("never takes a stack with an update in progress, or one no update has finished", () => {
    const now = new Date("2027-01-01T00:00:00.000Z");
    const names = expiredStacks(inventory(now), now).map((s) => s.name);
    assert.ok(!names.includes("acme/sqs-eks-consumer/carol-spike"));
    assert.ok(!names.includes("acme/sqs-eks-consumer/carol"));
    assert.deepEqual(names, [
      "acme/sqs-eks-consumer/alice",
      "acme/sqs-eks-consumer/alice-feature",
      "acme/sqs-eks-consumer/bob",
    ]);
  });

  it("an hour earlier, Bob's stack has not expired yet", () => {
    const now = new Date(Date.parse(backend.now) - 3_600_000);
    assert.deepEqual(
      expiredStacks(inventory(now), now).map((s) => s.name),
      ["acme/sqs-eks-consumer/alice-feature"],
    );
  });

  it("lists each developer stack with owner, idle time, expiry and cost drivers", () => {
    const table = formatStacks(inventory(), new Date(backend.now)).split("\n");
    assert.match(table[0]!, /^STACK +OWNER +PLATFORM +IDLE +TTL +EXPIRES IN +PODS +CPU +MEMORY +BILLED AWS RESOURCES$/);
    const aliceFeature = table.find((line) => line.startsWith("acme/sqs-eks-consumer/alice-feature"))!;
    assert.match(
      aliceFeature,
      /alice +acme\/sqs-eks-consumer\/dev +99 h +72 h +0 h +3 +300m +384 MiB +1 KMS keys, 2 queues, 2 alarms, 1 ECR repositories/,
    );
    assert.match(
      table.find((line) => line.includes("carol-spike"))!,
      / updating /,
    );
    assert.equal(table.length, 1 + 4, "the platform stack and the never-updated stack are not developer stacks");
  });
});

const run = promisify(execFile);

describe("npm run developer-stacks, against a stand-in pulumi", () => {
  let dir: string;
  let calls: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "developer-stacks-"));
    calls = path.join(dir, "calls.jsonl");
    const standIn = path.join(dir, "pulumi.mjs");
    await writeFile(
      standIn,
      [
        'import { appendFileSync, readFileSync } from "node:fs";',
        "const args = process.argv.slice(2).filter((a) => a !== '--non-interactive');",
        "appendFileSync(process.env.STAND_IN_CALLS, JSON.stringify(args) + '\\n');",
        "const backend = JSON.parse(readFileSync(process.env.STAND_IN_BACKEND, 'utf8'));",
        "const stack = (name) => backend.stacks.find((s) => s.summary.name === name);",
        "const named = args[args.indexOf('--stack') + 1];",
        "if (args[0] === 'stack' && args[1] === 'ls') console.log(JSON.stringify(backend.stacks.map((s) => s.summary)));",
        "else if (args[0] === 'stack' && args[1] === 'output') console.log(JSON.stringify(stack(named).outputs));",
        "else if (args[0] === 'stack' && args[1] === 'export') console.log(JSON.stringify({ deployment: { resources: stack(named).types.map((type) => ({ type })) } }));",
        "else if (args[0] === 'destroy' && named === process.env.STAND_IN_FAIL) { console.error('error: deleting sqs-eks-consumer-bob: timed out'); process.exit(255); }",
        "else if (args[0] === 'destroy') console.log('Resources: destroyed');",
        "else { console.error('unexpected: ' + args.join(' ')); process.exit(2); }",
      ].join("\n"),
    );
    const wrapper = path.join(dir, "pulumi");
    await writeFile(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${standIn}" "$@"\n`);
    await chmod(wrapper, 0o755);
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  async function developerStacksCommand(args: string[], fail = "") {
    await rm(calls, { force: true });
    const env = {
      ...process.env,
      PATH: `${dir}${path.delimiter}${process.env.PATH ?? ""}`,
      STAND_IN_BACKEND: BACKEND,
      STAND_IN_CALLS: calls,
      STAND_IN_FAIL: fail,
    };
    const result = await run(process.execPath, ["--import", "tsx", "scripts/developer-stacks.ts", ...args], {
      cwd: REPO_ROOT,
      env,
      timeout: 120_000,
    }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
    const made = (await readFile(calls, "utf8").catch(() => ""))
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as string[]);
    return { ...result, calls: made };
  }

  const destroys = (calls: string[][]) => calls.filter((c) => c[0] === "destroy").map((c) => c.at(-1));

  it("a dry run destroys nothing and logs what it would destroy", async () => {
    const log = path.join(dir, "dry.jsonl");
    const result = await developerStacksCommand(["cleanup", "--dry-run", "--log", log, "--now", backend.now]);
    assert.equal(result.code, 0);
    assert.deepEqual(destroys(result.calls), []);
    const entries = (await readFile(log, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      entries.map((e) => [e.stack, e.action, e.person, e.idleHours, e.ttlHours]),
      [
        ["acme/sqs-eks-consumer/alice-feature", "would destroy", "alice", 99, 72],
        ["acme/sqs-eks-consumer/bob", "would destroy", "bob", 24, 24],
      ],
    );
    assert.match(result.stdout, /would destroy: acme\/sqs-eks-consumer\/alice-feature \(alice, idle 99 h, ttl 72 h\)/);
  });

  it("destroys and removes exactly the expired stacks, and logs each", async () => {
    const log = path.join(dir, "run.jsonl");
    const result = await developerStacksCommand(["cleanup", "--log", log, "--now", backend.now]);
    assert.equal(result.code, 0);
    assert.deepEqual(
      result.calls.filter((c) => c[0] === "destroy"),
      [
        ["destroy", "--yes", "--remove", "--skip-preview", "--stack", "acme/sqs-eks-consumer/alice-feature"],
        ["destroy", "--yes", "--remove", "--skip-preview", "--stack", "acme/sqs-eks-consumer/bob"],
      ],
    );
    assert.ok(
      !result.calls.some((c) => c.includes("acme/orders-consumer/dan")),
      "another project's stacks are not read",
    );
    const actions = (await readFile(log, "utf8"))
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { action: string }).action);
    assert.deepEqual(actions, ["destroyed", "destroyed"]);
  });

  it("logs a failed destroy, goes on with the rest, and exits 1", async () => {
    const log = path.join(dir, "failed.jsonl");
    const result = await developerStacksCommand(
      ["cleanup", "--log", log, "--now", backend.now],
      "acme/sqs-eks-consumer/alice-feature",
    );
    assert.equal(result.code, 1);
    assert.deepEqual(destroys(result.calls), ["acme/sqs-eks-consumer/alice-feature", "acme/sqs-eks-consumer/bob"]);
    const entries = (await readFile(log, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { action: string; error?: string });
    assert.equal(entries[0]!.action, "failed");
    assert.match(entries[0]!.error!, /Command failed/);
    assert.equal(entries[1]!.action, "destroyed");
  });

  it("lists the developer stacks", async () => {
    const result = await developerStacksCommand(["list", "--now", backend.now]);
    assert.equal(result.code, 0);
    assert.match(
      result.stdout,
      /acme\/sqs-eks-consumer\/bob +bob +acme\/sqs-eks-consumer\/dev +24 h +24 h +0 h +2 +200m +256 MiB +2 queues, 1 ECR repositories/,
    );
    assert.deepEqual(destroys(result.calls), []);
  });

  it("refuses a bad command line with exit 64", async () => {
    const result = await developerStacksCommand(["cleanup", "--now", "next tuesday"]);
    assert.equal(result.code, 64);
    assert.deepEqual(result.calls, []);
  });
});
