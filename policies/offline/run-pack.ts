/**
 * The offline policy check: every policy of the pack on recorded resources, violations printed the
 * way `pulumi preview --policy-pack policies` prints them, and an exit code that fails on mandatory ones.
 */
import { PACK_NAME, POLICIES, packVersion, type PackPolicy } from "../pack";
import { resolvePackConfig } from "./config";
import { evaluatePolicy, type RecordedResource } from "./evaluate";

export interface Violation {
  readonly policy: string;
  readonly description: string;
  /** "remediate" counts as mandatory, as in the engine. */
  readonly enforcement: "mandatory" | "advisory";
  readonly urn: string;
  /** Type and name of the blamed resource (the stack's own for stack-wide findings). */
  readonly type: string;
  readonly name: string;
  readonly message: string;
}

export interface PackResult {
  readonly violations: readonly Violation[];
  readonly mandatoryCount: number;
  readonly advisoryCount: number;
}

export class RecordedResourceError extends Error {
  readonly code = "RECORDED_RESOURCES_INVALID";
  constructor(readonly problems: readonly string[]) {
    super(`Invalid recorded resources: ${problems.join("; ")}`);
    this.name = "RecordedResourceError";
  }
}

function checkResources(resources: readonly RecordedResource[]): void {
  const problems: string[] = [];
  const seen = new Set<string>();
  resources.forEach((r, index) => {
    for (const key of ["type", "name", "urn"] as const) {
      if (typeof r[key] !== "string" || r[key] === "")
        problems.push(`resources[${index}].${key} must be a non-empty string`);
    }
    if (typeof r.props !== "object" || r.props === null || Array.isArray(r.props))
      problems.push(`resources[${index}].props must be an object`);
    if (seen.has(r.urn)) problems.push(`resources[${index}].urn ${r.urn} is recorded twice`);
    seen.add(r.urn);
  });
  if (problems.length > 0) throw new RecordedResourceError(problems);
}

/** The stack resource's URN and name, derived from any resource URN (`urn:pulumi:<stack>::<project>::...`). */
function stackIdentity(resources: readonly RecordedResource[]): { urn: string; name: string } {
  const match = /^urn:pulumi:([^:]+)::([^:]+)::/.exec(resources[0]?.urn ?? "");
  const [stack, project] = match === null ? ["stack", "project"] : [match[1] ?? "stack", match[2] ?? "project"];
  const name = `${project}-${stack}`;
  return { urn: `urn:pulumi:${stack}::${project}::pulumi:pulumi:Stack::${name}`, name };
}

/**
 * Runs `policies` (the whole pack by default) on `resources` with `config` in the `--policy-pack-config`
 * format. Throws PolicyConfigError or RecordedResourceError, naming every problem, on bad input.
 */
export async function runPack(
  resources: readonly RecordedResource[],
  config: unknown = {},
  policies: readonly PackPolicy[] = POLICIES,
): Promise<PackResult> {
  checkResources(resources);
  const settings = resolvePackConfig(policies, config);
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const stack = stackIdentity(resources);
  const violations: Violation[] = [];
  for (const policy of policies) {
    const policySettings = settings.get(policy.name);
    if (policySettings === undefined || policySettings.enforcementLevel === "disabled") continue;
    const enforcement = policySettings.enforcementLevel === "advisory" ? "advisory" : "mandatory";
    for (const finding of await evaluatePolicy(policy, resources, policySettings.values)) {
      const blamed = finding.urn === undefined ? undefined : byUrn.get(finding.urn);
      violations.push({
        policy: policy.name,
        description: policy.description,
        enforcement: finding.undecided === true ? "advisory" : enforcement,
        urn: blamed?.urn ?? stack.urn,
        type: blamed?.type ?? "pulumi:pulumi:Stack",
        name: blamed?.name ?? stack.name,
        message:
          finding.undecided === true
            ? `can't run policy '${policy.name}' from policy pack '${PACK_NAME}@v${packVersion()}' during preview: ${finding.message}`
            : finding.message,
      });
    }
  }
  const mandatoryCount = violations.filter((v) => v.enforcement === "mandatory").length;
  return { violations, mandatoryCount, advisoryCount: violations.length - mandatoryCount };
}

export interface PackIdentity {
  readonly name: string;
  readonly version: string;
  /** Where the pack was loaded from, as the CLI shows it: `local: policies`. */
  readonly source: string;
}

export function defaultPackIdentity(): PackIdentity {
  return { name: PACK_NAME, version: packVersion(), source: "local: policies" };
}

/** The "Policies:" block of `pulumi preview --policy-pack`: a status line, then each violation. */
export function formatViolations(result: PackResult, pack: PackIdentity = defaultPackIdentity()): string {
  const status = result.mandatoryCount > 0 ? "❌" : result.advisoryCount > 0 ? "⚠️" : "✅";
  const lines = ["Policies:", `    ${status} ${pack.name}@v${pack.version} (${pack.source})`];
  for (const v of result.violations) {
    lines.push(
      `        - [${v.enforcement}]  ${v.policy}  (${v.type}: ${v.name})`,
      `          ${v.description}`,
      `          ${v.message}`,
    );
  }
  return lines.join("\n");
}

/** `2 mandatory and 1 advisory policy violations`, for the line after the block. */
export function summarize(result: PackResult): string {
  return `${result.mandatoryCount} mandatory and ${result.advisoryCount} advisory policy violations`;
}

/** The process exit code `npm run policy` uses: non-zero exactly when a mandatory policy is violated. */
export function exitCodeOf(result: PackResult): 0 | 1 {
  return result.mandatoryCount > 0 ? 1 : 0;
}
