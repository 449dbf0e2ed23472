/**
 * The developer stacks' listing and cleanup job (scripts/developer-stacks.ts): which stacks expire, judged on
 * a recorded backend (test/fixtures/developer-stacks/backend.json, which also records what AWS and the
 * cluster hold), and the command run end to end against stand-in `pulumi`, `kubectl` and `aws` on PATH that
 * serve that record and log every call: the job finds stacks by name, never runs a stack's providers
 * (no `pulumi destroy`), deletes only what names, tags and labels show is the stack's, and every AWS call it
 * makes is allowed to the cleanup role by an IAM policy evaluator (test/deploy/iam-oracle.ts).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { cleanupRole, type CiSettings } from "../ci/roles";
import { awsDeletions, type StackScope } from "../scripts/developer-stacks/cleanup-plan";
import { developerStacks, expiredStacks, formatStacks, type StackSummary } from "../scripts/developer-stacks/inventory";
import { decide } from "./deploy/iam-oracle";
import { REPO_ROOT } from "./helpers/program";

interface RecordedStack {
  readonly summary: StackSummary;
  readonly outputs: Record<string, unknown>;
  readonly types: string[];
}
const BACKEND = path.join(REPO_ROOT, "test", "fixtures", "developer-stacks", "backend.json");
let backend: { now: string; stacks: RecordedStack[]; people: string[] };

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
    backend.people,
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
      // alice-feature: idle 99.5 h > 72; bob: idle exactly 24 h = his ttlHours; bob-broken: 122 h > 72.
      ["acme/sqs-eks-consumer/alice-feature", "acme/sqs-eks-consumer/bob", "acme/sqs-eks-consumer/bob-broken"],
    );
  });

  it("finds a stack by its name when its first update failed before it had a developerStack output", () => {
    const broken = inventory().find((s) => s.name === "acme/sqs-eks-consumer/bob-broken");
    assert.ok(broken, "the stack named after bob, with no outputs, is a developer stack");
    assert.equal(broken.person, "bob");
    assert.equal(broken.ttlHours, 72);
  });

  it("never takes a stack with an update in progress, or one no update has run", () => {
    const now = new Date("2027-01-01T00:00:00.000Z");
    const names = expiredStacks(inventory(now), now).map((s) => s.name);
    assert.ok(!names.includes("acme/sqs-eks-consumer/carol-spike"));
    assert.ok(!names.includes("acme/sqs-eks-consumer/carol"));
    assert.deepEqual(names, [
      "acme/sqs-eks-consumer/alice",
      "acme/sqs-eks-consumer/alice-feature",
      "acme/sqs-eks-consumer/bob",
      "acme/sqs-eks-consumer/bob-broken",
    ]);
  });

  it("an hour earlier, Bob's stack has not expired yet", () => {
    const now = new Date(Date.parse(backend.now) - 3_600_000);
    assert.deepEqual(
      expiredStacks(inventory(now), now).map((s) => s.name),
      ["acme/sqs-eks-consumer/alice-feature", "acme/sqs-eks-consumer/bob-broken"],
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
    assert.match(
      table.find((line) => line.includes("bob-broken"))!,
      /bob +- +122 h +72 h +0 h +- +- +- +1 queues/,
    );
    assert.equal(table.length, 1 + 6, "the platform stack and other projects' stacks are not developer stacks");
  });
});

describe("what the cleanup job deletes of a stack", () => {
  const scope: StackScope = {
    project: "sqs-eks-consumer",
    stack: "alice-feature",
    person: "alice",
    cluster: "sqs-eks-consumer-dev",
    region: "us-west-2",
  };
  const tags = (stack: string) => [
    { Key: "Project", Value: "sqs-eks-consumer" },
    { Key: "Stack", Value: stack },
  ];

  it("leaves a resource tagged with the stack but named after another person, and one not tagged with it", () => {
    const plan = awsDeletions(
      scope,
      [
        { ResourceARN: "arn:aws:sqs:us-west-2:123456789012:sqs-eks-consumer-bob-queue", Tags: tags("alice-feature") },
        { ResourceARN: "arn:aws:sqs:us-west-2:123456789012:sqs-eks-consumer-alice-feature-queue", Tags: tags("alice") },
        {
          ResourceARN: "arn:aws:sns:us-west-2:123456789012:sqs-eks-consumer-alice-feature-alarms",
          Tags: tags("alice-feature"),
        },
      ],
      [
        {
          name: "sqs-eks-consumer-bob-consumer",
          arn: "arn:aws:iam::123456789012:role/sqs-eks-consumer-bob-consumer",
          tags: tags("alice-feature"),
          inlinePolicies: ["consume-queue"],
        },
      ],
      [
        {
          associationArn: "arn:aws:eks:us-west-2:123456789012:podidentityassociation/sqs-eks-consumer-dev/a-1",
          associationId: "a-1",
          namespace: "sqs-eks-consumer-bob",
        },
      ],
    );
    assert.deepEqual(
      plan.deletions.map((d) => d.what),
      ["topic sqs-eks-consumer-alice-feature-alarms"],
    );
    assert.equal(plan.skipped.length, 2);
  });
});

const run = promisify(execFile);

/** The stand-ins: each logs its argv as `[program, ...args]` and answers from the recorded backend. */
const STAND_IN = String.raw`
import { appendFileSync, readFileSync } from "node:fs";
const [program, ...rest] = process.argv.slice(2);
const args = rest.filter((a) => a !== "--non-interactive");
appendFileSync(process.env.STAND_IN_CALLS, JSON.stringify([program, ...args]) + "\n");
const backend = JSON.parse(readFileSync(process.env.STAND_IN_BACKEND, "utf8"));
const ofStack = (stack) => backend.stacks.find((s) => s.summary.name.split("/").at(-1) === stack && s.summary.name.split("/")[1] === "sqs-eks-consumer");
const named = (flag) => args[args.indexOf(flag) + 1];
const out = (value) => console.log(JSON.stringify(value));
const fail = (message) => { console.error(message); process.exit(1); };
if (program === "pulumi") {
  const stack = backend.stacks.find((s) => s.summary.name === named("--stack"));
  if (args[0] === "stack" && args[1] === "ls") out(backend.stacks.map((s) => s.summary));
  else if (args[0] === "stack" && args[1] === "output") out(stack.outputs);
  else if (args[0] === "stack" && args[1] === "export") out({ deployment: { resources: stack.types.map((type) => ({ type })) } });
  else if (args[0] === "stack" && args[1] === "rm" && named("--stack") === process.env.STAND_IN_LOCKED)
    fail("error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with \u0060pulumi cancel\u0060.");
  else if (args[0] === "stack" && args[1] === "rm") console.log("Stack removed");
  else fail("unexpected: " + args.join(" "));
} else if (program === "kubectl") {
  if (args[0] === "get" && args[1] === "configmap") out({ data: { "directory.json": JSON.stringify({ developers: backend.people.map((person) => ({ person })) }) } });
  else if (args[0] === "get" && args[1] === "namespace") {
    const stack = ofStack(args[2].slice("sqs-eks-consumer-".length));
    if (stack?.namespaceLabels === undefined) fail('Error from server (NotFound): namespaces "' + args[2] + '" not found');
    out({ metadata: { name: args[2], labels: stack.namespaceLabels } });
  } else if (args[0] === "delete" && args[1] === "namespace") console.log("namespace deleted");
  else fail("unexpected: kubectl " + args.join(" "));
} else if (program === "aws") {
  const [service, operation] = args;
  if (operation === "get-resources") {
    const stack = ofStack(args.find((a) => a.startsWith("Key=Stack,Values=")).slice("Key=Stack,Values=".length));
    out({ ResourceTagMappingList: stack?.aws?.tagged ?? [] });
  } else if (operation === "list-roles") out({ Roles: backend.roles.map(({ RoleName, Arn }) => ({ RoleName, Arn })) });
  else if (operation === "list-role-tags") out({ Tags: backend.roles.find((r) => r.RoleName === named("--role-name")).Tags });
  else if (operation === "list-role-policies") out({ PolicyNames: backend.roles.find((r) => r.RoleName === named("--role-name")).PolicyNames });
  else if (operation === "list-pod-identity-associations") {
    const stack = ofStack(named("--namespace").slice("sqs-eks-consumer-".length));
    out({ associations: stack?.aws?.associations ?? [] });
  } else if (operation.startsWith("delete-") || operation === "schedule-key-deletion") out({});
  else fail("unexpected: aws " + args.join(" "));
} else fail("unexpected program " + program);
`;

