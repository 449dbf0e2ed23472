/**
 * `npm test` is two runs (package.json): `test:unit`, the fast one, and `test:integration`, the tests
 * that start the emulator, stand-in servers or child processes, or run on real time. A file named
 * `*.integration.test.ts` belongs to the integration run and every other `*.test.ts` to the unit run:
 * each test file of the repository is in exactly one of them, and CI (.ci/run) runs both.
 */
import assert from "node:assert/strict";
import { globSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";

const ROOT = path.resolve(__dirname, "..");
const scripts = (
  JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }
).scripts;

/** The files a run's script passes to `node --test`: its quoted glob patterns, expanded as the runner expands them. */
function filesOf(run: "test:unit" | "test:integration"): string[] {
  const script = scripts[run];
  assert.ok(script, `package.json has no ${run} script`);
  const patterns = [...script.matchAll(/"([^"]+\.test\.ts)"/g)].map((m) => m[1]!);
  assert.ok(patterns.length > 0, `${run} names no test files`);
  return patterns.flatMap((pattern) => globSync(pattern, { cwd: ROOT }));
}

/** Every *.test.ts under the repository, outside node_modules and dot-directories (run output, .git). */
function allTestFiles(dir = ""): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory())
      return entry.name === "node_modules" || entry.name.startsWith(".") ? [] : allTestFiles(file);
    return entry.name.endsWith(".test.ts") ? [file] : [];
  });
}

describe("the unit and integration runs", () => {
  const unit = filesOf("test:unit");
  const integration = filesOf("test:integration");

  it("npm test runs both, unit first", () => {
    assert.equal(scripts["test"], "npm run test:unit && npm run test:integration");
  });

  it("hold every test file of the repository exactly once", () => {
    const counts = new Map<string, number>();
    for (const file of [...unit, ...integration]) counts.set(file, (counts.get(file) ?? 0) + 1);
    assert.deepEqual(
      allTestFiles().filter((file) => counts.get(file) !== 1),
      [],
      "files in no run or in both",
    );
    assert.equal(counts.size, allTestFiles().length);
  });

  it("split by name: *.integration.test.ts in the integration run, every other *.test.ts in the unit run", () => {
    assert.deepEqual(
      integration.filter((file) => !file.endsWith(".integration.test.ts")),
      [],
    );
    assert.deepEqual(
      unit.filter((file) => file.endsWith(".integration.test.ts")),
      [],
    );
    assert.ok(integration.length > 0 && unit.length > 0);
  });

  it("both run in CI", () => {
    const ci = readFileSync(path.join(ROOT, ".ci", "run"), "utf8");
    assert.match(ci, /\bnpm run test:unit\b/);
    assert.match(ci, /\bnpm run test:integration\b/);
  });
});
