import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { StackValidationPolicy } from "@pulumi/policy";
import { PolicyConfigError } from "../offline/config";
import type { RecordedResource } from "../offline/evaluate";
import { exitCodeOf, formatViolations, RecordedResourceError, runPack, summarize } from "../offline/run-pack";
import { POLICIES, packVersion } from "../pack";
import { edit } from "./harness";
import { goodResources, goodStack } from "./fixtures/good-stack";

const PACK = { name: "sqs-eks-consumer", version: "0.1.0", source: "local: policies" };

/** An unencrypted queue (mandatory) and a repository without lifecycle policy (advisory). */
function flawedStack(): RecordedResource[] {
  const { lifecyclePolicy: _dropped, ...good } = goodResources();
  return Object.values({ ...good, queue: edit(good.queue, { sqsManagedSseEnabled: undefined }) });
}

describe("runPack", () => {
  it("finds nothing in the good stack and exits 0", async () => {
    const result = await runPack(goodStack());
    assert.deepEqual(result, { violations: [], mandatoryCount: 0, advisoryCount: 0 });
    assert.equal(exitCodeOf(result), 0);
    assert.equal(formatViolations(result, PACK), "Policies:\n    ✅ sqs-eks-consumer@v0.1.0 (local: policies)");
  });

  it("prints violations as pulumi preview does and exits 1 on a mandatory one", async () => {
    const result = await runPack(flawedStack());
    assert.equal(result.mandatoryCount, 1);
    assert.equal(result.advisoryCount, 1);
    assert.equal(exitCodeOf(result), 1);
    assert.equal(summarize(result), "1 mandatory and 1 advisory policy violations");
    assert.equal(
      formatViolations(result, PACK),
      [
        "Policies:",
        "    ❌ sqs-eks-consumer@v0.1.0 (local: policies)",
        "        - [mandatory]  queue-encrypted  (aws:sqs/queue:Queue: consumer-queue)",
        "          Every SQS queue is encrypted at rest, with SQS-managed keys or a KMS key.",
        `          Queue "consumer-queue" is not encrypted at rest; set sqsManagedSseEnabled: true, or kmsMasterKeyId to a KMS key.`,
        "        - [advisory]  ecr-lifecycle-policy  (aws:ecr/repository:Repository: consumer-image)",
        "          Every ECR repository has a lifecycle policy that expires old images.",
        `          ECR repository "consumer-image" has no lifecycle policy, so images pile up; add an aws.ecr.LifecyclePolicy that expires untagged and old images.`,
      ].join("\n"),
    );
  });

  it("marks a run with only advisory violations with a warning and exits 0", async () => {
    const { lifecyclePolicy: _dropped, ...good } = goodResources();
    const result = await runPack(Object.values(good));
    assert.equal(exitCodeOf(result), 0);
    assert.match(formatViolations(result, PACK), /^Policies:\n {4}⚠️ sqs-eks-consumer@v0\.1\.0 \(local: policies\)\n/);
  });

  it("reads the pack version from policies/package.json", () => {
    assert.match(packVersion(), /^\d+\.\d+\.\d+/);
  });

  it("blames the stack for stack-wide findings and honours notApplicable", async () => {
    const stackWide: StackValidationPolicy = {
      name: "stack-wide",
      description: "A stack-wide test policy.",
      enforcementLevel: "remediate",
      validateStack: (_args, reportViolation) => reportViolation("The stack as a whole."),
    };
    const skipped: StackValidationPolicy = {
      name: "skipped",
      description: "A policy that does not apply.",
      enforcementLevel: "mandatory",
      validateStack: (args, reportViolation) => {
        reportViolation("reported before notApplicable, as the engine would keep it");
        args.notApplicable("nothing to check");
      },
    };
    const result = await runPack(goodStack(), {}, [stackWide, skipped]);
    assert.deepEqual(result.violations[0], {
      policy: "stack-wide",
      description: "A stack-wide test policy.",
      enforcement: "mandatory",
      urn: "urn:pulumi:dev::sqs-eks-consumer::pulumi:pulumi:Stack::sqs-eks-consumer-dev",
      type: "pulumi:pulumi:Stack",
      name: "sqs-eks-consumer-dev",
      message: "The stack as a whole.",
    });
    assert.equal(result.violations.length, 2);
  });
});

