/**
 * Resource-based policies other than the queues' (SNS topics, ECR repositories and the registry, KMS keys,
 * S3 buckets): who they let in (resource-policy-not-public), and whether the alarm topic still works
 * (alarm-topic-deliverable).
 * Sources: IAM user guide "AWS JSON policy elements: Principal" (`*` is everyone, anonymous included) and
 * "The confused deputy problem" (aws:SourceAccount / aws:SourceArn for service principals); SNS developer
 * guide "Encryption at rest: key management" (CloudWatch needs kms:Decrypt and kms:GenerateDataKey* in the
 * key policy; the AWS managed aws/sns key cannot grant it); CloudWatch user guide "Using Amazon SNS to
 * notify" (CloudWatch publishes as cloudwatch.amazonaws.com).
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import {
  conditionKeys,
  hasWildcard,
  parsePolicyDocument,
  statementLabel,
  wildcardMatches,
  type Statement,
} from "../lib/iam-document";
import { ofType, refersTo, type StackResource } from "../lib/stack";
import { AWS, kindOf } from "../lib/types";
import { Decisions } from "../lib/undecided";
import { listOf, materialize, recordOf, stringOf } from "../lib/values";

/** Resource types that hold a resource-based policy document, and the property holding it. */
export const RESOURCE_POLICY_HOLDERS: Readonly<Record<string, string>> = {
  [AWS.snsTopic]: "policy",
  [AWS.snsTopicPolicy]: "policy",
  [AWS.ecrRepositoryPolicy]: "policy",
  [AWS.ecrRegistryPolicy]: "policy",
  [AWS.kmsKey]: "policy",
  [AWS.kmsKeyPolicy]: "policy",
  "aws:s3/bucketPolicy:BucketPolicy": "policy",
};

/** Condition keys that pin who calls to an account, organisation, source or network. */
const PINNING_KEYS = [
  "aws:sourceaccount",
  "aws:sourcearn",
  "aws:sourceowner",
  "aws:principalaccount",
  "aws:principalarn",
  "aws:principalorgid",
  "aws:sourcevpc",
  "aws:sourcevpce",
  "kms:calleraccount",
];
const PINNING_OPERATORS = ["StringEquals", "ArnEquals", "ArnLike", "StringLike"];

/** The 12-digit accounts that own the stack's resources, read from their ARNs. */
export function stackAccounts(resources: readonly StackResource[]): Set<string> {
  const accounts = new Set<string>();
  for (const r of resources) {
    const arn = stringOf(r.props["arn"]);
    const account = arn === undefined ? undefined : /^arn:[^:]+:[^:]+:[^:]*:(\d{12}):/.exec(arn)?.[1];
    if (account !== undefined) accounts.add(account);
  }
  return accounts;
}

/** Whether a statement's conditions pin callers to the stack's accounts (a value without wildcards that names one). */
function pinnedToStack(statement: Statement, accounts: Set<string>): boolean {
  return Object.entries(statement.condition).some(([operator, block]) => {
    if (!PINNING_OPERATORS.includes(operator)) return false;
    return Object.entries(recordOf(block)).some(([key, value]) => {
      if (!PINNING_KEYS.includes(key.toLowerCase())) return false;
      const values = listOf(value).map(String);
      return (
        values.length > 0 &&
        values.every((v) => {
          const account = /^\d{12}$/.test(v) ? v : /^arn:[^:]+:[^:]+:[^:]*:(\d{12}):/.exec(v)?.[1];
          if (key.toLowerCase() === "aws:principalorgid" || key.toLowerCase().startsWith("aws:sourcevpc"))
            return !hasWildcard(v);
          return account !== undefined && accounts.has(account);
        })
      );
    });
  });
}

/** What an Allow statement of a resource policy lets in that it should not. */
function statementProblems(statement: Statement, accounts: Set<string>): string[] {
  const label = statementLabel(statement);
  if (statement.hasNotPrincipal) return [`${label} allows NotPrincipal, which admits every principal not listed`];
  const problems: string[] = [];
  for (const principal of statement.principals) {
    if (principal.kind === "*") {
      if (!pinnedToStack(statement, accounts))
        problems.push(
          `${label} allows any principal ("*") without a condition pinning the caller to this stack's account (aws:SourceAccount, aws:SourceArn, aws:PrincipalAccount, aws:PrincipalOrgID)`,
        );
      continue;
    }
    if (principal.kind === "AWS") {
      const account = /^\d{12}$/.test(principal.value)
        ? principal.value
        : /^arn:[^:]+:iam::(\d{12}):/.exec(principal.value)?.[1];
      if (account === undefined || !accounts.has(account))
        problems.push(`${label} allows AWS principal ${principal.value}, outside this stack's account`);
      continue;
    }
    if (principal.kind === "Service") {
      if (!pinnedToStack(statement, accounts))
        problems.push(
          `${label} allows service ${principal.value} without aws:SourceAccount or aws:SourceArn pinned to this stack's account, so another account's resources can use it (confused deputy)`,
        );
      continue;
    }
    problems.push(`${label} allows ${principal.kind} principal ${principal.value}`);
  }
  return problems;
}

