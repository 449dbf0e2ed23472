/**
 * docs/DEPLOY.md says only what the program does: its reference tables match the key table and the
 * consumer's schema, its per-developer commands yield a configuration the program accepts, its sample error
 * is the one the program raises, and its outputs table lists exactly the stack's outputs. A developer who
 * follows it literally gets a stack whose every Kubernetes request the platform allows, up and destroy
 * (judged by test/rbac/).
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { TUNABLES } from "../consumer/src/settings";
import { SimulatedCluster, describeDecision, objectRef, type Decision } from "./rbac/cluster";
import { CONFIG_KEYS, DEFAULT_REGION, PROJECT, StackConfigError, parseStackConfig } from "../infra/config";
import {
  ORGANIZATION,
  REPO_ROOT,
  assertSucceeded,
  borrowing,
  cliConfig,
  runProgram,
  scenario,
  stackFileValues,
} from "./helpers/program";

let doc: string;

before(async () => {
  doc = await readFile(path.join(REPO_ROOT, "docs", "DEPLOY.md"), "utf8");
});

/** The rows of the markdown table whose header row starts with `header`, as arrays of cell texts. */
function table(header: string): string[][] {
  const lines = doc.split("\n");
  const start = lines.findIndex((line) => line.startsWith(`| ${header} |`));
  assert.ok(start >= 0, `no table headed "${header}"`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(
      line
        .slice(1, -1)
        .split(" | ")
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}

const code = (text: string) => `\`${text}\``;

/** Placeholders the doc's commands carry, filled as a reader would. */
const PLACEHOLDERS: [RegExp, string][] = [
  [/"\$\(curl -s https:\/\/checkip\.amazonaws\.com\)\/32"/g, "203.0.113.7/32"],
  [/<alice's address>/g, "198.51.100.9"],
  [/<account>/g, "123456789012"],
  [/<platform-admins>/g, "platform-admins"],
  [/<alice>/g, "alice"],
  [/<org>/g, ORGANIZATION],
];

/** The shell lines of the fenced block after `<!-- name -->`. */
function commandBlock(name: string): string[] {
  const block = new RegExp(`<!-- ${name} -->\\n\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(doc);
  assert.ok(block, `no <!-- ${name} --> command block`);
  return block[1]!
    .split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter(Boolean);
}

/** One shell word: quotes removed. */
const unquote = (word: string) => word.replace(/^'(.*)'$/, "$1").replace(/^"(.*)"$/, "$1");

/**
 * Applies the doc's dev-stack, shared-stack and per-developer commands, in that order, to simulated stack
 * config files (`<project>:<key>` -> value, as Pulumi.<stack>.yaml holds them), the way the Pulumi CLI would: `stack
 * init` picks up a committed stack file or copies another stack's config, `config set` (with `--path` for
 * list items) and `config rm` change the selected stack. A `config rm` of an unset key, or a pulumi command
 * this does not understand, fails the test: the doc must be followable literally.
 */
async function followDocCommands(): Promise<Map<string, Record<string, unknown>>> {
  const stacks = new Map<string, Record<string, unknown>>();
  let selected = "";
  const key = (name: string) => (name.includes(":") ? name : `${PROJECT}:${name}`);
  for (let line of ["dev-stack-commands", "shared-stack-commands", "per-developer-commands"].flatMap(commandBlock)) {
    for (const [pattern, value] of PLACEHOLDERS) line = line.replace(pattern, value);
    assert.doesNotMatch(line, /<[^>]+>/, `an unfilled placeholder in: ${line}`);
    const words = (line.match(/'[^']*'|"[^"]*"|\S+/g) ?? []).map(unquote);
    if (words[0] !== "pulumi") continue;
    const [, command, sub, ...rest] = words;
    if (command === "stack" && sub === "init") {
      const [stack, copyFlag, from] = rest;
      selected = stack!;
      const values =
        copyFlag === "--copy-config-from" ? structuredClone(stacks.get(from!)!) : await stackFileValues(stack!);
      stacks.set(selected, values);
    } else if (command === "stack" && sub === "select") {
      selected = rest[0]!;
      assert.ok(stacks.has(selected), `pulumi stack select ${selected}: no such stack yet`);
    } else if (command === "config" && sub === "set") {
      const path = rest[0] === "--path";
      const [name, value] = path ? rest.slice(1) : rest;
      const item = path ? /^(\w+)\[(\d+)\]$/.exec(name!) : null;
      const values = stacks.get(selected)!;
      if (item) {
        const list = (values[key(item[1]!)] ?? []) as string[];
        assert.ok(Number(item[2]) <= list.length, `${line}: index past the end of ${item[1]}`);
        list[Number(item[2])] = value!;
        values[key(item[1]!)] = list;
      } else {
        values[key(name!)] = value!;
      }
    } else if (command === "config" && sub === "rm") {
      const values = stacks.get(selected)!;
      assert.ok(key(rest[0]!) in values, `${line}: ${rest[0]} is not set on ${selected}`);
      delete values[key(rest[0]!)];
    } else {
      assert.ok(
        ["config", "preview", "up", "destroy"].includes(command!) && sub === undefined,
        `a pulumi command this walk-through does not know: ${line}`,
      );
    }
  }
  return stacks;
}

describe("docs/DEPLOY.md", () => {
  it("documents every config key with its type and default", () => {
    const rows = new Map(table("Key | Type | Default").map(([key, type, value]) => [key, { type, value }]));
    const expected = new Map<string, { type: string; value: string }>([
      [code("aws:region"), { type: "string", value: code(DEFAULT_REGION) }],
      [code("consumer"), { type: "object", value: code("{}") }],
    ]);
    for (const [key, spec] of Object.entries(CONFIG_KEYS)) {
      const value = spec.type === "array" ? code("[]") : code(spec.default === "" ? '""' : String(spec.default));
      expected.set(code(key), { type: spec.type === "array" ? "list of strings" : spec.type, value });
    }
    assert.deepEqual(rows, expected);
  });

  it("documents every consumer tunable with its environment variable and default", () => {
    const rows = table("Key | Env var | Default").map(([key, env, value]) => [key, env, value]);
    const expected = Object.entries(TUNABLES).map(([key, spec]) => [
      code(key),
      code(spec.env),
      code(String(spec.default)),
    ]);
    assert.deepEqual(rows, expected);
  });

  it("walks through the dev stack and a developer stack exactly as written: every config command applied in order yields valid configs", async () => {
    const stacks = await followDocCommands();
    const parse = async (stack: string) =>
      parseStackConfig({
        project: PROJECT,
        stack,
        organization: ORGANIZATION,
        values: await cliConfig(stacks.get(stack) as Parameters<typeof cliConfig>[0]),
      });
    const dev = await parse("dev");
    assert.ok(dev.ok, dev.ok ? "" : JSON.stringify(dev.problems));
    assert.ok(dev.value.cluster.mode === "create");
    assert.deepEqual(dev.value.cluster.adminPrincipalArns, ["arn:aws:iam::123456789012:role/platform-admins"]);
    assert.deepEqual(dev.value.cluster.developers, [
      { person: "alice", principalArn: "arn:aws:iam::123456789012:role/alice", sessionName: undefined },
    ]);
    assert.deepEqual(dev.value.network?.endpointPublicAccessCidrs, ["203.0.113.7/32", "198.51.100.9/32"]);
    const alice = await parse("alice");
    assert.ok(alice.ok, alice.ok ? "" : JSON.stringify(alice.problems));
    assert.deepEqual(alice.value.cluster, {
      mode: "borrow",
      clusterStack: `${ORGANIZATION}/${PROJECT}/dev`,
      ttlHours: 48,
      requireOidcProvider: true,
    });
  });

  it("takes a developer from nothing to a running stack and back to nothing: every request of Alice's stack is allowed", async () => {
    const stacks = await followDocCommands();
    const platform = await runProgram(await scenario("dev", stacks.get("dev") as Parameters<typeof scenario>[1]));
    assertSucceeded(platform);
    // Alice's AWS credentials are the role the administrator listed, in a session of whatever name.
    const alice = await runProgram(
      await scenario(
        "alice",
        stacks.get("alice") as Parameters<typeof scenario>[1],
        borrowing(platform, "arn:aws:sts::123456789012:assumed-role/alice/alice-laptop"),
      ),
    );
    assertSucceeded(alice);
    const cluster = SimulatedCluster.fromPlatform(platform);
    const refused = (decisions: readonly Decision[]) => decisions.filter((d) => !d.allowed).map(describeDecision);
    const caller = "arn:aws:sts::123456789012:assumed-role/alice/alice-laptop";
    assert.deepEqual(refused(cluster.replay(caller, alice, "up")), []);
    assert.deepEqual(refused(cluster.replay(caller, alice, "destroy")), []);
    const left = alice.resources
      .filter((resource) => !resource.read)
      .map(objectRef)
      .filter((ref) => ref !== undefined && cluster.has(ref));
    assert.deepEqual(left, []);
  });

  it("shows the error the program actually raises for a bad configuration", () => {
    const result = parseStackConfig({
      project: PROJECT,
      stack: "dev",
      values: { [`${PROJECT}:replicas`]: "two", [`${PROJECT}:consumer`]: JSON.stringify({ waitTimeSeconds: 30 }) },
    });
    assert.ok(!result.ok);
    const sample = /```text\n([\s\S]*?)```/.exec(doc)?.[1]?.replace(/\s+/g, " ").trim();
    assert.equal(sample, new StackConfigError(result.problems).message);
  });

  it("lists exactly the stack's outputs, and refers to no other", async () => {
    const run = await runProgram(await scenario("dev", await stackFileValues("dev")));
    assertSucceeded(run);
    const listed = table("Output | What it is").map(([name]) => name!.replace(/`/g, ""));
    assert.deepEqual(listed.sort(), Object.keys(run.outputs).sort());
    const mentioned = [...doc.matchAll(/pulumi stack output (\w+)/g)].map((m) => m[1]!);
    for (const name of mentioned)
      assert.ok(name in run.outputs, `the doc uses "pulumi stack output ${name}", which does not exist`);
  });
});
