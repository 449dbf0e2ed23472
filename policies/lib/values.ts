/**
 * Narrowing helpers for resource properties. The engine hands policies untyped property bags (inputs
 * for resource checks, outputs for stack checks), so every rule reads them through these.
 */

export type Props = Readonly<Record<string, unknown>>;

export function isRecord(value: unknown): value is Props {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The record at `value`, or an empty one: absent blocks read as "nothing set". */
export function recordOf(value: unknown): Props {
  return isRecord(value) ? value : {};
}

/** Arrays as they are, a single value as a one-element array, absent as empty (IAM's "string or list"). */
export function listOf(value: unknown): readonly unknown[] {
  if (Array.isArray(value)) return value as unknown[];
  return value === undefined || value === null ? [] : [value];
}

export function stringOf(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** Strings in a "string or list" value; other entries are dropped. */
export function stringsOf(value: unknown): string[] {
  return listOf(value).filter((v): v is string => typeof v === "string");
}

/** A whole number given as a number or a numeric string (JSON documents use both), else undefined. */
export function integerOf(value: unknown): number | undefined {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  return typeof n === "number" && Number.isInteger(n) ? n : undefined;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/**
 * A JSON document property: providers take IAM and redrive documents as JSON strings, but a program may
 * also pass the object itself. Returns the object, or why it is not one.
 */
export function parseJsonObject(value: unknown): Parsed<Props> {
  if (isRecord(value)) return { ok: true, value };
  if (typeof value !== "string") return { ok: false, reason: "is not set" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { ok: false, reason: "is not valid JSON" };
  }
  return isRecord(parsed) ? { ok: true, value: parsed } : { ok: false, reason: "is not a JSON object" };
}

/** `a.b.c` lookups through optional records. */
export function pathOf(value: unknown, ...keys: readonly string[]): unknown {
  let current: unknown = value;
  for (const key of keys) {
    if (!isRecord(current)) return undefined;
    current = current[key];
  }
  return current;
}

/**
 * A plain copy of a value read from the engine's property proxy. Reading every nested value through the
 * proxy throws the SDK's UnknownValueError when any part is unknown at preview, so a rule learns that
 * before it draws conclusions from a partial document.
 */
export function materialize(value: unknown): unknown {
  if (value === undefined) return undefined;
  return (JSON.parse(JSON.stringify({ value })) as { value?: unknown }).value;
}
