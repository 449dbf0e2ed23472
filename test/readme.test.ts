import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { README, renderReadme } from "../scripts/readme-tables";

test("the README's settings and error tables match the code (run `npm run docs` to update)", () => {
  const readme = readFileSync(README, "utf8");
  assert.equal(renderReadme(readme), readme);
});

test("the README shows the two set-up commands", () => {
  const readme = readFileSync(README, "utf8");
  assert.match(readme, /npm ci && npm start/);
  assert.match(readme, /npm ci && npm test/);
});
