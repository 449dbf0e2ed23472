/**
 * docs/DEPLOY.md says only what the program does: its reference tables match the key table and the
 * consumer's schema, its per-developer commands yield a configuration the program accepts, its sample error
 * is the one the program raises, and its outputs table lists exactly the stack's outputs. A developer who
 * follows it literally gets a stack whose every Kubernetes request the platform allows, up and destroy
 * (judged by test/rbac/).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { promisify } from "node:util";
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

/** The fenced shell block after `<!-- name -->`, as written. */
function block(name: string): string {
  const found = new RegExp(`<!-- ${name} -->\\n\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(doc);
  assert.ok(found, `no <!-- ${name} --> command block`);
  return found[1]!;
}

/**
 * A stand-in `pulumi` that keeps stack config in $STAND_IN_CONFIG as the CLI would: `stack init`/`select`;
 * `config set [--path] <key> <value>` (a list item `key[N]` only for N up to the list's length: an index past
 * the end fails); `config get <key> --json` printing `{value, objectValue, secret}` as the CLI does for a
 * list (pulumi/pulumi `pkg/cmd/pulumi/config`, configValueJSON), failing for an unset key; `-C <dir>` keeps
 * another project's stacks apart. Preview and up do nothing.
 */
const CONFIG_STAND_IN = String.raw`
import { readFileSync, writeFileSync } from "node:fs";
let args = process.argv.slice(2);
let project = "";
if (args[0] === "-C") { project = args[1] + ":"; args = args.slice(2); }
const file = process.env.STAND_IN_CONFIG;
const state = JSON.parse(readFileSync(file, "utf8"));
const save = () => writeFileSync(file, JSON.stringify(state));
const fail = (message) => { console.error("error: " + message); process.exit(255); };
const stack = () => state.stacks[project + state.selected] ?? fail("no stack selected");
const [command, sub, ...rest] = args;
if (command === "stack" && sub === "init") { state.selected = rest[0]; state.stacks[project + rest[0]] ??= {}; save(); }
else if (command === "stack" && sub === "select") { state.selected = rest[0]; if (!state.stacks[project + rest[0]]) fail("no stack named " + rest[0]); save(); }
else if (command === "config" && sub === "get") {
  const value = stack()[rest[0]];
  if (value === undefined) fail("configuration key '" + rest[0] + "' not found for stack '" + state.selected + "'");
  console.log(JSON.stringify(Array.isArray(value) ? { value: JSON.stringify(value), objectValue: value, secret: false } : { value, secret: false }));
} else if (command === "config" && sub === "set") {
  const path = rest[0] === "--path";
  const [key, value] = path ? rest.slice(1) : rest;
  const item = path ? /^(\w+)\[(\d+)\]$/.exec(key) : null;
  if (item) {
    const list = stack()[item[1]] ?? [];
    if (Number(item[2]) > list.length) fail("index " + item[2] + " is past the end of " + item[1]);
    list[Number(item[2])] = value;
    stack()[item[1]] = list;
  } else stack()[key] = value;
  save();
} else if (!(["config", "preview", "up"].includes(command) && sub === undefined) && !(command === "up" && sub === "--yes")) fail("unexpected: pulumi " + args.join(" "));
`;

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
    // The doc's `append <list key> <value>` (its definition is run for real in "keeps everyone ...").
    if (words[0] === "append" && words.length === 3) {
      const values = stacks.get(selected)!;
      values[key(words[1]!)] = [...((values[key(words[1]!)] ?? []) as string[]), words[2]!];
      continue;
    }
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

  it("keeps everyone when step 1 runs for a second person and the cleanup job is set up: its list commands append", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "deploy-doc-"));
    try {
      const config = path.join(dir, "config.json");
      // The runner stack as the bootstrap leaves it.
      await writeFile(
        config,
        JSON.stringify({ selected: "", stacks: { "ci/runner:dev": { workflows: ["Preview"] } } }),
      );
      await writeFile(path.join(dir, "pulumi.mjs"), CONFIG_STAND_IN);
      await writeFile(path.join(dir, "pulumi"), `#!/bin/sh\nexec "${process.execPath}" "${dir}/pulumi.mjs" "$@"\n`);
      await writeFile(path.join(dir, "curl"), "#!/bin/sh\necho 203.0.113.7\n");
      await writeFile(path.join(dir, "npm"), "#!/bin/sh\nexit 0\n");
      for (const tool of ["pulumi", "curl", "npm"]) await chmod(path.join(dir, tool), 0o755);
      const fill = (lines: string, person: string, address: string) =>
        lines
          .replaceAll("<alice's address>", address)
          .replaceAll("<alice>", person)
          .replaceAll("alice=", `${person}=`)
          .replaceAll("<account>", "123456789012")
          .replaceAll("<platform-admins>", "platform-admins");
      const shared = block("shared-stack-commands");
      const setup = block("cleanup-setup-commands")
        .split("\n")
        .filter((line) => /^(n=\$\()?pulumi /.test(line))
        .join("\n");
      const script = [
        "set -eu",
        "ACCOUNT=123456789012",
        fill(block("dev-stack-commands"), "alice", ""),
        fill(shared, "alice", "198.51.100.9"),
        fill(shared, "bob", "198.51.100.10"),
        setup,
      ].join("\n");
      await promisify(execFile)("bash", ["-c", script], {
        cwd: dir,
        env: { ...process.env, PATH: `${dir}${path.delimiter}${process.env.PATH ?? ""}`, STAND_IN_CONFIG: config },
        timeout: 120_000,
      });
      const { stacks } = JSON.parse(await readFile(config, "utf8")) as {
        stacks: Record<string, Record<string, unknown>>;
      };
      assert.deepEqual(stacks["dev"], {
        endpointPublicAccessCidrs: ["203.0.113.7/32", "198.51.100.9/32", "198.51.100.10/32"],
        clusterAdminPrincipalArns: ["arn:aws:iam::123456789012:role/platform-admins"],
        developers: ["alice=arn:aws:iam::123456789012:role/alice", "bob=arn:aws:iam::123456789012:role/bob"],
        developerCleanupPrincipalArn: "arn:aws:iam::123456789012:role/ci-sqs-eks-consumer-cleanup",
      });
      assert.deepEqual(stacks["ci/runner:dev"], { workflows: ["Preview", "Developer stacks cleanup"] });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
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