describe("npm run developer-stacks, against stand-in pulumi, kubectl and aws", () => {
  let dir: string;
  let calls: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "developer-stacks-"));
    calls = path.join(dir, "calls.jsonl");
    const standIn = path.join(dir, "stand-in.mjs");
    await writeFile(standIn, STAND_IN);
    for (const program of ["pulumi", "kubectl", "aws"]) {
      const wrapper = path.join(dir, program);
      await writeFile(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${standIn}" ${program} "$@"\n`);
      await chmod(wrapper, 0o755);
    }
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  async function developerStacksCommand(args: string[], locked = "") {
    await rm(calls, { force: true });
    const env = {
      ...process.env,
      PATH: `${dir}${path.delimiter}${process.env.PATH ?? ""}`,
      STAND_IN_BACKEND: BACKEND,
      STAND_IN_CALLS: calls,
      STAND_IN_LOCKED: locked,
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

  const CLEANUP = ["cleanup", "--cluster", "sqs-eks-consumer-dev", "--region", "us-west-2", "--now"];
  const changes = (calls: string[][]) =>
    calls.filter(
      (c) =>
        (c[0] === "aws" && (c[2]!.startsWith("delete-") || c[2] === "schedule-key-deletion")) ||
        (c[0] === "kubectl" && c[1] === "delete") ||
        (c[0] === "pulumi" && !["ls", "output", "export"].includes(c[2]!)),
    );
  const readLog = async (log: string) =>
    (await readFile(log, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { stack: string; action: string; deleted?: string[]; error?: string });

  it("a dry run changes nothing and logs what it would delete", async () => {
    const log = path.join(dir, "dry.jsonl");
    const result = await developerStacksCommand([...CLEANUP, backend.now, "--dry-run", "--log", log]);
    assert.equal(result.code, 0, result.stdout);
    assert.deepEqual(changes(result.calls), []);
    const entries = await readLog(log);
    assert.deepEqual(
      entries.map((e) => [e.stack, e.action]),
      [
        ["acme/sqs-eks-consumer/alice-feature", "would destroy"],
        ["acme/sqs-eks-consumer/bob", "would destroy"],
        ["acme/sqs-eks-consumer/bob-broken", "would destroy"],
      ],
    );
    assert.ok(entries[0]!.deleted!.includes("namespace sqs-eks-consumer-alice-feature"));
  });

  it("never runs a developer stack's providers: no pulumi destroy, up, refresh or preview", async () => {
    const result = await developerStacksCommand([...CLEANUP, backend.now]);
    assert.equal(result.code, 0, result.stdout);
    const pulumiCommands = result.calls.filter((c) => c[0] === "pulumi").map((c) => c.slice(1, 3).join(" "));
    assert.deepEqual([...new Set(pulumiCommands)].sort(), ["stack ls", "stack output", "stack rm"]);
  });

  it("deletes exactly what names, tags and labels show is the expired stack's, whatever its state claims", async () => {
    const log = path.join(dir, "run.jsonl");
    const result = await developerStacksCommand([...CLEANUP, backend.now, "--log", log]);
    assert.equal(result.code, 0, result.stdout);
    const aliceFeature = (await readLog(log)).find((e) => e.stack === "acme/sqs-eks-consumer/alice-feature")!;
    // Its state names Bob's namespace, and one of its tagged queues is named after Bob: neither is touched.
    assert.deepEqual(aliceFeature.deleted, [
      "namespace sqs-eks-consumer-alice-feature",
      "pod identity association a-0123456789abcdef0",
      "queue sqs-eks-consumer-alice-feature-queue",
      "queue sqs-eks-consumer-alice-feature-dlq",
      "ECR repository sqs-eks-consumer-alice-feature",
      "alarm sqs-eks-consumer-alice-feature-dlq-depth",
      "role policy sqs-eks-consumer-alice-feature-consumer/consume-queue",
      "role sqs-eks-consumer-alice-feature-consumer",
      "KMS key 1234abcd-12ab-34cd-56ef-1234567890ab",
      "state acme/sqs-eks-consumer/alice-feature",
    ]);
    const all = changes(result.calls);
    const ownChanges = all.slice(0, all.findIndex((c) => c.includes("acme/sqs-eks-consumer/alice-feature")) + 1);
    const touched = JSON.stringify(ownChanges);
    assert.doesNotMatch(touched, /sqs-eks-consumer-bob|sqs-eks-consumer-alice-consumer|sqs-eks-consumer-dev-/);
    assert.ok(
      !result.calls.some((c) => c.includes("acme/orders-consumer/dan")),
      "another project's stacks are not read",
    );
  });

  it("makes only AWS calls the cleanup role allows", async () => {
    const settings: CiSettings = {
      repository: "acme/sqs-eks-consumer",
      account: "123456789012",
      region: "us-west-2",
      stateBucket: "acme-pulumi-state",
      project: "sqs-eks-consumer",
      previewStack: "dev",
      deployStack: "prod",
      stackKeys: {},
      deployEnvironment: "production",
      developerStacksKey: "arn:aws:kms:us-west-2:123456789012:key/00000000-0000-0000-0000-000000000000",
    };
    const role = cleanupRole(settings);
    const session = `arn:aws:sts::123456789012:assumed-role/${role.name}/github`;
    const result = await developerStacksCommand([...CLEANUP, backend.now]);
    const scope = (stack: string, person: string): StackScope => ({
      project: "sqs-eks-consumer",
      stack,
      person,
      cluster: "sqs-eks-consumer-dev",
      region: "us-west-2",
    });
    const refusals: string[] = [];
    const ask = async (action: string, resource: string, context?: Record<string, string>) => {
      const verdict = await decide(role.policies, session, settings.account, settings.region, {
        action,
        resource,
        ...(context === undefined ? {} : { context }),
      });
      if (verdict !== "Allowed") refusals.push(`${action} ${resource}: ${verdict}`);
    };
    // The reads the job made, then every deletion it made, each as the request IAM judges.
    await ask("tag:GetResources", "*");
    await ask("iam:ListRoles", "*");
    await ask("iam:ListRoleTags", "arn:aws:iam::123456789012:role/sqs-eks-consumer-alice-feature-consumer");
    await ask("iam:ListRolePolicies", "arn:aws:iam::123456789012:role/sqs-eks-consumer-alice-feature-consumer");
    await ask("eks:ListPodIdentityAssociations", "arn:aws:eks:us-west-2:123456789012:cluster/sqs-eks-consumer-dev");
    const recorded = JSON.parse(await readFile(BACKEND, "utf8")) as {
      stacks: (RecordedStack & { aws?: { tagged: never[]; associations: never[] } })[];
      roles: { RoleName: string; Arn: string; Tags: never[]; PolicyNames: string[] }[];
    };
    const roles = recorded.roles.map((r) => ({
      name: r.RoleName,
      arn: r.Arn,
      tags: r.Tags,
      inlinePolicies: r.PolicyNames,
    }));
    let made = 0;
    for (const [stack, person] of [
      ["alice-feature", "alice"],
      ["bob", "bob"],
      ["bob-broken", "bob"],
    ] as const) {
      const stored = recorded.stacks.find((s) => s.summary.name === `acme/sqs-eks-consumer/${stack}`)!;
      const plan = awsDeletions(scope(stack, person), stored.aws?.tagged ?? [], roles, stored.aws?.associations ?? []);
      for (const deletion of plan.deletions) {
        assert.ok(
          result.calls.some(
            (c) =>
              c[0] === "aws" && JSON.stringify(c.slice(1, 1 + deletion.argv.length)) === JSON.stringify(deletion.argv),
          ),
          `the job ran ${deletion.argv.join(" ")}`,
        );
        // Every resource the job deletes carries the stack's tags (cleanup-plan.ts): IAM sees them.
        await ask(deletion.action, deletion.resource, {
          "aws:ResourceTag/Project": "sqs-eks-consumer",
          "aws:ResourceTag/Stack": stack,
        });
        made += 1;
      }
    }
    assert.ok(made >= 10);
    assert.deepEqual(refusals, []);
  });

  it("logs a locked stack as failed, leaves its state, goes on with the rest, and exits 1", async () => {
    const log = path.join(dir, "failed.jsonl");
    const result = await developerStacksCommand(
      [...CLEANUP, backend.now, "--log", log],
      "acme/sqs-eks-consumer/alice-feature",
    );
    assert.equal(result.code, 1);
    const entries = await readLog(log);
    assert.equal(entries[0]!.action, "failed");
    assert.match(entries[0]!.error!, /locked/);
    assert.deepEqual(
      entries.slice(1).map((e) => e.action),
      ["destroyed", "destroyed"],
    );
  });

  it("starts no stack once its time budget is spent, and says so", async () => {
    const log = path.join(dir, "budget.jsonl");
    const result = await developerStacksCommand([...CLEANUP, backend.now, "--budget-minutes", "1", "--log", log]);
    assert.equal(result.code, 0);
    assert.deepEqual(changes(result.calls), []);
    assert.deepEqual(
      (await readLog(log)).map((e) => e.action),
      ["skipped", "skipped", "skipped"],
    );
  });

  it("lists the developer stacks", async () => {
    const result = await developerStacksCommand(["list", "--now", backend.now]);
    assert.equal(result.code, 0);
    assert.match(
      result.stdout,
      /acme\/sqs-eks-consumer\/bob +bob +acme\/sqs-eks-consumer\/dev +24 h +24 h +0 h +2 +200m +256 MiB +2 queues, 1 ECR repositories/,
    );
    assert.deepEqual(changes(result.calls), []);
  });

  it("refuses a bad command line with exit 64", async () => {
    for (const args of [
      ["cleanup", "--cluster", "sqs-eks-consumer-dev", "--region", "us-west-2", "--now", "next tuesday"],
      ["cleanup", "--now", backend.now],
    ]) {
      const result = await developerStacksCommand(args);
      assert.equal(result.code, 64, args.join(" "));
      assert.deepEqual(result.calls, []);
    }
  });
});
