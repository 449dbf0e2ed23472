import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { CONSUMER_DOC, renderConsumerDoc } from "../scripts/readme-tables";

test("docs/CONSUMER.md's settings and error tables match the code (run `npm run docs` to update)", () => {
  const doc = readFileSync(CONSUMER_DOC, "utf8");
  assert.equal(renderConsumerDoc(doc), doc);
});

test("the README shows the two set-up commands", () => {
  const readme = readFileSync("README.md", "utf8");
  assert.match(readme, /npm ci && npm start/);
  assert.match(readme, /npm ci && npm test/);
});
