/**
 * IAM, judged by what documents allow: who may assume each role (role-trust-pinned), and what every
 * policy reaching a role allows against the allow-list of the role's purpose (role-least-privilege).
 * The purpose comes from the trust policy (lib/role-trust.ts); the grants from every resource of the
 * stack that attaches a policy to the role (lib/role-grants.ts).
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { configWithDefaults } from "../lib/config";
import { parsePolicyDocument } from "../lib/iam-document";
import { awsManagedPolicyName, grantsOf, roleReferences, ATTACHING_TYPES } from "../lib/role-grants";
import { CLUSTER_MANAGED_POLICIES, DEFAULT_NODE_MANAGED_POLICIES, judgeDocument } from "../lib/role-permissions";
import {
  analyzeTrust,
  DEFAULT_AUDIENCE,
  DEFAULT_SCALER_SERVICE_ACCOUNTS,
  roleArnOf,
  type Purpose,
  type TrustAnalysis,
  type TrustSettings,
} from "../lib/role-trust";
import { designatesQueue, ofType, refersTo, type StackResource } from "../lib/stack";
import { AWS, kindOf } from "../lib/types";
import { Decisions } from "../lib/undecided";
import { materialize, parseJsonObject } from "../lib/values";

export { DEFAULT_AUDIENCE };

const TRUST_CONFIG = {
  properties: {
    audience: {
      type: "string",
      minLength: 1,
      default: DEFAULT_AUDIENCE,
      description: "The audience the projected service account token must carry (`:aud`).",
    },
    scalerServiceAccounts: {
      type: "array",
      items: { type: "string", pattern: "^[a-z0-9][-a-z0-9]*:[a-z0-9][-.a-z0-9]*$" },
      default: DEFAULT_SCALER_SERVICE_ACCOUNTS,
      description:
        "`<namespace>:<serviceaccount>` of the autoscaler's operator; roles only they assume get the scaler's allow-list.",
    },
  },
} as const;

type Analyses = Map<string, TrustAnalysis>;

/**
 * The trust analysis of every role whose trust policy is known, keyed by URN. Roles trusted through
 * another role (an AWS principal) get that role's purpose, so roles are analysed twice: first without
 * lookups, then with the first pass's purposes.
 */
function analyzeRoles(roles: readonly StackResource[], settings: TrustSettings, decisions: Decisions): Analyses {
  const first = new Map<string, Purpose | undefined>();
  const analyses: Analyses = new Map();
  for (const pass of [1, 2]) {
    const lookup = (arn: string): Purpose | undefined => {
      const role = roles.find((r) => roleArnOf(r.props) === arn);
      const purpose = role === undefined ? undefined : first.get(role.urn);
      return purpose === "consumer" || purpose === "scaler" ? purpose : undefined;
    };
    for (const role of roles) {
      const subject = `Role "${role.name}" .assumeRolePolicy`;
      const run = () => {
        const document = parsePolicyDocument(role.props["assumeRolePolicy"]);
        if (!document.ok) return;
        const analysis = analyzeTrust(document.value, settings, pass === 1 ? () => "consumer" : lookup);
        if (pass === 1) first.set(role.urn, analysis.purpose);
        else analyses.set(role.urn, analysis);
      };
      if (pass === 1) new Decisions().decide(subject, run);
      else decisions.decide(subject, run);
    }
  }
  return analyses;
}

function trustSettings(args: { getConfig<C extends object>(): C }): TrustSettings {
  return configWithDefaults(args, {
    audience: DEFAULT_AUDIENCE,
    scalerServiceAccounts: DEFAULT_SCALER_SERVICE_ACCOUNTS,
  });
}

export const roleTrustPinned: StackValidationPolicy = {
  name: "role-trust-pinned",
  description:
    "Every Allow statement of every role's trust policy is a recognised, pinned route: IRSA (one service account, sts.amazonaws.com), EKS Pod Identity (namespace, service account and cluster pinned), a workload role of this stack, EC2 for nodes, EKS for the cluster.",
  enforcementLevel: "mandatory",
  configSchema: TRUST_CONFIG,
  validateStack: (args, reportViolation) => {
    const decisions = new Decisions();
    const roles = ofType(args.resources, AWS.role);
    for (const role of roles) {
      decisions.decide(`Role "${role.name}" .assumeRolePolicy`, () => {
        const document = parsePolicyDocument(role.props["assumeRolePolicy"]);
        if (!document.ok) {
          reportViolation(
            `Role "${role.name}": assumeRolePolicy ${document.reason}, so who may assume it cannot be checked; pass the trust policy as a JSON document.`,
            role.urn,
          );
        }
      });
    }
    for (const [urn, analysis] of analyzeRoles(roles, trustSettings(args), decisions)) {
      const role = roles.find((r) => r.urn === urn);
      for (const problem of analysis.problems) reportViolation(`Role "${role?.name ?? urn}": ${problem}.`, urn);
    }
    decisions.settle();
  },
};

