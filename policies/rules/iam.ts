/** IAM: IRSA trust policies and the permissions of workload roles. */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { configWithDefaults } from "../lib/config";
import { hasWildcard, oidcTrusts, parsePolicyDocument, type OidcTrust } from "../lib/iam-document";
import { ofType, refersTo, type StackResource } from "../lib/stack";
import { AWS } from "../lib/types";
import { listOf, recordOf, stringOf, stringsOf, type Props } from "../lib/values";

export const DEFAULT_AUDIENCE = "sts.amazonaws.com";

/** `system:serviceaccount:<namespace>:<name>`, both DNS labels/subdomains, no patterns. */
const SERVICE_ACCOUNT_SUBJECT = /^system:serviceaccount:[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/;
const SUBJECT_PLACEHOLDER = "system:serviceaccount:<namespace>:<serviceaccount>";

/** A condition block's value for `key`; IAM compares condition keys case-insensitively. */
function conditionValues(block: unknown, key: string): unknown[] {
  const wanted = key.toLowerCase();
  for (const [k, v] of Object.entries(recordOf(block))) {
    if (k.toLowerCase() === wanted) return [...listOf(v)];
  }
  return [];
}

function trustProblems(trust: OidcTrust, audience: string): string[] {
  const { statement, issuer } = trust;
  const problems: string[] = [];
  const otherActions = statement.actions.filter((a) => a.toLowerCase() !== "sts:assumerolewithwebidentity");
  if (statement.hasNotAction || otherActions.length > 0 || statement.actions.length === 0) {
    const shown = statement.hasNotAction ? "NotAction" : otherActions.map((a) => `"${a}"`).join(", ") || "no Action";
    problems.push(`it allows ${shown}; allow only "sts:AssumeRoleWithWebIdentity"`);
  }

  const subKey = `${issuer}:sub`;
  const subjects = conditionValues(statement.condition["StringEquals"], subKey);
  if (subjects.length === 0) {
    problems.push(
      conditionValues(statement.condition["StringLike"], subKey).length > 0
        ? `"${subKey}" is matched with StringLike, which accepts patterns; pin it with StringEquals to "${SUBJECT_PLACEHOLDER}"`
        : `"${subKey}" is not pinned; add Condition StringEquals "${subKey}": "${SUBJECT_PLACEHOLDER}"`,
    );
  } else if (subjects.length > 1) {
    problems.push(`"${subKey}" lists ${subjects.length} subjects; pin exactly one service account`);
  } else {
    const subject = String(subjects[0]);
    if (hasWildcard(subject) || !SERVICE_ACCOUNT_SUBJECT.test(subject)) {
      problems.push(`"${subKey}" is "${subject}", not one exact service account; use "${SUBJECT_PLACEHOLDER}" without wildcards`);
    }
  }

  const audKey = `${issuer}:aud`;
  const audiences = conditionValues(statement.condition["StringEquals"], audKey);
  if (audiences.length === 0) {
    problems.push(`"${audKey}" is not pinned; add Condition StringEquals "${audKey}": "${audience}"`);
  } else if (audiences.length !== 1 || audiences[0] !== audience) {
    const shown = audiences.map((a) => `"${String(a)}"`).join(", ");
    problems.push(`"${audKey}" is ${shown}; it must be "${audience}" alone`);
  }
  return problems;
}

export const irsaTrustPinned: ResourceValidationPolicy = {
  name: "irsa-trust-pinned",
  description:
    "A role that trusts an OIDC provider pins `:sub` to one exact service account and `:aud` to sts.amazonaws.com with StringEquals.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      audience: {
        type: "string",
        minLength: 1,
        default: DEFAULT_AUDIENCE,
        description: "The audience the projected service account token must carry (`:aud`).",
      },
    },
  },
  validateResource: (args, reportViolation) => {
    if (args.type !== AWS.role) return;
    const { audience } = configWithDefaults(args, { audience: DEFAULT_AUDIENCE });
    const document = parsePolicyDocument(args.props["assumeRolePolicy"]);
    if (!document.ok) {
      reportViolation(`Role "${args.name}": assumeRolePolicy ${document.reason}, so its trust cannot be checked; pass the trust policy as a JSON document.`);
      return;
    }
    for (const trust of oidcTrusts(document.value)) {
      for (const problem of trustProblems(trust, audience)) {
        reportViolation(`Role "${args.name}" trusts OIDC provider ${trust.issuer}: ${problem}.`);
      }
    }
  },
};

/** Whether a role is a workload role: one that pods assume through an OIDC provider (IRSA). */
export function isWorkloadRole(props: Props): boolean {
  const document = parsePolicyDocument(props["assumeRolePolicy"]);
  return document.ok && oidcTrusts(document.value).length > 0;
}

