/**
 * What the cleanup job deletes for one expired developer stack, decided from trusted facts only: the stack's
 * name, the people the platform lists, and what AWS and Kubernetes say about each object (its name, its tags,
 * its labels). Never from the stack's state: a developer writes their stack's state, and a destroy run from it
 * would configure providers (a kubeconfig's exec command, a plugin download URL) from what they wrote and run
 * them with the job's credentials. So the job never runs `pulumi destroy`; it deletes, with its own calls, what
 * it can show is the stack's, then drops the state with `pulumi stack rm --force` (which runs no provider).
 *
 * An object is the stack's when:
 * - Kubernetes: it is the namespace the stack deploys into (`<project>-<stack>`, infra/names.ts `scopedName`)
 *   and carries PERSON_LABEL with the stack's person (which the platform's admission policy sets at creation
 *   and keeps); the namespace's deletion takes everything in it.
 * - AWS: it carries the tags every resource of the program carries (`Project`, `Stack`; index.ts) with the
 *   project and the stack, and, when it has a name, the name is the person's (`<project>-<person>` or
 *   `<project>-<person>-*`): a tag alone could be put on another person's resource, a name cannot be another
 *   person's. KMS keys have no name; their tags decide. An EKS Pod Identity association is the stack's when it
 *   is in the stack's namespace on the job's cluster.
 * Sources: Resource Groups Tagging API `GetResources` (tag filters); ARN formats from the Service Authorization
 * Reference (SQS, ECR, SNS, CloudWatch, KMS, IAM, EKS).
 */
import { NAME_LIMITS, scopedName } from "../../infra/names";

/** The expired stack and where the job runs. */
export interface StackScope {
  readonly project: string;
  /** The stack's own name (`<person>` or `<person>-<anything>`). */
  readonly stack: string;
  readonly person: string;
  /** The EKS cluster the job cleans up in (the platform's). */
  readonly cluster: string;
  readonly region: string;
}

/** One deletion: the IAM action and resource it needs, and the `aws` command line that makes it. */
export interface Deletion {
  /** `<kind> <name or ARN>`, for the log. */
  readonly what: string;
  readonly action: string;
  readonly resource: string;
  readonly argv: readonly string[];
}

/** An item of `aws resourcegroupstaggingapi get-resources` (`ResourceTagMappingList`). */
export interface TaggedResource {
  readonly ResourceARN: string;
  readonly Tags?: readonly { readonly Key: string; readonly Value: string }[];
}

/** A role of the account as the job found it: `aws iam list-roles`, `list-role-tags`, `list-role-policies`. */
export interface FoundRole {
  readonly name: string;
  readonly arn: string;
  readonly tags: readonly { readonly Key: string; readonly Value: string }[];
  readonly inlinePolicies: readonly string[];
}

/** An item of `aws eks list-pod-identity-associations` (`associations`). */
export interface FoundAssociation {
  readonly associationArn: string;
  readonly associationId: string;
  readonly namespace: string;
}

/** The namespace the stack deploys into (index.ts, `scopedName(scope, "", kubernetesNamespace)`). */
export function stackNamespace(scope: Pick<StackScope, "project" | "stack">): string {
  return scopedName({ project: scope.project, stack: scope.stack }, "", NAME_LIMITS.kubernetesNamespace);
}

/** Whether a physical name is one of `person`'s: `<project>-<person>` or `<project>-<person>-*`. */
export function isPersonsName(scope: Pick<StackScope, "project" | "person">, name: string): boolean {
  const own = `${scope.project}-${scope.person}`;
  return name === own || name.startsWith(`${own}-`);
}

function hasStackTags(scope: StackScope, tags: TaggedResource["Tags"]): boolean {
  const value = (key: string) => tags?.find((tag) => tag.Key === key)?.Value;
  return value("Project") === scope.project && value("Stack") === scope.stack;
}

/** The tag filters of the `get-resources` call that finds the stack's AWS resources. */
export function tagFilters(scope: StackScope): string[] {
  return [`Key=Project,Values=${scope.project}`, `Key=Stack,Values=${scope.stack}`];
}

const ARN = /^arn:([a-z-]+):([a-z0-9-]+):([a-z0-9-]*):(\d{12}):(.+)$/;

/** What the job deletes and what it leaves (with why), from what AWS listed. */
export interface AwsPlan {
  readonly deletions: readonly Deletion[];
  readonly skipped: readonly string[];
}

