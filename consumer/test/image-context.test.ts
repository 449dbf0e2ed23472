// What the image's build stage has, as npm run build reads it: .dockerignore by Docker's rules (checked
// against @balena/dockerignore, the implementation Docker's own tests are ported to), the Dockerfile's
// COPY lines, and the packages consumer/package.json declares.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { join } from "node:path";
import dockerignore from "@balena/dockerignore";
import { checkImageInputs, copiedBeforeBuild, dockerignored, packageOf } from "../src/image-context.mjs";

const root = join(__dirname, "..", "..");
const ignoreFile = readFileSync(join(root, ".dockerignore"), "utf8");
const dockerfile = readFileSync(join(root, "consumer", "Dockerfile"), "utf8");

test(".dockerignore is read as Docker reads it: the repository's file and a few others, against @balena/dockerignore", () => {
  const files = [
    ".dockerignore",
    "package.json",
    "package-lock.json",
    "consumer/handler.ts",
    "consumer/orders.ts",
    "consumer/lib/db/pool.ts",
    "consumer/src/main.ts",
    "consumer/test/app.test.ts",
    "consumer/handler.test.ts",
    "consumer/dist/main.js",
    "consumer/node_modules/zod/index.js",
    "shared/orders.ts",
    "index.ts",
    "node_modules/zod/index.js",
  ];
  for (const text of [ignoreFile, "**\n!consumer/src/**\n", "*.md\n!README.md\nsecrets\n# comment\n", "/docs\n"]) {
    const reference = dockerignore({}).add(text);
    for (const file of files)
      assert.equal(dockerignored(text, file), reference.ignores(file), `${JSON.stringify(text)} and ${file}`);
  }
});

test("the build stage's COPY sources, not the runtime stage's", () => {
  assert.deepEqual(copiedBeforeBuild(dockerfile), [
    "package.json",
    "package-lock.json",
    "consumer/package.json",
    "consumer",
  ]);
});

test("package names of import specifiers", () => {
  assert.equal(packageOf("zod"), "zod");
  assert.equal(packageOf("lodash/fp"), "lodash");
  assert.equal(packageOf("@aws-sdk/client-dynamodb/dist"), "@aws-sdk/client-dynamodb");
  assert.equal(packageOf("./orders"), undefined);
  assert.equal(packageOf("node:fs"), undefined);
});

test("a sibling file and declared packages pass; a file outside consumer/ and an undeclared package are named with the fix", () => {
  const problems = checkImageInputs(
    {
      inputs: {
        "consumer/handler.ts": {
          imports: [
            { path: "consumer/orders.ts" },
            { path: "shared/money.ts" },
            { path: "zod", external: true },
            { path: "lodash/fp", external: true },
            { path: "node:timers/promises", external: true },
            { path: "fs", external: true },
          ],
        },
        "consumer/orders.ts": { imports: [] },
        "shared/money.ts": { imports: [] },
      },
    },
    { dockerfile, dockerignore: ignoreFile, declared: new Set(["zod"]), builtin: isBuiltin },
  );
  assert.deepEqual(
    problems.map((p) => [p.importer, p.imported]),
    [
      ["consumer/handler.ts", "lodash/fp"],
      ["consumer/handler.ts", "shared/money.ts"],
    ].sort(),
  );
  assert.match(problems.find((p) => p.imported === "lodash/fp")!.reason, /npm install --workspace consumer lodash$/);
  assert.match(
    problems.find((p) => p.imported === "shared/money.ts")!.reason,
    /put it in consumer\/, beside handler\.ts/,
  );
});