export const resourcePolicyNotPublic: StackValidationPolicy = {
  name: "resource-policy-not-public",
  description:
    "No resource policy (SNS topic, ECR repository or registry, KMS key, S3 bucket) lets in anyone outside the stack's account: no Principal \"*\" or service principal without a condition pinning the caller's account or source, no other account, no NotPrincipal.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const accounts = stackAccounts(args.resources);
    const decisions = new Decisions();
    for (const grant of ofType(args.resources, AWS.kmsGrant)) {
      decisions.decide(`Grant "${grant.name}"`, () => {
        for (const field of ["granteePrincipal", "retiringPrincipal"]) {
          const principal = stringOf(materialize(grant.props[field]));
          if (principal === undefined) continue;
          const account = /^arn:[^:]+:iam::(\d{12}):/.exec(principal)?.[1];
          if (account === undefined || !accounts.has(account))
            reportViolation(
              `Grant "${grant.name}": ${field} ${principal} is outside this stack's account, so it may use the key; grant only this account's roles.`,
              grant.urn,
            );
        }
      });
    }
    for (const resource of args.resources) {
      const key = RESOURCE_POLICY_HOLDERS[resource.type];
      if (key === undefined) continue;
      const label = `${kindOf(resource.type)} "${resource.name}"`;
      decisions.decide(`${label} .${key}`, () => {
        const raw = materialize(resource.props[key]);
        if (raw === undefined || raw === "") return;
        const document = parsePolicyDocument(raw);
        if (!document.ok) {
          reportViolation(`${label}: .${key} ${document.reason}, so who it lets in cannot be checked.`, resource.urn);
          return;
        }
        for (const statement of document.value.filter((s) => s.effect === "Allow"))
          for (const problem of statementProblems(statement, accounts))
            reportViolation(
              `${label}: ${problem}; name this account's principals, or pin the condition.`,
              resource.urn,
            );
      });
    }
    decisions.settle();
  },
};

const CLOUDWATCH = "cloudwatch.amazonaws.com";
const KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"];

function principalCovers(statement: Statement, service: string): boolean {
  return statement.principals.some(
    (p) => p.kind === "*" || (p.kind === "Service" && p.value.toLowerCase() === service),
  );
}

function actionCovers(statement: Statement, action: string): boolean {
  if (statement.hasNotAction) return !statement.notActions.some((a) => wildcardMatches(a, action, true));
  return statement.actions.some((a) => wildcardMatches(a, action, true));
}

/** Whether a Deny only bites insecure transport (which CloudWatch never uses). */
function onlyInsecureTransport(statement: Statement): boolean {
  const keys = conditionKeys(statement.condition);
  return keys.length > 0 && keys.every((k) => k.key === "aws:securetransport");
}

/** Why `document` does not let CloudWatch use `actions`; undefined when it does. */
function cloudWatchBlocked(document: unknown, actions: readonly string[], what: string): string | undefined {
  const parsed = parsePolicyDocument(document);
  if (!parsed.ok) return `${what} ${parsed.reason}`;
  for (const action of actions) {
    const allowed = parsed.value.some(
      (s) =>
        s.effect === "Allow" &&
        !s.hasNotPrincipal &&
        principalCovers(s, CLOUDWATCH) &&
        actionCovers(s, action) &&
        (s.hasNotResource || s.resources.length > 0),
    );
    if (!allowed) return `${what} does not allow ${CLOUDWATCH} ${action}`;
    const denied = parsed.value.find(
      (s) =>
        s.effect === "Deny" &&
        (s.hasNotPrincipal || principalCovers(s, CLOUDWATCH)) &&
        actionCovers(s, action) &&
        !onlyInsecureTransport(s),
    );
    if (denied !== undefined) return `${what} ${statementLabel(denied)} denies ${CLOUDWATCH} ${action}`;
  }
  return undefined;
}

