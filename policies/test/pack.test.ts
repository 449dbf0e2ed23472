import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { POLICIES } from "../pack";

describe("the policy pack", () => {
  it("names every rule once, in kebab-case, with a one-sentence description and an explicit level", () => {
    const names = POLICIES.map((p) => p.name);
    assert.equal(new Set(names).size, names.length);
    for (const policy of POLICIES) {
      assert.match(policy.name, /^[a-z0-9]+(-[a-z0-9]+)*$/, policy.name);
      assert.match(policy.description, /^[A-Z][^\n]*\.$/, policy.name);
      assert.equal(policy.description.split(/\.\s/).length, 1, `${policy.name}: one sentence`);
      assert.ok(policy.enforcementLevel === "mandatory" || policy.enforcementLevel === "advisory", policy.name);
    }
  });

  it("keeps the three hygiene rules and the two calls for review advisory, everything else mandatory", () => {
    const advisory = POLICIES.filter((p) => p.enforcementLevel === "advisory").map((p) => p.name);
    assert.deepEqual(advisory.sort(), [
      "container-resources-set",
      "ecr-lifecycle-policy",
      "packaged-objects-visible",
      "pdb-for-replicated-deployments",
      "unknown-resource-reviewed",
    ]);
  });

  it("documents a default for every setting and never declares enforcementLevel itself", () => {
    for (const policy of POLICIES) {
      for (const [key, schema] of Object.entries(policy.configSchema?.properties ?? {})) {
        assert.notEqual(key, "enforcementLevel");
        assert.ok(
          typeof schema === "object" && schema.default !== undefined && typeof schema.description === "string",
          `${policy.name}.${key}`,
        );
      }
    }
  });

  it("is a Node.js pack the Pulumi CLI can load", () => {
    const dir = join(__dirname, "..");
    const manifest = parse(readFileSync(join(dir, "PulumiPolicy.yaml"), "utf8")) as Record<string, unknown>;
    assert.equal(manifest["runtime"], "nodejs");
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
      main?: string;
      dependencies?: Record<string, string>;
    };
    assert.equal(pkg.main, "index.ts");
    assert.ok(pkg.dependencies?.["@pulumi/policy"]);
  });

  it('tests every rule in a suite named after it (describe("<rule>" or "<rule>: ...")', () => {
    const suites = new Set(
      readdirSync(__dirname)
        .filter((file) => file.endsWith(".test.ts"))
        .flatMap((file) =>
          [...readFileSync(join(__dirname, file), "utf8").matchAll(/describe\("([a-z0-9-]+)[":]/g)].map((m) => m[1]),
        ),
    );
    assert.deepEqual(
      POLICIES.map((p) => p.name).filter((name) => !suites.has(name)),
      [],
    );
  });

  it("documents every rule in docs/POLICY.md", () => {
    const doc = readFileSync(join(__dirname, "..", "..", "docs", "POLICY.md"), "utf8");
    for (const policy of POLICIES) assert.ok(doc.includes(`\`${policy.name}\``), policy.name);
  });
});
