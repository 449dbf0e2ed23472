import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatMutationReport, MUTATIONS, runMutations, type Mutation } from "../offline/mutations";
import { POLICIES } from "../pack";
import { goodStack } from "./fixtures/good-stack";

describe("mutation check on the synthetic good stack", () => {
  it("catches every mutation", async () => {
    const report = await runMutations(goodStack());
    console.log(formatMutationReport(report));
    assert.deepEqual(
      report.outcomes.filter((o) => o.status !== "caught").map((o) => o.mutation.name),
      [],
    );
    assert.equal(report.caught, report.total);
    assert.equal(report.total, MUTATIONS.length);
  });

  it("weakens something every rule of the pack guards", () => {
    const covered = new Set(MUTATIONS.map((m) => m.expectedPolicy));
    assert.deepEqual(
      POLICIES.map((p) => p.name).filter((name) => !covered.has(name)),
      [],
    );
  });

  it("reports a mutation the pack misses, and one that finds no target", async () => {
    const harmless: Mutation = {
      name: "no-op",
      expectedPolicy: "queue-encrypted",
      description: "a change no rule cares about",
      apply: (resources) => resources,
    };
    const report = await runMutations(goodStack(), {}, [
      harmless,
      ...MUTATIONS.filter((m) => m.name === "imds-hop-limit-2"),
    ]);
    const withoutTemplates = await runMutations(
      goodStack().filter((r) => r.type !== "aws:ec2/launchTemplate:LaunchTemplate"),
      {},
      MUTATIONS.filter((m) => m.name === "imds-hop-limit-2"),
    );
    assert.deepEqual([report.caught, report.total], [1, 2]);
    assert.equal(
      formatMutationReport(report),
      [
        "Mutation check: each weakened variant must trip its rule",
        "  ✗ no-op (a change no rule cares about): expected queue-encrypted, got nothing",
        "  ✓ imds-hop-limit-2 (pods on the nodes can reach IMDS through hop limit 2) -> launch-template-imdsv2",
        "caught 1/2",
      ].join("\n"),
    );
    assert.equal(withoutTemplates.outcomes[0]?.status, "not-applicable");
    assert.equal(
      formatMutationReport(withoutTemplates).split("\n")[1],
      "  ✗ imds-hop-limit-2 (pods on the nodes can reach IMDS through hop limit 2): not applicable, no LaunchTemplate in the resources",
    );
  });

  it("leaves the baseline it is given untouched", async () => {
    const baseline = goodStack();
    const before = JSON.stringify(baseline);
    await runMutations(baseline);
    assert.equal(JSON.stringify(baseline), before);
  });
});
