/**
 * Parse primitives shared by every concern: the raw input, each declared key read by its type from
 * CONFIG_KEYS (keys.ts), enum checks, unknown keys, and `aws:region`, the one key of another namespace the
 * program reads. A bad value is recorded as a problem and replaced by its default, so the other checks
 * still run and one error names every bad key.
 */
import type { SettingProblem } from "../../consumer/src/contract";
import {
  CONFIG_KEYS,
  CONFIG_KEY_NAMES,
  CONSUMER_KEY,
  FORMER_KEYS,
  DEFAULT_REGION,
  PROJECT,
  fullKey,
  type ConfigKey,
  type ConfigKeySpec,
  type KeyValues,
} from "./keys";

/** The raw input: the stack's identity and its config map (`namespace:key` -> string, as Pulumi passes it). */
export interface RawStackConfig {
  readonly project: string;
  readonly stack: string;
  /** The Pulumi organization, when known; used to tell a stack from the stack it borrows from. */
  readonly organization?: string;
  readonly values: Readonly<Record<string, string>>;
}

/** What every concern's `read<Concern>` gets: the declared keys, parsed, and the raw input. */
export interface ConfigInput {
  readonly values: KeyValues;
  readonly raw: RawStackConfig;
  /** A key's full name in this project's namespace (`<project>:<key>`), for problems and raw look-ups. */
  readonly key: (key: string) => string;
}

/** The input every concern reads: the declared keys parsed under the running project's namespace. */
export function configInput(raw: RawStackConfig, problems: SettingProblem[]): ConfigInput {
  const key = (name: string) => fullKey(raw.project, name);
  return { values: readDeclaredKeys(raw.values, key, problems), raw, key };
}

/** Parses each declared key by its type, falling back to the default when unset (or unparsable, with a problem). */
function readDeclaredKeys(
  raw: Readonly<Record<string, string>>,
  fullName: (key: string) => string,
  problems: SettingProblem[],
): KeyValues {
  const values: Record<string, string | number | boolean | readonly string[]> = {};
  for (const key of CONFIG_KEY_NAMES) {
    const spec: ConfigKeySpec = CONFIG_KEYS[key];
    const given = raw[fullName(key)];
    if (given === undefined || given.trim() === "") {
      values[key] = spec.default;
      continue;
    }
    const parsed = parseValue(spec, given.trim());
    if (typeof parsed === "object" && "problem" in parsed) {
      problems.push({ key: fullName(key), reason: parsed.problem });
      values[key] = spec.default;
    } else {
      values[key] = parsed;
    }
  }
  return values as KeyValues;
}

function parseValue(
  spec: ConfigKeySpec,
  text: string,
): string | number | boolean | readonly string[] | { problem: string } {
  switch (spec.type) {
    case "string":
      return text;
    case "boolean":
      if (text === "true" || text === "false") return text === "true";
      return { problem: `must be true or false, got "${text}"` };
    case "integer": {
      if (!/^-?\d+$/.test(text)) return { problem: `must be a whole number of ${spec.unit}, got "${text}"` };
      const n = Number(text);
      if (n < spec.min || n > spec.max)
        return { problem: `must be between ${spec.min} and ${spec.max} ${spec.unit}, got ${n}` };
      return n;
    }
    case "array": {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return { problem: `must be a list of strings, got ${JSON.stringify(text)}` };
      }
      if (!Array.isArray(parsed) || !parsed.every((item): item is string => typeof item === "string")) {
        return { problem: `must be a list of strings, got ${text}` };
      }
      return parsed;
    }
  }
}

/** The value if it is one of `allowed`; otherwise records a problem naming the choices and returns undefined. */
export function checkEnum<T extends string>(
  input: ConfigInput,
  key: ConfigKey,
  value: string,
  allowed: readonly T[],
  problems: SettingProblem[],
): T | undefined {
  const match = allowed.find((candidate) => candidate === value);
  if (match === undefined)
    problems.push({ key: input.key(key), reason: `must be one of ${allowed.join(", ")}, got "${value}"` });
  return match;
}

/**
 * Keys the program would not read in the namespaces it owns: the running project's (typos, removed keys)
 * and, after the project was renamed, the one this repository ships with (PROJECT), whose keys a copied
 * stack file or an old `pulumi config set` left behind. Either would otherwise be ignored in silence, and
 * an ignored `clusterMode: borrow` means a new cluster.
 */
export function unknownKeys(raw: RawStackConfig): SettingProblem[] {
  const names = [...CONFIG_KEY_NAMES, CONSUMER_KEY];
  const known = new Set<string>(names.map((name) => fullKey(raw.project, name)));
  const problems: SettingProblem[] = [];
  for (const key of Object.keys(raw.values)) {
    const [namespace, name = ""] = key.split(/:(.*)/s);
    const former = Object.hasOwn(FORMER_KEYS, name) ? FORMER_KEYS[name] : undefined;
    if (namespace === raw.project && !known.has(key)) {
      problems.push({ key, reason: former ?? `unknown config key; known: ${names.join(", ")}` });
    } else if (namespace === PROJECT && raw.project !== PROJECT) {
      const hint = names.includes(name) ? `; set it as ${fullKey(raw.project, name)}` : "";
      problems.push({
        key,
        reason: `this project is named ${raw.project} (Pulumi.yaml), so keys under ${PROJECT}: are not read${hint}`,
      });
    }
  }
  return problems;
}

const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** The region name; a value that is not shaped like one (e.g. eu-west-1) is a problem on `aws:region`. */
export function readRegion(input: ConfigInput, problems: SettingProblem[]): string {
  const region = input.raw.values["aws:region"]?.trim() || DEFAULT_REGION;
  if (!REGION_PATTERN.test(region)) {
    problems.push({ key: "aws:region", reason: `"${region}" is not an AWS region name (e.g. eu-west-1)` });
  }
  return region;
}