/** Problems with the grants reaching one role of a known purpose. */
async function roleProblems(
  role: StackResource,
  purpose: Purpose,
  resources: readonly StackResource[],
  nodePolicies: readonly string[],
  decisions: Decisions,
): Promise<{ message: string; urn: string }[]> {
  const problems: { message: string; urn: string }[] = [];
  const queues = ofType(resources, AWS.queue);
  const named = new Set<string>();
  let grants: ReturnType<typeof grantsOf> = [];
  decisions.decide(`Role "${role.name}" grants`, () => {
    grants = grantsOf(role, resources);
  });
  const managedAllowed = purpose === "node" ? nodePolicies : purpose === "cluster" ? CLUSTER_MANAGED_POLICIES : [];
  for (const grant of grants) {
    if (grant.kind === "foreign") {
      const managed = awsManagedPolicyName(grant.policyArn);
      if (managed !== undefined && managedAllowed.includes(managed)) continue;
      const why =
        managed === undefined
          ? "which this stack does not define, so what it allows cannot be checked"
          : `an AWS managed policy, which a ${purpose} role may not carry (allowed: ${managedAllowed.join(", ") || "none"})`;
      problems.push({
        message: `${kindOf(AWS.role)} "${role.name}" (${purpose}) has policy ${grant.policyArn} attached, ${why}.`,
        urn: grant.urn,
      });
      continue;
    }
    let document: unknown;
    decisions.decide(`Role "${role.name}" ${grant.label}`, () => {
      document = materialize(grant.read());
    });
    if (document === undefined) continue;
    const verdict = await judgeDocument(document, purpose, queues);
    // A consumer may read any of the stack's queues' attributes (its DLQ's depth): that reaches no message.
    (purpose === "consumer" ? verdict.queues : [...verdict.queues, ...verdict.metadataQueues]).forEach((q) =>
      named.add(q),
    );
    for (const problem of verdict.problems)
      problems.push({ message: `Role "${role.name}" (${purpose}): ${grant.label} ${problem}.`, urn: grant.urn });
  }
  if ((purpose === "consumer" || purpose === "scaler") && named.size > 1) {
    const [verb, duty] = purpose === "scaler" ? ["read", "watches"] : ["act on", "serves"];
    problems.push({
      message: `Role "${role.name}" (${purpose}) may ${verb} ${named.size} queues; a ${purpose} role ${duty} exactly one queue.`,
      urn: role.urn,
    });
  }
  // A scaler only reads attributes, harmless on any queue; a consumer on a DLQ could drain the evidence.
  for (const urn of purpose === "consumer" ? named : []) {
    const deadLetterOf = queues.find((q) =>
      isDeadLetterTarget(
        q,
        queues.find((d) => d.urn === urn),
      ),
    );
    if (deadLetterOf === undefined) continue;
    const name = queues.find((q) => q.urn === urn)?.name ?? urn;
    problems.push({
      message: `Role "${role.name}" (${purpose}) may act on "${name}", the dead-letter queue of "${deadLetterOf.name}"; workloads serve the source queue, and moving dead letters back is an operator's redrive.`,
      urn: role.urn,
    });
  }
  return problems;
}

export const roleLeastPrivilege: StackValidationPolicy = {
  name: "role-least-privilege",
  description:
    "Every policy reaching a role (inline, RolePolicy, attached Policy, AWS managed ARN) allows only its purpose's actions: the consumer's SQS actions or the scaler's sqs:GetQueueAttributes on queues of this stack, the listed AWS managed policies for node and cluster roles; no policy attaches to a role outside the stack.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      ...TRUST_CONFIG.properties,
      nodeManagedPolicies: {
        type: "array",
        items: { type: "string", minLength: 1 },
        default: DEFAULT_NODE_MANAGED_POLICIES,
        description: "Names of the AWS managed policies a node role may carry.",
      },
    },
  },
  validateStack: async (args, reportViolation) => {
    const decisions = new Decisions();
    const { nodeManagedPolicies } = configWithDefaults(args, { nodeManagedPolicies: DEFAULT_NODE_MANAGED_POLICIES });
    const roles = ofType(args.resources, AWS.role);
    const analyses = analyzeRoles(roles, trustSettings(args), decisions);
    for (const role of roles) {
      const purpose = analyses.get(role.urn)?.purpose;
      if (purpose === undefined) continue; // role-trust-pinned reports roles it cannot classify
      for (const { message, urn } of await roleProblems(role, purpose, args.resources, nodeManagedPolicies, decisions))
        reportViolation(message, urn);
    }
    for (const resource of args.resources.filter((r) => ATTACHING_TYPES.includes(r.type))) {
      decisions.decide(`${kindOf(resource.type)} "${resource.name}" role`, () => {
        const refs = roleReferences(resource);
        const outside = refs.filter((ref) => !roles.some((role) => refersTo(role, ref)));
        if (outside.length > 0) {
          reportViolation(
            `${kindOf(resource.type)} "${resource.name}" attaches a policy to role ${outside.map(String).join(", ")}, which this stack does not define, so that role's purpose and trust cannot be checked; attach policies only to roles of this stack.`,
            resource.urn,
          );
        }
      });
    }
    decisions.settle();
  },
};

/** Whether `source`'s redrive policy sends its dead letters to `candidate`. */
function isDeadLetterTarget(source: StackResource, candidate: StackResource | undefined): boolean {
  if (candidate === undefined || source.urn === candidate.urn) return false;
  const redrive = parseJsonObject(source.props["redrivePolicy"]);
  return redrive.ok && designatesQueue(candidate, redrive.value["deadLetterTargetArn"]);
}
