/**
 * Parse primitives shared by every concern: the raw input, each declared key read by its type from
 * CONFIG_KEYS (keys.ts), enum checks, and unknown keys. A bad value is recorded as a problem and replaced
 * by its default, so the other checks still run and one error names every bad key.
 */
import type { SettingProblem } from "../../consumer/src/contract";
import { CONFIG_KEYS, CONFIG_KEY_NAMES, CONSUMER_KEY, PROJECT, fullKey, type ConfigKey, type ConfigKeySpec, type KeyValues } from "./keys";

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
}

/** Parses each declared key by its type, falling back to the default when unset (or unparsable, with a problem). */
export function readDeclaredKeys(raw: Readonly<Record<string, string>>, problems: SettingProblem[]): KeyValues {
  const values: Record<string, string | number | readonly string[]> = {};
  for (const key of CONFIG_KEY_NAMES) {
    const spec: ConfigKeySpec = CONFIG_KEYS[key];
    const given = raw[fullKey(key)];
    if (given === undefined || given.trim() === "") {
      values[key] = spec.default;
      continue;
    }
    const parsed = parseValue(spec, given.trim());
    if (typeof parsed === "object" && "problem" in parsed) {
      problems.push({ key: fullKey(key), reason: parsed.problem });
      values[key] = spec.default;
    } else {
      values[key] = parsed;
    }
  }
  return values as KeyValues;
}

function parseValue(spec: ConfigKeySpec, text: string): string | number | readonly string[] | { problem: string } {
  switch (spec.type) {
    case "string":
      return text;
    case "integer": {
      if (!/^-?\d+$/.test(text)) return { problem: `must be a whole number of ${spec.unit}, got "${text}"` };
      const n = Number(text);
      if (n < spec.min || n > spec.max) return { problem: `must be between ${spec.min} and ${spec.max} ${spec.unit}, got ${n}` };
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
  key: ConfigKey,
  value: string,
  allowed: readonly T[],
  problems: SettingProblem[],
): T | undefined {
  const match = allowed.find((candidate) => candidate === value);
  if (match === undefined) problems.push({ key: fullKey(key), reason: `must be one of ${allowed.join(", ")}, got "${value}"` });
  return match;
}

/** Keys in the project's namespace that neither CONFIG_KEYS nor the consumer block declare (typos, removed keys). */
export function unknownKeys(values: Readonly<Record<string, string>>): SettingProblem[] {
  const known = new Set<string>([...CONFIG_KEY_NAMES, CONSUMER_KEY].map(fullKey));
  return Object.keys(values)
    .filter((key) => key.startsWith(`${PROJECT}:`) && !known.has(key))
    .map((key) => ({ key, reason: `unknown config key; known: ${[...CONFIG_KEY_NAMES, CONSUMER_KEY].join(", ")}` }));
}
