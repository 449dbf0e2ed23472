import { test } from "node:test";
import assert from "node:assert/strict";
import { nodeHeapForMemoryLimit } from "../src/contract/node-heap";

test("heap settings scale with the memory limit: old space 75%, semi-space 1/16 between 1 and 64 MiB", () => {
  assert.deepEqual(nodeHeapForMemoryLimit(128), { maxOldSpaceMiB: 96, maxSemiSpaceMiB: 8 });
  assert.deepEqual(nodeHeapForMemoryLimit(256), { maxOldSpaceMiB: 192, maxSemiSpaceMiB: 16 });
  assert.deepEqual(nodeHeapForMemoryLimit(64), { maxOldSpaceMiB: 48, maxSemiSpaceMiB: 4 });
  assert.deepEqual(nodeHeapForMemoryLimit(8_192), { maxOldSpaceMiB: 6_144, maxSemiSpaceMiB: 64 });
  assert.deepEqual(nodeHeapForMemoryLimit(10), { maxOldSpaceMiB: 7, maxSemiSpaceMiB: 1 });
});
