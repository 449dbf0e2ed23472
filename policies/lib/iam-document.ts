/**
 * IAM policy documents, normalised: the JSON grammar allows a string or a list almost everywhere, and
 * the rules want lists.
 */
import { isRecord, listOf, parseJsonObject, recordOf, stringsOf, type Parsed, type Props } from "./values";

export interface Statement {
  readonly effect: string;
  /** The Principal block; `"*"` stays a string. */
  readonly principal: unknown;
  readonly actions: readonly string[];
  readonly hasNotAction: boolean;
  readonly resources: readonly string[];
  readonly hasNotResource: boolean;
  readonly condition: Props;
}

/** The statements of a policy document given as a JSON string or an object. */
export function parsePolicyDocument(value: unknown): Parsed<readonly Statement[]> {
  const document = parseJsonObject(value);
  if (!document.ok) return document;
  const statements: Statement[] = [];
  for (const raw of listOf(document.value["Statement"])) {
    if (!isRecord(raw)) return { ok: false, reason: "has a Statement entry that is not an object" };
    statements.push({
      effect: typeof raw["Effect"] === "string" ? raw["Effect"] : "",
      principal: raw["Principal"],
      actions: stringsOf(raw["Action"]),
      hasNotAction: raw["NotAction"] !== undefined,
      resources: stringsOf(raw["Resource"]),
      hasNotResource: raw["NotResource"] !== undefined,
      condition: recordOf(raw["Condition"]),
    });
  }
  return { ok: true, value: statements };
}

/** An Allow statement that lets identities of an OIDC provider (an EKS cluster's) assume the role. */
export interface OidcTrust {
  readonly statement: Statement;
  /** The provider's issuer host and path, e.g. `oidc.eks.eu-west-1.amazonaws.com/id/ABC`: the condition key prefix. */
  readonly issuer: string;
}

const OIDC_PROVIDER_ARN = /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/(.+)$/;

export function oidcTrusts(statements: readonly Statement[]): OidcTrust[] {
  const trusts: OidcTrust[] = [];
  for (const statement of statements) {
    if (statement.effect !== "Allow" || !isRecord(statement.principal)) continue;
    for (const federated of stringsOf(statement.principal["Federated"])) {
      const issuer = OIDC_PROVIDER_ARN.exec(federated)?.[1];
      if (issuer !== undefined) trusts.push({ statement, issuer });
    }
  }
  return trusts;
}

/** True when an action or resource pattern matches more than one literal name. */
export function hasWildcard(pattern: string): boolean {
  return pattern.includes("*") || pattern.includes("?");
}
