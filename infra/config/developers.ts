/**
 * The developer concern of a created cluster (keys.ts CLUSTER_KEYS `developers`, `developerPods`,
 * `developerCpuMillicores`, `developerMemoryMiB`): who may run developer stacks on it, and what each such
 * stack may use.
 *
 * A developer is a person, named by a short lower-case word, and the IAM principal they reach the cluster
 * as: either a principal of their own (an IAM user, or a role only they assume), or a role people share
 * (an IAM Identity Center permission set's role), told apart by the session name each person's sessions
 * carry. A person owns the namespaces `<project>-<person>` and `<project>-<person>-*`, which is where the
 * stacks named `<person>` and `<person>-*` deploy (infra/names.ts `scopedName`). Person names hold no
 * hyphen, so no person's namespaces are a prefix of another's.
 */
import type { SettingProblem } from "../../consumer/src/contract";
import type { ConfigInput } from "./parse";

/** A person who may run developer stacks, and how the cluster recognises them. */
export interface Developer {
  /** Lower-case letters and digits, starting with a letter, up to 20 characters (PERSON_PATTERN). */
  readonly person: string;
  /** The IAM role or user they reach the cluster as (EKS matches access entries by it). */
  readonly principalArn: string;
  /**
   * The role session name of this person's sessions, when the role is shared (IAM Identity Center names a
   * session after the user); undefined when the principal is this person's alone.
   */
  readonly sessionName: string | undefined;
}

/** What each developer stack's namespace may use at once (its ResourceQuota). */
export interface DeveloperQuota {
  readonly pods: number;
  /** Total CPU requests, millicores. */
  readonly cpuMillicores: number;
  /** Total memory requests, and total memory limits, MiB. */
  readonly memoryMiB: number;
}

/** A person's name: it starts their stacks' names and namespaces, so no hyphen (see the module docs). */
export const PERSON_PATTERN = /^[a-z][a-z0-9]{0,19}$/;

const ENTRY_PATTERN = /^([^=\s]+)=(\S+)(?:\s+session=(\S+))?$/;
const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const USER_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:user\/[\w+=,.@/-]+$/;
/** IAM's RoleSessionName: 2 to 64 of `[\w+=,.@-]` (STS API reference, AssumeRole). */
const SESSION_NAME_PATTERN = /^[\w+=,.@-]{2,64}$/;

/** Whether `namespace` is one of `person`'s: `<project slug>-<person>` or `<project slug>-<person>-*`. */
export function personOwnsNamespace(projectSlug: string, person: string, namespace: string): boolean {
  const own = `${projectSlug}-${person}`;
  return namespace === own || namespace.startsWith(`${own}-`);
}

/**
 * `developers`: `<person>=<IAM role or user ARN>` or `<person>=<IAM role ARN> session=<session name>`. A person
 * is listed once; a principal of one's own belongs to one person and is not also shared; two people on one
 * role need session names EKS renders apart; an admin principal cannot also be a developer (EKS gives a
 * principal one access entry); no person's namespaces may take in this stack's own (`ownNamespace`).
 */
export function readDevelopers(
  input: ConfigInput,
  adminPrincipalArns: readonly string[],
  ownNamespace: { readonly projectSlug: string; readonly namespace: string },
  problems: SettingProblem[],
): Developer[] {
  const developers: Developer[] = [];
  const reasons: string[] = [];
  for (const text of input.values.developers) {
    const match = ENTRY_PATTERN.exec(text.trim());
    const [, person = "", principalArn = "", sessionName] = match ?? [];
    const isRole = ROLE_ARN_PATTERN.test(principalArn);
    if (!match || !(isRole || USER_ARN_PATTERN.test(principalArn))) {
      reasons.push(
        `${JSON.stringify(text)} is not <person>=<IAM role or user ARN> or <person>=<IAM role ARN> session=<session name>`,
      );
      continue;
    }
    const problem = developerProblem({ person, principalArn, sessionName }, isRole, developers, adminPrincipalArns);
    if (problem !== undefined) {
      reasons.push(problem);
    } else if (personOwnsNamespace(ownNamespace.projectSlug, person, ownNamespace.namespace)) {
      reasons.push(
        `"${person}" would own this stack's own namespace ${ownNamespace.namespace}; choose another person name`,
      );
    } else {
      developers.push({ person, principalArn, sessionName });
    }
  }
  if (reasons.length > 0) problems.push({ key: input.key("developers"), reason: reasons.join("; ") });
  return developers;
}

