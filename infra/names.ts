/**
 * Physical names, scoped by project and stack, so that every stack of this program (including several
 * per-developer stacks sharing one cluster and one AWS account) owns distinct AWS and Kubernetes names.
 *
 * A name is `<project>-<stack>-<role>`, lower-cased. When the stack name has characters a name may not
 * carry, or the whole would exceed the service's length limit, the scope is shortened and an 8-character
 * hash of `<project>/<stack>` keeps it unique: two stacks never map to the same name.
 */
import { createHash } from "node:crypto";

/** The stack a name belongs to. */
export interface NameScope {
  readonly project: string;
  readonly stack: string;
}

/** Length limits of the names this program sets (characters). */
export const NAME_LIMITS = {
  iamRole: 64,
  sqsQueue: 80,
  ecrRepository: 256,
  eksCluster: 100,
  eksNodeGroup: 63,
  launchTemplate: 128,
  /** Name prefixes: the AWS provider appends a 26-character unique suffix (terraform-provider-aws `id.UniqueId`). */
  iamRolePrefix: 38,
  eksNodeGroupPrefix: 37,
  launchTemplatePrefix: 102,
  kubernetesNamespace: 63,
} as const;

const HASH_LENGTH = 8;

/** SQS requires a FIFO queue's name to end in `.fifo`; the suffix counts toward the 80 characters. */
export const FIFO_QUEUE_SUFFIX = ".fifo";

/** A queue's scoped name within SQS's 80 characters, `.fifo` included for a FIFO queue. */
export function sqsQueueName(scope: NameScope, role: string, fifo: boolean): string {
  if (!fifo) return scopedName(scope, role, NAME_LIMITS.sqsQueue);
  return `${scopedName(scope, role, NAME_LIMITS.sqsQueue - FIFO_QUEUE_SUFFIX.length)}${FIFO_QUEUE_SUFFIX}`;
}

/**
 * `<project>-<stack>-<role>` within `maxLength` characters, using only lower-case letters, digits and
 * hyphens (the intersection of what IAM, SQS, ECR, EKS and Kubernetes namespaces accept).
 */
export function scopedName(scope: NameScope, role: string, maxLength: number): string {
  const suffix = role === "" ? "" : `-${role}`;
  const scopeText = `${scope.project}-${scope.stack}`;
  const slug = slugify(scopeText);
  const plain = `${slug}${suffix}`;
  if (slug === scopeText && plain.length <= maxLength) return plain;
  const hash = createHash("sha256").update(`${scope.project}/${scope.stack}`).digest("hex").slice(0, HASH_LENGTH);
  const room = maxLength - suffix.length - HASH_LENGTH - 1;
  if (room < 1) throw new Error(`role "${role}" leaves no room for a scoped name within ${maxLength} characters`);
  const head = slug.slice(0, room).replace(/-+$/, "");
  return `${head}-${hash}${suffix}`;
}

/** Lower-case letters, digits and single hyphens, no hyphen at either end: the form every scoped name takes. */
export function slugify(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}