describe("pack configuration", () => {
  it("overrides enforcement levels per policy and for all", async () => {
    const advisory = await runPack(flawedStack(), { "queue-encrypted": "advisory" });
    assert.deepEqual(
      advisory.violations.map((v) => [v.policy, v.enforcement]),
      [
        ["queue-encrypted", "advisory"],
        ["ecr-lifecycle-policy", "advisory"],
      ],
    );
    assert.equal(exitCodeOf(advisory), 0);
    const disabled = await runPack(flawedStack(), { "queue-encrypted": { enforcementLevel: "disabled" } });
    assert.deepEqual(
      disabled.violations.map((v) => v.policy),
      ["ecr-lifecycle-policy"],
    );
    const all = await runPack(flawedStack(), { all: "mandatory", "ecr-lifecycle-policy": "advisory" });
    assert.deepEqual([all.mandatoryCount, all.advisoryCount], [1, 1]);
    const allAdvisory = await runPack(flawedStack(), { all: { enforcementLevel: "advisory" } });
    assert.deepEqual([allAdvisory.mandatoryCount, allAdvisory.advisoryCount], [0, 2]);
  });

  it("accepts the documented example configuration", async () => {
    const example: unknown = JSON.parse(readFileSync(join(__dirname, "..", "policy-config.example.json"), "utf8"));
    const result = await runPack(goodStack(), example);
    assert.deepEqual(
      result.violations.map((v) => [v.policy, v.enforcement]),
      [
        ["queue-encrypted", "mandatory"],
        ["queue-encrypted", "mandatory"],
        ["container-resources-set", "mandatory"],
      ],
    );
  });

  it("passes policy settings, with schema defaults for the rest", async () => {
    const result = await runPack(goodStack(), { "image-from-allowed-registry": { allowedRegistries: ["ghcr.io"] } });
    assert.deepEqual(
      result.violations.map((v) => v.policy),
      ["image-from-allowed-registry"],
    );
  });

  it("rejects bad configuration naming every bad key", async () => {
    const config = {
      "no-such-policy": "mandatory",
      "queue-encrypted": { requireCustomerManagedKey: "yes", colour: "blue" },
      "pdb-for-replicated-deployments": { enforcementLevel: "strict", minReplicas: 1 },
      "image-pinned-by-digest": 7,
      all: { enforcementLevel: "advisory", extra: true },
    };
    await assert.rejects(runPack(goodStack(), config), (error: unknown) => {
      assert.ok(error instanceof PolicyConfigError);
      assert.equal(error.code, "POLICY_CONFIG_INVALID");
      assert.deepEqual(error.problems, [
        {
          key: "no-such-policy",
          reason: `is not a policy in this pack (known: all, ${POLICIES.map((p) => p.name).join(", ")})`,
        },
        { key: "all", reason: "may only set enforcementLevel" },
        { key: "queue-encrypted.colour", reason: "is not a setting of this policy" },
        { key: "queue-encrypted.requireCustomerManagedKey", reason: "must be boolean" },
        {
          key: "image-pinned-by-digest",
          reason: "must be an enforcement level (advisory, mandatory, remediate, disabled) or an object",
        },
        {
          key: "pdb-for-replicated-deployments.enforcementLevel",
          reason: "must be one of advisory, mandatory, remediate, disabled",
        },
        { key: "pdb-for-replicated-deployments.minReplicas", reason: "must be >= 2" },
      ]);
      return true;
    });
  });

  it("rejects malformed recorded resources naming each one", async () => {
    const [first, second] = goodStack();
    assert.ok(first !== undefined && second !== undefined);
    const broken = [
      first,
      { ...second, urn: first.urn },
      { ...second, type: "", props: [] as unknown as Record<string, unknown> },
    ];
    await assert.rejects(runPack(broken), (error: unknown) => {
      assert.ok(error instanceof RecordedResourceError);
      assert.deepEqual(error.problems, [
        `resources[1].urn ${first.urn} is recorded twice`,
        "resources[2].type must be a non-empty string",
        "resources[2].props must be an object",
      ]);
      return true;
    });
  });
});
