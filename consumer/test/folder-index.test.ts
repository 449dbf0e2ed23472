/**
 * consumer/src/index.ts describes the folder a reader opens first: its header names every file and
 * folder of consumer/src, so a module added without a line there fails here.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";

const SRC = path.join(__dirname, "..", "src");

test("consumer/src/index.ts's header names every file and folder of consumer/src", () => {
  const source = readFileSync(path.join(SRC, "index.ts"), "utf8");
  const header = source.slice(0, source.indexOf("*/"));
  const entries = readdirSync(SRC, { withFileTypes: true }).map((e) => (e.isDirectory() ? `${e.name}/` : e.name));
  assert.ok(entries.length > 20, `read ${entries.length} entries of ${SRC}`);
  const named = (entry: string) =>
    new RegExp(`(^|[^\\w.-])${entry.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`).test(header);
  assert.deepEqual(
    entries.filter((entry) => !named(entry)),
    [],
    "files of consumer/src the index does not describe",
  );
});