/** A permissions document reaching a workload role, or an attached ARN the stack does not define. */
type Grant =
  | { readonly kind: "document"; readonly label: string; readonly urn: string; readonly document: unknown }
  | { readonly kind: "foreign"; readonly policyArn: string; readonly urn: string };

/**
 * Every grant reaching `role`, separate resources first. Stack outputs also echo those grants in the
 * role's own `inlinePolicies` and `managedPolicyArns`, so the caller drops repeated documents and ARNs.
 */
function grantsOf(role: StackResource, resources: readonly StackResource[]): Grant[] {
  const grants: Grant[] = [];
  for (const rolePolicy of ofType(resources, AWS.rolePolicy)) {
    if (refersTo(role, rolePolicy.props["role"])) {
      grants.push({ kind: "document", label: `role policy "${rolePolicy.name}"`, urn: rolePolicy.urn, document: rolePolicy.props["policy"] });
    }
  }
  const attached: { policyArn: unknown; urn: string }[] = [];
  for (const attachment of ofType(resources, AWS.rolePolicyAttachment)) {
    if (refersTo(role, attachment.props["role"])) attached.push({ policyArn: attachment.props["policyArn"], urn: attachment.urn });
  }
  for (const attachment of ofType(resources, AWS.policyAttachment)) {
    if (listOf(attachment.props["roles"]).some((ref) => refersTo(role, ref))) {
      attached.push({ policyArn: attachment.props["policyArn"], urn: attachment.urn });
    }
  }
  listOf(role.props["inlinePolicies"]).forEach((inline, index) => {
    const fields = recordOf(inline);
    // The provider reports a role without inline policies as one empty entry.
    if (fields["policy"] === undefined || fields["policy"] === "") return;
    const name = stringOf(fields["name"]) ?? `#${index}`;
    grants.push({ kind: "document", label: `inline policy "${name}"`, urn: role.urn, document: fields["policy"] });
  });
  for (const policyArn of stringsOf(role.props["managedPolicyArns"])) attached.push({ policyArn, urn: role.urn });
  for (const { policyArn, urn } of attached) {
    const policy = ofType(resources, AWS.policy).find((p) => refersTo(p, policyArn));
    if (policy === undefined) grants.push({ kind: "foreign", policyArn: String(policyArn), urn });
    else grants.push({ kind: "document", label: `policy "${policy.name}"`, urn: policy.urn, document: policy.props["policy"] });
  }
  return grants;
}

/** A grant's identity for de-duplication: the attached ARN, or the document's content. */
function grantKey(grant: Grant): string {
  if (grant.kind === "foreign") return `arn:${grant.policyArn}`;
  const parsed = parsePolicyDocument(grant.document);
  return parsed.ok ? `document:${JSON.stringify(parsed.value)}` : `unparsed:${grant.urn}:${grant.label}`;
}

function documentProblems(document: unknown): string[] {
  const parsed = parsePolicyDocument(document);
  if (!parsed.ok) return [`${parsed.reason}, so it cannot be checked; pass the policy as a JSON document`];
  const problems: string[] = [];
  for (const statement of parsed.value) {
    if (statement.effect !== "Allow") continue;
    if (statement.hasNotAction) problems.push(`allows NotAction, which grants every action not listed; list the allowed actions instead`);
    for (const action of statement.actions.filter(hasWildcard)) {
      problems.push(`allows wildcard action "${action}"; list the exact actions the workload calls`);
    }
    if (statement.hasNotResource) problems.push(`allows NotResource, which grants every resource not listed; name the resources instead`);
    for (const resource of statement.resources.filter(hasWildcard)) {
      problems.push(`allows wildcard resource "${resource}"; name the exact ARN of each queue (or other resource) it uses`);
    }
  }
  return problems;
}

export const workloadRoleLeastPrivilege: StackValidationPolicy = {
  name: "workload-role-least-privilege",
  description:
    "Policies reaching a workload (IRSA) role grant no wildcard actions such as `*` or `sqs:*` and no wildcard or account-wide resources.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    for (const role of ofType(args.resources, AWS.role).filter((r) => isWorkloadRole(r.props))) {
      const seen = new Set<string>();
      for (const grant of grantsOf(role, args.resources)) {
        const key = grantKey(grant);
        if (seen.has(key)) continue;
        seen.add(key);
        if (grant.kind === "foreign") {
          reportViolation(
            `Workload role "${role.name}" has policy ${grant.policyArn} attached, which this stack does not define, so its permissions cannot be checked; attach only policies this stack defines, scoped to the workload's own resources.`,
            grant.urn,
          );
          continue;
        }
        for (const problem of documentProblems(grant.document)) {
          reportViolation(`Workload role "${role.name}": ${grant.label} ${problem}.`, grant.urn);
        }
      }
    }
  },
};
