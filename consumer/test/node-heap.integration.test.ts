import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { nodeHeapForMemoryLimit, nodeHeapOptions } from "../src/contract/node-heap";

test("the options are ones this Node accepts, and they set the heap it reports", () => {
  const options = nodeHeapOptions(nodeHeapForMemoryLimit(128));
  assert.equal(options, "--max-old-space-size=96 --max-semi-space-size=8");
  const limitMiB = execFileSync(
    process.execPath,
    ["-p", "require('node:v8').getHeapStatistics().heap_size_limit / 1048576"],
    {
      env: { ...process.env, NODE_OPTIONS: options },
      encoding: "utf8",
    },
  );
  // heap_size_limit is old space plus the young generation (three semi-spaces): 96 + 3 x 8.
  assert.equal(Number(limitMiB), 96 + 3 * 8);
});
