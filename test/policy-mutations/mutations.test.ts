import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AWS } from "../../policies/lib/types";
import { goodStack } from "../../policies/test/fixtures/good-stack";
import { formatMutationReport, runMutations, type Mutation } from "./check";
import { MUTATIONS } from "./table";

describe("mutation check on the synthetic good stack", () => {
  it("catches every mutation with the rule it names", async () => {
    const report = await runMutations(goodStack(), MUTATIONS);
    console.log(formatMutationReport(report));
    assert.deepEqual(
      report.outcomes.filter((o) => o.status !== "caught").map((o) => `${o.mutation.surface}: ${o.mutation.name}`),
      [],
    );
    assert.equal(report.caught, report.total);
    assert.equal(report.total, MUTATIONS.length);
  });

  it("names each variant once", () => {
    const names = MUTATIONS.map((m) => m.name);
    assert.deepEqual(
      names.filter((name, i) => names.indexOf(name) !== i),
      [],
    );
  });

  it("reports a mutation the pack misses, and one that finds no target", async () => {
    const harmless: Mutation = {
      surface: "queues",
      name: "no-op",
      expectedPolicy: "queue-encrypted",
      description: "a change no rule cares about",
      apply: (resources) => resources,
    };
    const scanOff = MUTATIONS.filter((m) => m.name === "ecr-scan-on-push-false");
    const report = await runMutations(goodStack(), [harmless, ...scanOff]);
    const withoutRepository = await runMutations(
      goodStack().filter((r) => r.type !== AWS.ecrRepository),
      scanOff,
    );
    assert.deepEqual([report.caught, report.total], [1, 2]);
    assert.equal(
      formatMutationReport(report),
      [
        "Mutation check: each weakened variant must trip its rule",
        "  ✗ queues: no-op (a change no rule cares about): expected queue-encrypted, got nothing",
        "  ✓ images: ecr-scan-on-push-false (the repository's imageScanningConfiguration sets scanOnPush: false) -> ecr-scan-on-push",
        "caught 1/2",
      ].join("\n"),
    );
    assert.equal(withoutRepository.outcomes[0]?.status, "not-applicable");
    assert.equal(
      formatMutationReport(withoutRepository).split("\n")[1],
      "  ✗ images: ecr-scan-on-push-false (the repository's imageScanningConfiguration sets scanOnPush: false): not applicable, no ECR repository in the resources",
    );
  });

  it("leaves the baseline it is given untouched", async () => {
    const baseline = goodStack();
    const before = JSON.stringify(baseline);
    await runMutations(baseline, MUTATIONS);
    assert.equal(JSON.stringify(baseline), before);
  });
});
