/**
 * The mutation check of the policy pack: weaken one thing in a good resource set (a trust statement, a
 * grant, a queue policy, a pod, a key hidden somewhere) and confirm the whole pack, run as `npm run
 * policy` runs it, reports the rule that should catch it. The variants are in table.ts, by the surface
 * they weaken; the rule tests in policies/test/ judge each rule alone, so the table holds only what
 * those tests do not already show.
 */
import type { RecordedResource } from "../../policies/offline/evaluate";
import { runPack, type Violation } from "../../policies/offline/run-pack";

export type Resources = RecordedResource[];

/** What a variant weakens, as the table groups them. */
export type Surface =
  | "trust"
  | "access"
  | "queues"
  | "pods"
  | "credentials"
  | "images"
  | "autoscaling"
  | "identity"
  | "cluster"
  | "network"
  | "topics"
  | "alarms"
  | "unknown";

export interface Mutation {
  readonly surface: Surface;
  readonly name: string;
  /** The rule that must report the weakened set. */
  readonly expectedPolicy: string;
  readonly description: string;
  /** Weakens `resources` (a private deep copy: edit in place, add or remove) and returns the result. */
  readonly apply: (resources: Resources) => Resources;
}

/** Thrown by `apply` when the resource set has nothing of the kind the mutation weakens. */
export class NoTarget extends Error {}

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
 * Applies each mutation to a copy of `baseline` and runs the pack with `config` (the
 * `--policy-pack-config` format). A mutation is caught when its expected policy reports a violation the
 * unmutated baseline did not have. `total` counts every mutation, so one that finds no target counts
 * against the score. Throws what a mutation throws other than NoTarget.
 */
export async function runMutations(
  baseline: readonly RecordedResource[],
  mutations: readonly Mutation[],
  config: unknown = {},
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

/** One line per mutation (✓ caught, ✗ missed or not applicable, with its surface), then the score. */
export function formatMutationReport(report: MutationReport): string {
  const lines = ["Mutation check: each weakened variant must trip its rule"];
  for (const { mutation, status, firedPolicies, reason } of report.outcomes) {
    const head = `${mutation.surface}: ${mutation.name} (${mutation.description})`;
    if (status === "caught") lines.push(`  ✓ ${head} -> ${mutation.expectedPolicy}`);
    else if (status === "missed")
      lines.push(`  ✗ ${head}: expected ${mutation.expectedPolicy}, got ${firedPolicies.join(", ") || "nothing"}`);
    else lines.push(`  ✗ ${head}: not applicable, ${reason ?? "no target"}`);
  }
  lines.push(`caught ${report.caught}/${report.total}`);
  return lines.join("\n");
}
