/**
 * docs/DEPLOY.md says only what the program does: its reference tables match the key table and the
 * consumer's schema, its per-developer commands yield a configuration the program accepts, its sample error
 * is the one the program raises, and its outputs table lists exactly the stack's outputs.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { TUNABLES } from "../consumer/src/settings";
import { CONFIG_KEYS, DEFAULT_REGION, PROJECT, StackConfigError, parseStackConfig, type ConfigKey, type ConfigKeySpec } from "../infra/config";
import { ORGANIZATION, REPO_ROOT, assertSucceeded, cliConfig, runProgram, scenario, stackFileValues } from "./helpers/program";

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
    rows.push(line.slice(1, -1).split(" | ").map((cell) => cell.trim()));
  }
  return rows;
}

const code = (text: string) => `\`${text}\``;

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
    const expected = Object.entries(TUNABLES).map(([key, spec]) => [code(key), code(spec.env), code(String(spec.default))]);
    assert.deepEqual(rows, expected);
  });

  it("gives per-developer commands that turn a copy of the dev config into a valid stack-mode config", async () => {
    const block = /<!-- per-developer-commands -->\n```sh\n([\s\S]*?)```/.exec(doc);
    assert.ok(block, "the per-developer command block is missing");
    const values: Record<string, unknown> = { ...(await stackFileValues("dev")) };
    const removed: string[] = [];
    for (const line of block[1]!.split("\n")) {
      const set = /^pulumi config set (\S+) (\S+)$/.exec(line);
      const rm = /^pulumi config rm (\S+)$/.exec(line);
      if (set) values[`${PROJECT}:${set[1]!}`] = set[2]!.replace("<org>", ORGANIZATION);
      if (rm) {
        delete values[`${PROJECT}:${rm[1]!}`];
        removed.push(`${PROJECT}:${rm[1]!}`);
      }
    }
    const raw = { project: PROJECT, stack: "alice", organization: ORGANIZATION };
    const result = parseStackConfig({ ...raw, values: await cliConfig(values as Record<string, string>) });
    assert.ok(result.ok, result.ok ? "" : JSON.stringify(result.problems));
    assert.deepEqual(result.value.cluster, { mode: "stack", clusterStack: `${ORGANIZATION}/${PROJECT}/dev` });

    // The removed keys are the create-mode keys the copy brought along; without removing them the program
    // refuses, naming only keys the doc removes.
    for (const key of removed) {
      const spec: ConfigKeySpec = CONFIG_KEYS[key.replace(`${PROJECT}:`, "") as ConfigKey];
      assert.equal(spec.mode, "create", key);
    }
    const copied = { ...(await stackFileValues("dev")), [`${PROJECT}:clusterMode`]: "stack", [`${PROJECT}:clusterStack`]: `${ORGANIZATION}/${PROJECT}/dev` };
    const stale = parseStackConfig({ ...raw, values: await cliConfig(copied) });
    assert.ok(!stale.ok);
    for (const problem of stale.problems) assert.ok(removed.includes(problem.key), `${problem.key}: ${problem.reason}`);
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
    for (const name of mentioned) assert.ok(name in run.outputs, `the doc uses "pulumi stack output ${name}", which does not exist`);
  });
});
