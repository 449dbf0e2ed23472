/**
 * The mutation check: weaken one property of a good resource set at a time (a wildcard `:sub`, `sqs:*`,
 * a second trust statement, a root container, an image by tag, IMDS hop limit 2, ...) and confirm the
 * pack reports the rule that should catch it. The pack author's variants are here; variants written
 * by others against the pack are in mutations-external.ts; both use the helpers of mutation-kit.ts.
 */
import type { RecordedResource } from "./evaluate";
import { EXTERNAL_MUTATIONS } from "./mutations-external";
import { NoTarget, type Mutation, type Resources } from "./mutation-kit";
import { runPack, type Violation } from "./run-pack";
import { AUTHOR_MUTATIONS } from "./mutations-author";

export { NoTarget, type Mutation } from "./mutation-kit";

/** Every variant the check runs: the author's, then the external ones. */
export const MUTATIONS: readonly Mutation[] = [...AUTHOR_MUTATIONS, ...EXTERNAL_MUTATIONS];

export interface MutationOutcome {
  readonly mutation: Mutation;
  readonly status: "caught" | "missed" | "not-applicable";
  /** Policies with violations the baseline did not have. */
  readonly firedPolicies: readonly string[];
  /** Why the mutation did not apply. */
  readonly reason?: string;
}

export interface MutationReport {
  readonly outcomes: readonly MutationOutcome[];
  readonly caught: number;
  readonly total: number;
}

const key = (v: Violation) => `${v.policy}\u0000${v.urn}\u0000${v.message}`;

/**
 * Applies each mutation to a copy of `baseline` and runs the pack. A mutation is caught when its
 * expected policy reports a violation the unmutated baseline did not have. `total` counts every
 * mutation, so one that finds no target counts against the score.
 */
export async function runMutations(
  baseline: readonly RecordedResource[],
  config: unknown = {},
  mutations: readonly Mutation[] = MUTATIONS,
): Promise<MutationReport> {
  const before = new Set((await runPack(baseline, config)).violations.map(key));
  const outcomes: MutationOutcome[] = [];
  for (const mutation of mutations) {
    let mutated: Resources;
    try {
      mutated = mutation.apply(structuredClone([...baseline]));
    } catch (error) {
      if (!(error instanceof NoTarget)) throw error;
      outcomes.push({ mutation, status: "not-applicable", firedPolicies: [], reason: error.message });
      continue;
    }
    const fresh = (await runPack(mutated, config)).violations.filter((v) => !before.has(key(v)));
    const firedPolicies = [...new Set(fresh.map((v) => v.policy))];
    outcomes.push({
      mutation,
      status: firedPolicies.includes(mutation.expectedPolicy) ? "caught" : "missed",
      firedPolicies,
    });
  }
  return { outcomes, caught: outcomes.filter((o) => o.status === "caught").length, total: outcomes.length };
}

export function formatMutationReport(report: MutationReport): string {
  const lines = ["Mutation check: each weakened variant must trip its rule"];
  for (const { mutation, status, firedPolicies, reason } of report.outcomes) {
    const head = `${mutation.name} (${mutation.description})`;
    if (status === "caught") lines.push(`  ✓ ${head} -> ${mutation.expectedPolicy}`);
    else if (status === "missed")
      lines.push(`  ✗ ${head}: expected ${mutation.expectedPolicy}, got ${firedPolicies.join(", ") || "nothing"}`);
    else lines.push(`  ✗ ${head}: not applicable, ${reason ?? "no target"}`);
  }
  lines.push(`caught ${report.caught}/${report.total}`);
  return lines.join("\n");
}
