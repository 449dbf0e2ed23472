/**
 * Who may assume a role, judged statement by statement, and the role's purpose derived from it.
 *
 * Every Allow statement of a trust policy must be one of the shapes this program uses; any other
 * statement (`Principal: "*"`, another account, a SAML provider, an unpinned service account) is a
 * problem, whatever else the document says. A role is a *workload role* when anything that runs in the
 * cluster can assume it:
 * - web identity (IRSA): `Federated: arn:aws:iam::<account>:oidc-provider/<issuer>`,
 *   `sts:AssumeRoleWithWebIdentity`, `<issuer>:sub` and `<issuer>:aud` pinned with StringEquals
 *   (https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html);
 * - EKS Pod Identity: `Service: pods.eks.amazonaws.com`, `sts:AssumeRole` and `sts:TagSession` (both), with
 *   `aws:RequestTag/kubernetes-namespace`, `aws:RequestTag/kubernetes-service-account` and
 *   `aws:RequestTag/eks-cluster-arn` pinned with StringEquals
 *   (https://docs.aws.amazon.com/eks/latest/userguide/pod-id-abac.html);
 * - an AWS principal: another workload role of this stack, by exact role ARN, with `sts:AssumeRole`
 *   (KEDA's fallback when its operator assumes the scaler's role).
 * A role trusted by `ec2.amazonaws.com` is a node role, by `eks.amazonaws.com` a cluster role.
 * The purpose of a workload role is `scaler` when every service account that can assume it is one of
 * the scaler's (`keda:keda-operator` by default), else `consumer`. docs/POLICY.md explains the
 * classification for the components that create roles.
 */
import { conditionValues, hasWildcard, statementLabel, type Principal, type Statement } from "./iam-document";
import { stringOf } from "./values";

export type Purpose = "consumer" | "scaler" | "node" | "cluster";

export const DEFAULT_AUDIENCE = "sts.amazonaws.com";
export const DEFAULT_SCALER_SERVICE_ACCOUNTS: readonly string[] = ["keda:keda-operator"];
export const POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com";

/** How a workload reaches the role. */
export type Route = "web-identity" | "pod-identity" | "aws-principal";

export interface TrustSettings {
  /** The audience projected service account tokens carry (`:aud`). */
  readonly audience: string;
  /** `<namespace>:<serviceaccount>` of the scaler's operator. */
  readonly scalerServiceAccounts: readonly string[];
}

/** Looks up a role of the stack by ARN and returns its purpose, or undefined when the stack has no such workload role. */
export type RolePurposeLookup = (roleArn: string) => Purpose | undefined;

export interface TrustAnalysis {
  /** Undefined when the document admits nothing this pack recognises (every statement is a problem). */
  readonly purpose: Purpose | undefined;
  readonly routes: readonly Route[];
  /** `namespace:serviceaccount` of every service account that can assume the role. */
  readonly serviceAccounts: readonly string[];
  readonly problems: readonly string[];
}

/** `system:serviceaccount:<namespace>:<name>`, both DNS labels/subdomains, no patterns. */
const SERVICE_ACCOUNT_SUBJECT =
  /^system:serviceaccount:([a-z0-9]([-a-z0-9]*[a-z0-9])?):([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/;
const DNS_NAME = /^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/;
const SUBJECT_PLACEHOLDER = "system:serviceaccount:<namespace>:<serviceaccount>";
const OIDC_PROVIDER_ARN = /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/(.+)$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]+$/;
const EKS_CLUSTER_ARN = /^arn:aws[a-z-]*:eks:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9][A-Za-z0-9_-]*$/;

const ROUTE_ACTIONS: Readonly<Record<Route | "node" | "cluster", readonly string[]>> = {
  "web-identity": ["sts:AssumeRoleWithWebIdentity"],
  "pod-identity": ["sts:AssumeRole", "sts:TagSession"],
  "aws-principal": ["sts:AssumeRole"],
  node: ["sts:AssumeRole"],
  cluster: ["sts:AssumeRole", "sts:TagSession"],
};

function actionProblems(statement: Statement, allowed: readonly string[], who: string): string[] {
  if (statement.hasNotAction)
    return [
      `${statementLabel(statement)} lets ${who} use NotAction, which allows every action not listed; allow only ${allowed.join(", ")}`,
    ];
  const extra = statement.actions.filter((a) => !allowed.some((b) => b.toLowerCase() === a.toLowerCase()));
  if (extra.length === 0 && statement.actions.length > 0) return [];
  const shown = extra.map((a) => `"${a}"`).join(", ") || "no Action";
  return [`${statementLabel(statement)} lets ${who} use ${shown}; allow only ${allowed.join(", ")}`];
}