/**
 * The AWS deletions for one stack: its Pod Identity associations first (they name its roles), then queues,
 * repositories (with their images), topics and alarms, then roles (their inline policies first, as IAM
 * requires), then KMS keys (scheduled for deletion after KMS's shortest waiting period, 7 days).
 */
export function awsDeletions(
  scope: StackScope,
  tagged: readonly TaggedResource[],
  roles: readonly FoundRole[],
  associations: readonly FoundAssociation[],
): AwsPlan {
  const region = ["--region", scope.region];
  const namespace = stackNamespace(scope);
  const first: Deletion[] = associations
    .filter((association) => association.namespace === namespace)
    .map((association) => ({
      what: `pod identity association ${association.associationId}`,
      action: "eks:DeletePodIdentityAssociation",
      resource: association.associationArn,
      argv: [
        "eks",
        "delete-pod-identity-association",
        "--cluster-name",
        scope.cluster,
        "--association-id",
        association.associationId,
        ...region,
      ],
    }));
  const middle: Deletion[] = [];
  const keys: Deletion[] = [];
  const skipped: string[] = [];
  for (const resource of tagged) {
    const arn = resource.ResourceARN;
    const match = ARN.exec(arn);
    if (match === null || !hasStackTags(scope, resource.Tags)) {
      skipped.push(`${arn}: not tagged Project=${scope.project}, Stack=${scope.stack}`);
      continue;
    }
    const [, , service = "", arnRegion = "", account = "", rest = ""] = match;
    const named = (kind: string, name: string, deletion: Omit<Deletion, "what" | "resource">) => {
      if (isPersonsName(scope, name)) middle.push({ what: `${kind} ${name}`, resource: arn, ...deletion });
      else skipped.push(`${arn}: the name is not ${scope.person}'s (${scope.project}-${scope.person}[-...])`);
    };
    if (service === "sqs") {
      named("queue", rest, {
        action: "sqs:DeleteQueue",
        argv: [
          "sqs",
          "delete-queue",
          "--queue-url",
          `https://sqs.${arnRegion}.amazonaws.com/${account}/${rest}`,
          ...region,
        ],
      });
    } else if (service === "ecr" && rest.startsWith("repository/")) {
      const name = rest.slice("repository/".length);
      named("ECR repository", name, {
        action: "ecr:DeleteRepository",
        argv: ["ecr", "delete-repository", "--repository-name", name, "--force", ...region],
      });
    } else if (service === "sns") {
      named("topic", rest, { action: "sns:DeleteTopic", argv: ["sns", "delete-topic", "--topic-arn", arn, ...region] });
    } else if (service === "cloudwatch" && rest.startsWith("alarm:")) {
      const name = rest.slice("alarm:".length);
      named("alarm", name, {
        action: "cloudwatch:DeleteAlarms",
        argv: ["cloudwatch", "delete-alarms", "--alarm-names", name, ...region],
      });
    } else if (service === "kms" && rest.startsWith("key/")) {
      keys.push({
        what: `KMS key ${rest.slice("key/".length)}`,
        action: "kms:ScheduleKeyDeletion",
        resource: arn,
        argv: ["kms", "schedule-key-deletion", "--key-id", arn, "--pending-window-in-days", "7", ...region],
      });
    } else if (!(service === "eks" && rest.startsWith("podidentityassociation/"))) {
      skipped.push(`${arn}: not a type a developer stack makes`);
    }
  }
  const roleDeletions: Deletion[] = [];
  for (const role of roles) {
    if (!isPersonsName(scope, role.name) || !hasStackTags(scope, role.tags)) continue;
    for (const policy of role.inlinePolicies) {
      roleDeletions.push({
        what: `role policy ${role.name}/${policy}`,
        action: "iam:DeleteRolePolicy",
        resource: role.arn,
        argv: ["iam", "delete-role-policy", "--role-name", role.name, "--policy-name", policy],
      });
    }
    roleDeletions.push({
      what: `role ${role.name}`,
      action: "iam:DeleteRole",
      resource: role.arn,
      argv: ["iam", "delete-role", "--role-name", role.name],
    });
  }
  return { deletions: [...first, ...middle, ...roleDeletions, ...keys], skipped };
}

/**
 * Whether an `aws` or `kubectl` failure says the object is already gone (a listing can lag a deletion): the
 * job counts it as deleted.
 */
export function alreadyGone(message: string): boolean {
  return /NotFound|NonExistent|does not exist|not found/i.test(message);
}