function developerProblem(
  candidate: Developer,
  isRole: boolean,
  earlier: readonly Developer[],
  adminPrincipalArns: readonly string[],
): string | undefined {
  const { person, principalArn, sessionName } = candidate;
  if (!PERSON_PATTERN.test(person)) {
    return `"${person}" is not a person name: lower-case letters and digits, starting with a letter, up to 20, no hyphen`;
  }
  if (sessionName !== undefined && !isRole)
    return `${principalArn} (for "${person}") is a user; only a role has sessions`;
  if (sessionName !== undefined && !SESSION_NAME_PATTERN.test(sessionName)) {
    return `"${sessionName}" (for "${person}") is not a role session name (2 to 64 of letters, digits and +=,.@_-)`;
  }
  if (earlier.some((other) => other.person === person)) return `"${person}" is listed twice`;
  if (adminPrincipalArns.includes(principalArn)) {
    return `${principalArn} (for "${person}") is in clusterAdminPrincipalArns; EKS gives a principal one access entry, and an admin needs no developer access`;
  }
  const samePrincipal = earlier.filter((other) => other.principalArn === principalArn);
  if (samePrincipal.some((other) => other.sessionName === undefined) || (samePrincipal.length > 0 && !sessionName)) {
    return `${principalArn} is listed for "${person}" and for ${samePrincipal.map((o) => `"${o.person}"`).join(", ")}; a shared role needs session=<session name> on every entry`;
  }
  // Usernames carry the session name unchanged (`{{SessionNameRaw}}`, infra/developer-access.ts), so only an
  // equal session name gives two people one username.
  const twin = samePrincipal.find((other) => other.sessionName === sessionName);
  if (twin !== undefined) {
    return `"${person}" and "${twin.person}" have the same session name on ${principalArn}, so they would be one Kubernetes user`;
  }
  return undefined;
}

/** The quota of each developer stack's namespace. */
export function readDeveloperQuota(input: ConfigInput): DeveloperQuota {
  const { developerPods, developerCpuMillicores, developerMemoryMiB } = input.values;
  return { pods: developerPods, cpuMillicores: developerCpuMillicores, memoryMiB: developerMemoryMiB };
}

/**
 * `developerCleanupPrincipalArn`: the cleanup job's IAM role, or undefined when unset. A role ARN; not an admin
 * (an admin needs no narrower entry, and EKS gives a principal one access entry) nor a developer's principal.
 */
export function readDeveloperCleanup(
  input: ConfigInput,
  adminPrincipalArns: readonly string[],
  developers: readonly Developer[],
  problems: SettingProblem[],
): string | undefined {
  const arn = input.values.developerCleanupPrincipalArn;
  if (arn === "") return undefined;
  const reason = !ROLE_ARN_PATTERN.test(arn)
    ? `${JSON.stringify(arn)} is not an IAM role ARN`
    : adminPrincipalArns.includes(arn)
      ? `${arn} is in clusterAdminPrincipalArns; the cleanup job needs its own, narrower access entry (EKS gives a principal one)`
      : developers.some((d) => d.principalArn === arn)
        ? `${arn} is a developer's principal; EKS gives a principal one access entry`
        : undefined;
  if (reason === undefined) return arn;
  problems.push({ key: input.key("developerCleanupPrincipalArn"), reason });
  return undefined;
}
