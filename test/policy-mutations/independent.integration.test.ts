/**
 * The independent weakenings and the harmless changes (independent.ts) on the program's own resources,
 * recorded under mocks in two configurations that between them register every surface the program has:
 * a created cluster with IRSA, KEDA, alarms with email, the Prometheus Operator objects, developer, CI
 * and admin access entries and a public endpoint; and one with EKS Pod Identity. A weakening counts as
 * caught when its rule reports it on a configuration where it applies. The misses must be exactly the
 * accepted ones, and the score docs/POLICY.md reports must be this run's.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { surfaceOf } from "../../policies/lib/surfaces";
import type { RecordedResource } from "../../policies/offline/evaluate";
import { runPack, type Violation } from "../../policies/offline/run-pack";
import { assertSucceeded, packResources, REPO_ROOT, runPrograms, scenario } from "../helpers/program";
import { NoTarget, runMutations, type MutationOutcome } from "./check";
import { ACCEPTED_MISSES, HARMLESS, WEAKENINGS } from "./independent";

let baselines: RecordedResource[][];

before(async () => {
  const runs = await runPrograms([
    await scenario("full", {
      autoscaling: "keda",
      maxReplicas: 6,
      alarmEmails: ["ops@example.com"],
      prometheusOperator: "true",
      developers: ["alice=arn:aws:iam::123456789012:role/alice"],
      ciDeployRoleArn: "arn:aws:iam::123456789012:role/ci-deploy",
      ciPreviewRoleArn: "arn:aws:iam::123456789012:role/ci-preview",
      clusterAdminPrincipalArns: ["arn:aws:iam::123456789012:role/admin"],
      endpointPublicAccessCidrs: ["203.0.113.0/24"],
    }),
    await scenario("pods", { identity: "pod-identity", autoscaling: "keda" }),
    // Managed node groups: the launch template and node group surfaces Auto Mode (the default) does not register.
    await scenario("nodes", { nodeProvisioning: "node-group", autoscaling: "keda" }),
  ]);
  for (const run of runs) assertSucceeded(run);
  baselines = runs.map(packResources);
});

/** One outcome per weakening: caught where it applies on some configuration, else missed or not applicable. */
async function score(): Promise<MutationOutcome[]> {
  const reports = await Promise.all(baselines.map((b) => runMutations(b, WEAKENINGS)));
  return WEAKENINGS.map((mutation, i) => {
    const outcomes = reports.map((r) => r.outcomes[i]!);
    return outcomes.find((o) => o.status === "caught") ?? outcomes.find((o) => o.status === "missed") ?? outcomes[0]!;
  });
}

const key = (v: Violation) => `${v.policy}\u0000${v.urn}\u0000${v.message}`;

describe("independent weakenings on the program's resources", () => {
  it("draws on a program whose every resource type is in the surface table", () => {
    const types = new Set(baselines.flatMap((b) => b.map((r) => r.type)));
    assert.deepEqual(
      [...types].filter((type) => surfaceOf(type) === undefined),
      [],
    );
  });

  it("catches every weakening but the accepted misses, and docs/POLICY.md reports the score", async () => {
    const outcomes = await score();
    const lines = outcomes.map(({ mutation, status, firedPolicies, reason }) =>
      status === "caught"
        ? `  ✓ ${mutation.surface}: ${mutation.name} -> ${mutation.expectedPolicy}`
        : `  ✗ ${mutation.surface}: ${mutation.name}: expected ${mutation.expectedPolicy}, got ${status === "missed" ? firedPolicies.join(", ") || "nothing" : `not applicable (${reason ?? ""})`}`,
    );
    const caught = outcomes.filter((o) => o.status === "caught").length;
    console.log([...lines, `caught ${caught}/${outcomes.length}`].join("\n"));
    assert.deepEqual(
      outcomes.filter((o) => o.status !== "caught").map((o) => o.mutation.name),
      [...ACCEPTED_MISSES],
    );
    const doc = await readFile(path.join(REPO_ROOT, "docs", "POLICY.md"), "utf8");
    assert.ok(
      doc.includes(`independent weakenings: caught ${caught}/${outcomes.length}`),
      `docs/POLICY.md should report "independent weakenings: caught ${caught}/${outcomes.length}"`,
    );
  });

  it("raises no new finding, advisory or mandatory, for any harmless change", async () => {
    const problems: string[] = [];
    const unapplied: string[] = [];
    for (const change of HARMLESS) {
      let applied = 0;
      for (const baseline of baselines) {
        const before = new Set((await runPack(baseline)).violations.map(key));
        let changed: RecordedResource[];
        try {
          changed = change.apply(structuredClone(baseline));
        } catch (error) {
          if (error instanceof NoTarget) continue;
          throw error;
        }
        applied += 1;
        for (const v of (await runPack(changed)).violations.filter((x) => !before.has(key(x))))
          problems.push(`${change.name}: ${v.policy}: ${v.message}`);
      }
      if (applied === 0) unapplied.push(change.name);
    }
    assert.deepEqual(problems, []);
    assert.deepEqual(unapplied, [], "every harmless change applies to at least one configuration");
    const doc = await readFile(path.join(REPO_ROOT, "docs", "POLICY.md"), "utf8");
    assert.ok(doc.includes(`harmless changes: 0 findings on ${HARMLESS.length}`));
  });
});