/** Problems with one StringEquals pin: missing, StringLike, several values, a pattern, or failing `valid`. */
function pinProblems(
  statement: Statement,
  key: string,
  placeholder: string,
  valid: (value: string) => boolean,
): { problems: string[]; value?: string } {
  const values = conditionValues(statement.condition, "StringEquals", key);
  const label = statementLabel(statement);
  if (values.length === 0) {
    const like = conditionValues(statement.condition, "StringLike", key).length > 0;
    return {
      problems: [
        like
          ? `${label}: "${key}" is matched with StringLike, which accepts patterns; pin it with StringEquals to "${placeholder}"`
          : `${label}: "${key}" is not pinned; add Condition StringEquals "${key}": "${placeholder}"`,
      ],
    };
  }
  if (values.length > 1) return { problems: [`${label}: "${key}" lists ${values.length} values; pin exactly one`] };
  const value = values[0] ?? "";
  if (hasWildcard(value) || !valid(value))
    return { problems: [`${label}: "${key}" is "${value}", not one exact "${placeholder}"`] };
  return { problems: [], value };
}

function webIdentity(
  statement: Statement,
  issuer: string,
  settings: TrustSettings,
): { problems: string[]; serviceAccount?: string } {
  const problems = actionProblems(statement, ROUTE_ACTIONS["web-identity"], `OIDC provider ${issuer}`);
  const sub = pinProblems(statement, `${issuer}:sub`, SUBJECT_PLACEHOLDER, (v) => SERVICE_ACCOUNT_SUBJECT.test(v));
  const aud = pinProblems(statement, `${issuer}:aud`, settings.audience, (v) => v === settings.audience);
  problems.push(...sub.problems, ...aud.problems);
  const match = sub.value === undefined ? null : SERVICE_ACCOUNT_SUBJECT.exec(sub.value);
  return match === null ? { problems } : { problems, serviceAccount: `${match[1]}:${match[3]}` };
}

function podIdentity(statement: Statement): { problems: string[]; serviceAccount?: string } {
  const problems = actionProblems(statement, ROUTE_ACTIONS["pod-identity"], POD_IDENTITY_SERVICE);
  // EKS Pod Identity assumes the role with session tags, so STS checks sts:TagSession too: both are needed
  // (https://docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html).
  for (const needed of ROUTE_ACTIONS["pod-identity"]) {
    if (!statement.hasNotAction && !statement.actions.some((a) => a.toLowerCase() === needed.toLowerCase())) {
      problems.push(
        `${statementLabel(statement)} does not allow ${needed}, which EKS Pod Identity calls (it tags the session)`,
      );
    }
  }
  const namespace = pinProblems(statement, "aws:RequestTag/kubernetes-namespace", "<namespace>", (v) =>
    DNS_NAME.test(v),
  );
  const account = pinProblems(statement, "aws:RequestTag/kubernetes-service-account", "<serviceaccount>", (v) =>
    DNS_NAME.test(v),
  );
  const cluster = pinProblems(
    statement,
    "aws:RequestTag/eks-cluster-arn",
    "arn:aws:eks:<region>:<account>:cluster/<name>",
    (v) => EKS_CLUSTER_ARN.test(v),
  );
  problems.push(...namespace.problems, ...account.problems, ...cluster.problems);
  return namespace.value !== undefined && account.value !== undefined
    ? { problems, serviceAccount: `${namespace.value}:${account.value}` }
    : { problems };
}

