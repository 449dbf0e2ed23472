/**
 * The pack's configuration, in the format of `pulumi preview --policy-pack-config <file>`: keys are
 * policy names (or "all"), values an enforcement level or an object of `enforcementLevel` and the
 * policy's own properties. Validated once here against each policy's `configSchema`, with its defaults.
 */
import type { EnforcementLevel } from "@pulumi/policy";
import Ajv from "ajv";
import { PACK_ENFORCEMENT_LEVEL, type PackPolicy } from "../pack";

const ENFORCEMENT_LEVELS: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

export interface PolicySettings {
  readonly enforcementLevel: EnforcementLevel;
  /** The policy's properties, schema defaults filled in. */
  readonly values: Readonly<Record<string, unknown>>;
}

export interface ConfigProblem {
  readonly key: string;
  readonly reason: string;
}

export class PolicyConfigError extends Error {
  readonly code = "POLICY_CONFIG_INVALID";
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(`Invalid policy pack configuration: ${problems.map((p) => `${p.key}: ${p.reason}`).join("; ")}`);
    this.name = "PolicyConfigError";
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isEnforcementLevel(value: unknown): value is EnforcementLevel {
  return ENFORCEMENT_LEVELS.includes(value as EnforcementLevel);
}

/** Every policy's effective settings, or a PolicyConfigError naming every bad key. */
export function resolvePackConfig(policies: readonly PackPolicy[], config: unknown = {}): Map<string, PolicySettings> {
  if (!isObject(config)) throw new PolicyConfigError([{ key: "(root)", reason: "must be an object of policy names" }]);
  const problems: ConfigProblem[] = [];
  const names = new Set(policies.map((p) => p.name));
  for (const key of Object.keys(config)) {
    if (key !== "all" && !names.has(key))
      problems.push({ key, reason: `is not a policy in this pack (known: all, ${[...names].join(", ")})` });
  }

  const levelIn = (key: string): EnforcementLevel | undefined => {
    const entry = config[key];
    const level = isObject(entry) ? entry["enforcementLevel"] : entry;
    if (level === undefined) return undefined;
    if (isEnforcementLevel(level)) return level;
    problems.push({ key: `${key}.enforcementLevel`, reason: `must be one of ${ENFORCEMENT_LEVELS.join(", ")}` });
    return undefined;
  };
  const allLevel = levelIn("all");
  if (isObject(config["all"]) && Object.keys(config["all"]).some((k) => k !== "enforcementLevel")) {
    problems.push({ key: "all", reason: "may only set enforcementLevel" });
  }

  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
  const settings = new Map<string, PolicySettings>();
  for (const policy of policies) {
    const entry = config[policy.name];
    if (entry !== undefined && !isObject(entry) && !isEnforcementLevel(entry)) {
      problems.push({
        key: policy.name,
        reason: `must be an enforcement level (${ENFORCEMENT_LEVELS.join(", ")}) or an object`,
      });
      continue;
    }
    const level = levelIn(policy.name);
    const { enforcementLevel: _level, ...given } = isObject(entry) ? entry : {};
    const values: Record<string, unknown> = { ...given };
    const validate = ajv.compile({
      type: "object",
      properties: policy.configSchema?.properties ?? {},
      required: policy.configSchema?.required ?? [],
      additionalProperties: false,
    });
    if (!validate(values)) {
      for (const error of validate.errors ?? []) {
        const extra = (error.params as { additionalProperty?: unknown }).additionalProperty;
        const key =
          typeof extra === "string"
            ? `${policy.name}.${extra}`
            : `${policy.name}${error.instancePath.replaceAll("/", ".")}`;
        problems.push({
          key,
          reason: typeof extra === "string" ? "is not a setting of this policy" : (error.message ?? "is invalid"),
        });
      }
    }
    settings.set(policy.name, {
      enforcementLevel: level ?? allLevel ?? policy.enforcementLevel ?? PACK_ENFORCEMENT_LEVEL,
      values,
    });
  }
  if (problems.length > 0) throw new PolicyConfigError(problems);
  return settings;
}
