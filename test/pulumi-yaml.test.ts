/**
 * The project file, checked the way the Pulumi CLI would check it (the CLI is not installed here): against
 * Pulumi's JSON Schema for Pulumi.yaml, plus the rules the CLI enforces in code (a project-namespaced key
 * declares a type and a default of that type; another namespace's key carries a plain value only). Its
 * config section is generated from infra/config/keys.ts (`npm run docs`, scripts/readme-tables.ts).
 */
import Ajv2020 from "ajv/dist/2020";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { describe, it } from "node:test";
import YAML from "yaml";
import { CONFIG_KEYS, CONSUMER_KEY, DEFAULT_REGION, PROJECT, parseStackConfig } from "../infra/config";
import { PROJECT_FILE, renderProjectFile } from "../scripts/readme-tables";
import { REPO_ROOT, cliConfig, stackFileValues } from "./helpers/program";

const VENDORED_SCHEMA = path.join(REPO_ROOT, "test", "fixtures", "pulumi-project.schema.json");

interface Declaration {
  readonly type?: string;
  readonly items?: { readonly type: string };
  readonly default?: unknown;
  readonly description?: string;
}

async function projectFile(): Promise<Record<string, unknown>> {
  return YAML.parse(await readFile(PROJECT_FILE, "utf8")) as Record<string, unknown>;
}

describe("Pulumi.yaml", () => {
  it("validates against Pulumi's project schema", async () => {
    const schema = JSON.parse(await readFile(VENDORED_SCHEMA, "utf8")) as object;
    const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
    const project = await projectFile();
    assert.ok(validate(project), JSON.stringify(validate.errors, null, 2));
  });

  it("the schema check can fail: a config entry with an unknown attribute is rejected", async () => {
    const schema = JSON.parse(await readFile(VENDORED_SCHEMA, "utf8")) as object;
    const validate = new Ajv2020({ strict: false }).compile(schema);
    const project = await projectFile();
    const broken = { ...project, config: { ...(project.config as object), replicas: { type: "integer", defualt: 2 } } };
    assert.equal(validate(broken), false);
  });

  it("names the project and a TypeScript Node.js runtime", async () => {
    const project = await projectFile();
    assert.equal(project.name, PROJECT);
    assert.deepEqual(project.runtime, { name: "nodejs", options: { typescript: true, packagemanager: "npm" } });
  });

  it("is what `npm run docs` generates from infra/config/keys.ts", async () => {
    const committed = await readFile(PROJECT_FILE, "utf8");
    assert.equal(committed, renderProjectFile(committed), "Pulumi.yaml is out of date: run npm run docs");
  });

  it("gives a YAML 1.1 reader too exactly infra/config/keys.ts's keys, types, defaults and descriptions", async () => {
    // Pulumi's CLI reads the file in Go; YAML 1.1 readers take an unquoted off, on, yes or no for a boolean.
    const file = YAML.parse(await readFile(PROJECT_FILE, "utf8"), { version: "1.1" }) as Record<string, unknown>;
    const config = file.config as Record<string, unknown>;
    const declared = Object.fromEntries(Object.entries(config).filter(([key]) => !key.includes(":")));
    const expected = Object.fromEntries(
      Object.entries(CONFIG_KEYS).map(([key, spec]) => [
        key,
        {
          type: spec.type,
          ...(spec.type === "array" ? { items: { type: "string" } } : {}),
          default: spec.default,
          description: spec.description,
        },
      ]),
    );
    assert.deepEqual(declared, expected);
    assert.ok(!(CONSUMER_KEY in config), "the consumer block is an object, which Pulumi.yaml cannot declare");
  });

  it("sets the default region as a plain value, the only key from another namespace", async () => {
    const config = (await projectFile()).config as Record<string, unknown>;
    const foreign = Object.entries(config).filter(([key]) => key.includes(":"));
    assert.deepEqual(foreign, [["aws:region", DEFAULT_REGION]]);
  });

  it("follows the CLI's own rules: typed project keys, defaults of their declared type", async () => {
    const config = (await projectFile()).config as Record<string, Declaration | string>;
    for (const [key, declaration] of Object.entries(config)) {
      if (key.includes(":")) continue;
      assert.equal(typeof declaration, "object", `${key} should be a typed declaration`);
      const { type, default: value, items } = declaration as Declaration;
      switch (type) {
        case "string":
          assert.equal(typeof value, "string", key);
          break;
        case "integer":
          assert.ok(Number.isInteger(value), key);
          break;
        case "boolean":
          assert.equal(typeof value, "boolean", key);
          break;
        case "array":
          assert.equal(items?.type, "string", key);
          assert.ok(Array.isArray(value) && value.every((item) => typeof item === "string"), key);
          break;
        default:
          assert.fail(`${key} has unexpected type ${String(type)}`);
      }
    }
  });
});

describe("Pulumi.dev.yaml", () => {
  it("is a valid stack config once the CLI merges the project defaults", async () => {
    const result = parseStackConfig({
      project: PROJECT,
      stack: "dev",
      values: await cliConfig(await stackFileValues("dev")),
    });
    assert.ok(result.ok, result.ok ? "" : JSON.stringify(result.problems));
  });

  it("sets only keys the program knows", async () => {
    const values = await stackFileValues("dev");
    const known = new Set([...Object.keys(CONFIG_KEYS), CONSUMER_KEY].map((key) => `${PROJECT}:${key}`));
    for (const key of Object.keys(values)) {
      assert.ok(key === "aws:region" || known.has(key), `${key} is not a config key of this program`);
    }
  });
});