/** Allow statements only: Deny statements can only take trust away. */
export function analyzeTrust(
  statements: readonly Statement[],
  settings: TrustSettings,
  lookup: RolePurposeLookup,
): TrustAnalysis {
  const problems: string[] = [];
  const routes = new Set<Route>();
  const services = new Set<"node" | "cluster">();
  const serviceAccounts: string[] = [];
  const assumedFrom: Purpose[] = [];
  for (const statement of statements.filter((s) => s.effect === "Allow")) {
    const label = statementLabel(statement);
    if (statement.hasNotPrincipal) {
      problems.push(
        `${label} uses NotPrincipal with Allow, which trusts every principal not listed; name the principal instead`,
      );
      routes.add("aws-principal");
      continue;
    }
    if (statement.principals.length === 0) problems.push(`${label} names no principal`);
    for (const principal of statement.principals) {
      problems.push(
        ...principalProblems(statement, principal, settings, lookup, {
          routes,
          services,
          serviceAccounts,
          assumedFrom,
        }),
      );
    }
    if (statement.hasNotResource || statement.resources.length > 0) {
      // Resource in a trust policy is invalid; IAM rejects it, so say so before deploying.
      problems.push(`${label} has a Resource element, which a trust policy cannot have`);
    }
  }
  if (routes.size > 0 && services.size > 0) {
    problems.push(
      `the role is trusted by workloads and by ${[...services].map((s) => (s === "node" ? "EC2 (a node role)" : "EKS (a cluster role)")).join(" and ")}; give each purpose its own role`,
    );
  }
  if (services.size > 1) problems.push("the role is trusted by both EC2 and EKS; give each purpose its own role");
  let purpose: Purpose | undefined;
  if (routes.size > 0) {
    const scaler =
      serviceAccounts.length + assumedFrom.length > 0 &&
      serviceAccounts.every((sa) => settings.scalerServiceAccounts.includes(sa)) &&
      assumedFrom.every((p) => p === "scaler");
    purpose = scaler ? "scaler" : "consumer";
  } else if (services.has("node")) purpose = "node";
  else if (services.has("cluster")) purpose = "cluster";
  return { purpose, routes: [...routes], serviceAccounts, problems };
}

interface Accumulator {
  readonly routes: Set<Route>;
  readonly services: Set<"node" | "cluster">;
  readonly serviceAccounts: string[];
  readonly assumedFrom: Purpose[];
}

function principalProblems(
  statement: Statement,
  principal: Principal,
  settings: TrustSettings,
  lookup: RolePurposeLookup,
  acc: Accumulator,
): string[] {
  const label = statementLabel(statement);
  switch (principal.kind) {
    case "*":
      acc.routes.add("aws-principal");
      return [`${label} lets any principal ("*") assume the role; trust one exact principal`];
    case "Federated": {
      const issuer = OIDC_PROVIDER_ARN.exec(principal.value)?.[1];
      if (issuer === undefined) {
        acc.routes.add("web-identity");
        return [
          `${label} trusts federated principal ${principal.value}, which is not an OIDC provider of an EKS cluster`,
        ];
      }
      acc.routes.add("web-identity");
      const result = webIdentity(statement, issuer, settings);
      if (result.serviceAccount !== undefined) acc.serviceAccounts.push(result.serviceAccount);
      return result.problems;
    }
    case "Service": {
      const service = principal.value.toLowerCase();
      if (service === POD_IDENTITY_SERVICE) {
        acc.routes.add("pod-identity");
        const result = podIdentity(statement);
        if (result.serviceAccount !== undefined) acc.serviceAccounts.push(result.serviceAccount);
        return result.problems;
      }
      if (service === "ec2.amazonaws.com") {
        acc.services.add("node");
        return actionProblems(statement, ROUTE_ACTIONS.node, principal.value);
      }
      if (service === "eks.amazonaws.com") {
        acc.services.add("cluster");
        return actionProblems(statement, ROUTE_ACTIONS.cluster, principal.value);
      }
      acc.routes.add("aws-principal");
      return [
        `${label} trusts service ${principal.value}, which has no role purpose in this pack (see docs/POLICY.md)`,
      ];
    }
    case "AWS": {
      acc.routes.add("aws-principal");
      const problems = actionProblems(statement, ROUTE_ACTIONS["aws-principal"], principal.value);
      if (!ROLE_ARN.test(principal.value)) {
        return [
          ...problems,
          `${label} trusts AWS principal ${principal.value}, which is not one exact role ARN (an account ID or :root trusts every identity the account allows)`,
        ];
      }
      const purpose = lookup(principal.value);
      if (purpose === undefined) {
        return [
          ...problems,
          `${label} trusts role ${principal.value}, which is not a workload role of this stack, so who assumes it cannot be checked`,
        ];
      }
      acc.assumedFrom.push(purpose);
      return problems;
    }
    default:
      acc.routes.add("aws-principal");
      return [
        `${label} trusts ${principal.kind} principal ${principal.value}; trust only the principals docs/POLICY.md lists`,
      ];
  }
}

/** A role's ARN as the stack knows it. */
export function roleArnOf(props: Readonly<Record<string, unknown>>): string | undefined {
  return stringOf(props["arn"]);
}
