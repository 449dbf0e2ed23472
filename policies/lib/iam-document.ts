/**
 * IAM policy documents, normalised: the JSON grammar allows a string or a list almost everywhere, and
 * the rules want lists. Grammar: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
 */
import { isRecord, listOf, parseJsonObject, recordOf, stringsOf, type Parsed, type Props } from "./values";

/** One principal of a Principal block: `"*"` is `{ kind: "*", value: "*" }`. */
export interface Principal {
  readonly kind: "*" | "AWS" | "Service" | "Federated" | "CanonicalUser" | "other";
  readonly value: string;
}

export interface Statement {
  /** Position in the document, for messages: `statement 2`. */
  readonly index: number;
  readonly sid: string | undefined;
  readonly effect: string;
  /** The Principal block; `"*"` stays a string. */
  readonly principal: unknown;
  readonly principals: readonly Principal[];
  readonly hasNotPrincipal: boolean;
  readonly actions: readonly string[];
  readonly hasNotAction: boolean;
  readonly notActions: readonly string[];
  readonly resources: readonly string[];
  readonly hasNotResource: boolean;
  readonly condition: Props;
}

/** The principals a Principal block names, one entry per value. */
export function principalsOf(block: unknown): Principal[] {
  if (block === "*") return [{ kind: "*", value: "*" }];
  if (!isRecord(block)) return [];
  const principals: Principal[] = [];
  for (const [key, value] of Object.entries(block)) {
    const kind = (["AWS", "Service", "Federated", "CanonicalUser"] as const).find((k) => k === key) ?? "other";
    for (const entry of stringsOf(value))
      principals.push({ kind: kind === "AWS" && entry === "*" ? "*" : kind, value: entry });
  }
  return principals;
}

/** The statements of a policy document given as a JSON string or an object. */
export function parsePolicyDocument(value: unknown): Parsed<readonly Statement[]> {
  const document = parseJsonObject(value);
  if (!document.ok) return document;
  const statements: Statement[] = [];
  let index = 0;
  for (const raw of listOf(document.value["Statement"])) {
    index += 1;
    if (!isRecord(raw)) return { ok: false, reason: "has a Statement entry that is not an object" };
    statements.push({
      index,
      sid: typeof raw["Sid"] === "string" ? raw["Sid"] : undefined,
      effect: typeof raw["Effect"] === "string" ? raw["Effect"] : "",
      principal: raw["Principal"],
      principals: principalsOf(raw["Principal"]),
      hasNotPrincipal: raw["NotPrincipal"] !== undefined,
      actions: stringsOf(raw["Action"]),
      hasNotAction: raw["NotAction"] !== undefined,
      notActions: stringsOf(raw["NotAction"]),
      resources: stringsOf(raw["Resource"]),
      hasNotResource: raw["NotResource"] !== undefined,
      condition: recordOf(raw["Condition"]),
    });
  }
  return { ok: true, value: statements };
}

/** `statement 2 ("Sid")`: how messages point at a statement. */
export function statementLabel(statement: Statement): string {
  return statement.sid === undefined
    ? `statement ${statement.index}`
    : `statement ${statement.index} ("${statement.sid}")`;
}

/** True when an action or resource pattern matches more than one literal name. */
export function hasWildcard(pattern: string): boolean {
  return pattern.includes("*") || pattern.includes("?");
}

/**
 * Whether an IAM pattern (`*` any run of characters, `?` one character) matches `value`. Actions compare
 * case-insensitively, ARNs case-sensitively.
 */
export function wildcardMatches(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = [...pattern]
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`, ignoreCase ? "is" : "s").test(value);
}

/**
 * The values a condition block compares `key` with under `operator` (`StringEquals`, ...); IAM compares
 * condition keys case-insensitively. Operators with the `ForAnyValue:`/`ForAllValues:` prefixes and the
 * `IfExists` suffix are different operators and are not returned.
 */
export function conditionValues(condition: Props, operator: string, key: string): string[] {
  const wanted = key.toLowerCase();
  for (const [k, v] of Object.entries(recordOf(condition[operator]))) {
    if (k.toLowerCase() === wanted) return listOf(v).map(String);
  }
  return [];
}

/** Every `operator` / key pair of a condition block, keys lower-cased. */
export function conditionKeys(condition: Props): { operator: string; key: string }[] {
  return Object.entries(condition).flatMap(([operator, block]) =>
    Object.keys(recordOf(block)).map((key) => ({ operator, key: key.toLowerCase() })),
  );
}
