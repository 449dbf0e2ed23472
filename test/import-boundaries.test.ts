/**
 * The module boundaries in eslint.config.mjs bite: each forbidden edge is reported, and the allowed edge
 * next to it is not. Sources are linted in memory at real folder depths, with only the boundary rule on
 * (the type-aware rules need a TypeScript program these paths do not belong to).
 */
import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { ESLint } from "eslint";

const ROOT = path.resolve(__dirname, "..");
const RULE = "local/import-boundaries";

const eslint = new ESLint({
  cwd: ROOT,
  ruleFilter: ({ ruleId }) => ruleId === RULE,
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
});

/** The boundary messages for one source placed at `file` (a path from the repository root). */
async function violations(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: path.join(ROOT, file) });
  assert.ok(result);
  const fatal = result.messages.filter((m) => m.fatal);
  assert.deepEqual(fatal, [], `${file} did not parse`);
  return result.messages.filter((m) => m.ruleId === RULE).map((m) => m.message);
}

async function assertForbidden(file: string, source: string): Promise<void> {
  const found = await violations(file, source);
  assert.equal(found.length, 1, `${file}: expected one boundary error for ${source}, got ${JSON.stringify(found)}`);
  assert.match(found[0]!, /crosses a module boundary/);
}

async function assertAllowed(file: string, source: string): Promise<void> {
  assert.deepEqual(await violations(file, source), [], `${file}: ${source} should be allowed`);
}

describe("import boundaries (eslint.config.mjs)", () => {
  it("the program (index.ts, infra/) imports the consumer only through consumer/src/contract", async () => {
    await assertForbidden("index.ts", `import { parseSettings } from "./consumer/src/settings";`);
    await assertForbidden("infra/workload.ts", `import { nodeHeapOptions } from "../consumer/src/contract/node-heap";`);
    await assertForbidden("infra/config/index.ts", `export { TUNABLES } from "../../consumer/src/settings";`);
    await assertForbidden("infra/queue.ts", `import type { Settings } from "../consumer/src/index";`);
    await assertForbidden("infra/identity.ts", `const settings = require("../consumer/src/settings");`);
    await assertAllowed("index.ts", `import { queueVisibilityTimeoutSeconds } from "./consumer/src/contract";`);
    await assertAllowed("infra/config/index.ts", `import type { Tunables } from "../../consumer/src/contract/index";`);
  });

  it("the policy pack imports neither the consumer (beyond its contract) nor the program", async () => {
    await assertForbidden(
      "policies/rules/iam.ts",
      `import { SQS_ACTIONS_USED } from "../../consumer/src/contract/permissions";`,
    );
    await assertForbidden("policies/rules/iam.ts", `import { CONFIG_KEYS } from "../../infra/config";`);
    await assertForbidden("policies/index.ts", `import "../index";`);
    await assertForbidden("policies/test/fixtures/good-stack.ts", `const program = await import("../../../index");`);
    await assertAllowed("policies/rules/iam.ts", `import { SQS_ACTIONS_USED } from "../../consumer/src/contract";`);
    await assertAllowed("policies/test/harness.ts", `import { policies } from "../index";`);
  });

  it("the consumer imports neither infra/ nor the program", async () => {
    await assertForbidden("consumer/src/app.ts", `import { PROJECT } from "../../infra/config";`);
    await assertForbidden(
      "consumer/src/contract/index.ts",
      `export { WORKLOAD_NAMES } from "../../../infra/workload";`,
    );
    await assertForbidden("consumer/test/consume.test.ts", `import "../../index";`);
    await assertAllowed("consumer/src/app.ts", `import { parseSettings } from "./settings";`);
    await assertAllowed("consumer/src/index.ts", `export { startConsumer } from "./consumer";`);
  });
});