/** Every policy document on `topic`: its own `policy` and each TopicPolicy naming it. */
function topicPolicies(
  topic: StackResource,
  resources: readonly StackResource[],
): { what: string; document: unknown }[] {
  const found: { what: string; document: unknown }[] = [];
  const own = materialize(topic.props["policy"]);
  if (own !== undefined && own !== "") found.push({ what: `its policy`, document: own });
  for (const policy of ofType(resources, AWS.snsTopicPolicy))
    if (refersTo(topic, policy.props["arn"]))
      found.push({ what: `TopicPolicy "${policy.name}"`, document: materialize(policy.props["policy"]) });
  return found;
}

/** Every key policy of `key`: its own `policy` and each KeyPolicy naming it. */
function keyPolicies(key: StackResource, resources: readonly StackResource[]): { what: string; document: unknown }[] {
  const found: { what: string; document: unknown }[] = [];
  const own = materialize(key.props["policy"]);
  if (own !== undefined && own !== "") found.push({ what: `key "${key.name}" policy`, document: own });
  for (const policy of ofType(resources, AWS.kmsKeyPolicy))
    if (refersTo(key, policy.props["keyId"]))
      found.push({ what: `KeyPolicy "${policy.name}"`, document: materialize(policy.props["policy"]) });
  return found;
}

/** Why CloudWatch cannot publish to `topic`; undefined when it can. */
function topicBlocked(topic: StackResource, resources: readonly StackResource[]): string | undefined {
  for (const { what, document } of topicPolicies(topic, resources)) {
    const blocked = cloudWatchBlocked(document, ["sns:Publish"], what);
    if (blocked !== undefined) return blocked;
  }
  const keyRef = stringOf(materialize(topic.props["kmsMasterKeyId"]));
  if (keyRef === undefined || keyRef === "") return undefined;
  if (keyRef === "alias/aws/sns" || keyRef.endsWith(":alias/aws/sns"))
    return `it is encrypted with the AWS managed key aws/sns, whose policy cannot let ${CLOUDWATCH} use it`;
  const aliases = ofType(resources, AWS.kmsAlias).filter(
    (a) => refersTo(a, keyRef) || stringOf(a.props["name"]) === keyRef,
  );
  const key = ofType(resources, AWS.kmsKey).find(
    (k) =>
      refersTo(k, keyRef) ||
      aliases.some((a) => refersTo(k, a.props["targetKeyId"])) ||
      stringOf(k.props["keyId"]) === keyRef,
  );
  if (key === undefined)
    return `its KMS key ${keyRef} is not a key of this stack, so whether CloudWatch may use it cannot be checked`;
  const policies = keyPolicies(key, resources);
  // A key policy is required; without one in the stack, KMS's default lets only the account's IAM principals in.
  if (policies.length === 0) return `key "${key.name}" has no key policy letting ${CLOUDWATCH} use it`;
  for (const { what, document } of policies) {
    const blocked = cloudWatchBlocked(document, KEY_ACTIONS, what);
    if (blocked !== undefined) return blocked;
  }
  return undefined;
}

export const alarmTopicDeliverable: StackValidationPolicy = {
  name: "alarm-topic-deliverable",
  description:
    "Every SNS topic of this stack that an alarm notifies lets CloudWatch publish: its topic policy allows cloudwatch.amazonaws.com sns:Publish, and its KMS key (not aws/sns) is a key of this stack whose policy allows CloudWatch kms:Decrypt and kms:GenerateDataKey*.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const decisions = new Decisions();
    const topics = ofType(args.resources, AWS.snsTopic);
    for (const alarm of ofType(args.resources, AWS.metricAlarm)) {
      decisions.decide(`MetricAlarm "${alarm.name}"`, () => {
        const actions = listOf(materialize(alarm.props["alarmActions"])).filter(
          (a): a is string => typeof a === "string",
        );
        for (const action of actions) {
          const topic = topics.find((t) => refersTo(t, action));
          if (topic === undefined) continue;
          const blocked = topicBlocked(topic, args.resources);
          if (blocked !== undefined)
            reportViolation(
              `MetricAlarm "${alarm.name}" notifies topic "${topic.name}", but CloudWatch cannot deliver to it: ${blocked}; the alarm would fire and tell no one.`,
              alarm.urn,
            );
        }
      });
    }
    decisions.settle();
  },
};
