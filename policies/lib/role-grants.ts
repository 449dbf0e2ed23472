/**
 * Every way a permissions policy reaches a role in a stack: the role's own `inlinePolicies` and
 * `managedPolicyArns`, `aws.iam.RolePolicy`, and `aws.iam.RolePolicyAttachment`,
 * `aws.iam.RolePolicyAttachmentsExclusive` (`policyArns`) and `aws.iam.PolicyAttachment` of an
 * `aws.iam.Policy` of the stack or of any other policy ARN (an AWS managed policy).
 * `aws.iam.RolePoliciesExclusive` only names a role's inline policies, whose documents arrive through
 * `aws.iam.RolePolicy` or `inlinePolicies`, so it adds no grant of its own (it is still a reference to the
 * role, and one to a role outside the stack is reported). IAM has no other route to a role's permissions
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_manage-attach-detach.html). Stack outputs also echo separate resources' grants in the role's own
 * `inlinePolicies` and `managedPolicyArns`, so repeated documents and ARNs are reported once.
 */
import { ofType, refersTo, type StackResource } from "./stack";
import { AWS } from "./types";
import { isUnknownValueError } from "./undecided";
import { listOf, materialize, parseJsonObject, recordOf, stringOf, stringsOf } from "./values";

/** A permissions document reaching a role, or a policy ARN the stack does not define. */
export type Grant =
  /** `read` returns the document; it throws the SDK's UnknownValueError when the document is unknown at preview. */
  | { readonly kind: "document"; readonly label: string; readonly urn: string; readonly read: () => unknown }
  | { readonly kind: "foreign"; readonly policyArn: string; readonly urn: string };

/** The policies that attach to roles, and which role reference each holds. */
export function roleReferences(resource: StackResource): readonly unknown[] {
  if (resource.type === AWS.rolePolicy || resource.type === AWS.rolePolicyAttachment) return [resource.props["role"]];
  if (resource.type === AWS.policyAttachment) return listOf(resource.props["roles"]);
  if (resource.type === AWS.rolePolicyAttachmentsExclusive || resource.type === AWS.rolePoliciesExclusive)
    return [resource.props["roleName"]];
  return [];
}

export const ATTACHING_TYPES: readonly string[] = [
  AWS.rolePolicy,
  AWS.rolePolicyAttachment,
  AWS.policyAttachment,
  AWS.rolePolicyAttachmentsExclusive,
  AWS.rolePoliciesExclusive,
];

/** The policy ARNs an attaching resource attaches (none for role policies, which carry a document). */
export function attachedPolicyArns(resource: StackResource): readonly unknown[] {
  if (resource.type === AWS.rolePolicyAttachment || resource.type === AWS.policyAttachment)
    return [resource.props["policyArn"]];
  if (resource.type === AWS.rolePolicyAttachmentsExclusive) return listOf(resource.props["policyArns"]);
  return [];
}

function attachedPolicy(policyArn: unknown, urn: string, resources: readonly StackResource[]): Grant {
  const policy = ofType(resources, AWS.policy).find((p) => refersTo(p, policyArn));
  if (policy === undefined) return { kind: "foreign", policyArn: String(policyArn), urn };
  return {
    kind: "document",
    label: `policy "${policy.name}"`,
    urn: policy.urn,
    read: (): unknown => policy.props["policy"],
  };
}

function isEmptyInline(fields: Readonly<Record<string, unknown>>): boolean {
  try {
    return fields["policy"] === undefined || fields["policy"] === "";
  } catch (error) {
    if (isUnknownValueError(error)) return false; // unknown at preview: judged (as undecided) later
    throw error;
  }
}

/** A document's content as a de-duplication key; its own label when it is unreadable or unknown at preview. */
function documentKey(grant: Extract<Grant, { kind: "document" }>): string {
  try {
    const parsed = parseJsonObject(materialize(grant.read()));
    if (parsed.ok) return `document:${JSON.stringify(parsed.value)}`;
  } catch (error) {
    if (!isUnknownValueError(error)) throw error;
  }
  return `unparsed:${grant.urn}:${grant.label}`;
}

/** Every grant reaching `role`, each once. */
export function grantsOf(role: StackResource, resources: readonly StackResource[]): Grant[] {
  const grants: Grant[] = [];
  for (const resource of resources.filter((r) => ATTACHING_TYPES.includes(r.type))) {
    if (!roleReferences(resource).some((ref) => refersTo(role, ref))) continue;
    if (resource.type === AWS.rolePolicy) {
      grants.push({
        kind: "document",
        label: `role policy "${resource.name}"`,
        urn: resource.urn,
        read: (): unknown => resource.props["policy"],
      });
    } else {
      for (const policyArn of attachedPolicyArns(resource))
        grants.push(attachedPolicy(policyArn, resource.urn, resources));
    }
  }
  listOf(role.props["inlinePolicies"]).forEach((inline, index) => {
    const fields = recordOf(inline);
    // The provider reports a role without inline policies as one empty entry.
    if (isEmptyInline(fields)) return;
    const name = stringOf(fields["name"]) ?? `#${index}`;
    grants.push({
      kind: "document",
      label: `inline policy "${name}"`,
      urn: role.urn,
      read: (): unknown => fields["policy"],
    });
  });
  for (const policyArn of stringsOf(role.props["managedPolicyArns"]))
    grants.push(attachedPolicy(policyArn, role.urn, resources));
  const seen = new Set<string>();
  return grants.filter((grant) => {
    const key = grant.kind === "foreign" ? `arn:${grant.policyArn}` : documentKey(grant);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The name of an AWS managed policy ARN (`arn:<partition>:iam::aws:policy/<name>`), else undefined. */
export function awsManagedPolicyName(policyArn: string): string | undefined {
  return /^arn:aws[a-z-]*:iam::aws:policy\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/.exec(policyArn)?.[1];
}
