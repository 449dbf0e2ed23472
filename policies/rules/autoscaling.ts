/** Autoscaling with KEDA: bounded ScaledObjects, KEDA's own identity for triggers, read-only scaler roles. */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { configWithDefaults } from "../lib/config";
import { hasWildcard, parsePolicyDocument, type Statement } from "../lib/iam-document";
import { ofType, refersTo, type StackResource } from "../lib/stack";
import { attachedPolicyArns, ATTACHING_TYPES, roleReferences } from "../lib/role-grants";
import { AWS } from "../lib/types";
import { integerOf, listOf, pathOf, recordOf, stringOf, stringsOf } from "../lib/values";

/** Pulumi type tokens of KEDA's custom resources (kubernetes:<group>/<version>:<kind>). */
export const KEDA = {
  scaledObject: "kubernetes:keda.sh/v1alpha1:ScaledObject",
  triggerAuthentication: "kubernetes:keda.sh/v1alpha1:TriggerAuthentication",
  clusterTriggerAuthentication: "kubernetes:keda.sh/v1alpha1:ClusterTriggerAuthentication",
} as const;

export const DEFAULT_MAX_REPLICA_COUNT = 100;
export const DEFAULT_KEDA_OPERATOR_SUBJECT = "system:serviceaccount:keda:keda-operator";
/** The one action KEDA's aws-sqs-queue scaler calls. */
const SCALER_ACTION = "sqs:getqueueattributes";

export const scaledObjectBoundedMax: ResourceValidationPolicy = {
  name: "scaled-object-bounded-max",
  description:
    "Every KEDA ScaledObject sets maxReplicaCount (KEDA's default is 100), at most the configured ceiling, and not below minReplicaCount.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      maxReplicaCount: {
        type: "integer",
        minimum: 1,
        default: DEFAULT_MAX_REPLICA_COUNT,
        description: "The most replicas any ScaledObject may ask for.",
      },
    },
  },
  validateResource: (args, reportViolation) => {
    if (args.type !== KEDA.scaledObject) return;
    const { maxReplicaCount: ceiling } = configWithDefaults(args, { maxReplicaCount: DEFAULT_MAX_REPLICA_COUNT });
    const spec = recordOf(args.props["spec"]);
    const max = integerOf(spec["maxReplicaCount"]);
    const min = integerOf(spec["minReplicaCount"]) ?? 0;
    const label = `ScaledObject "${args.name}"`;
    if (max === undefined) {
      reportViolation(
        `${label}: spec.maxReplicaCount is not set, so KEDA allows 100 replicas; set it to at most ${ceiling}.`,
      );
    } else if (max > ceiling) {
      reportViolation(
        `${label}: spec.maxReplicaCount is ${max}, above the ceiling of ${ceiling}; lower it (or raise the policy's maxReplicaCount deliberately).`,
      );
    } else if (max < min) {
      reportViolation(`${label}: spec.maxReplicaCount (${max}) is below spec.minReplicaCount (${min}).`);
    }
  },
};

export const triggerAuthenticationKedaIdentity: ResourceValidationPolicy = {
  name: "trigger-authentication-keda-identity",
  description:
    "A KEDA (Cluster)TriggerAuthentication never uses `podIdentity.identityOwner: workload`, which would make the workload's role trust KEDA's operator; name a scaler role with `roleArn` instead.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type !== KEDA.triggerAuthentication && args.type !== KEDA.clusterTriggerAuthentication) return;
    const owner = pathOf(args.props, "spec", "podIdentity", "identityOwner");
    if (typeof owner === "string" && owner.toLowerCase() === "workload") {
      reportViolation(
        `TriggerAuthentication "${args.name}": spec.podIdentity.identityOwner is "workload", so KEDA would act as the consumer's role; remove it and set spec.podIdentity.roleArn to a role that may only read the queue's attributes.`,
      );
    }
  },
};

/** Roles KEDA's operator assumes: named by a TriggerAuthentication's roleArn, or trusting the operator's subject. */
function scalerRoles(resources: readonly StackResource[], operatorSubject: string): StackResource[] {
  const named = [
    ...ofType(resources, KEDA.triggerAuthentication),
    ...ofType(resources, KEDA.clusterTriggerAuthentication),
  ].map((t) => pathOf(t.props, "spec", "podIdentity", "roleArn"));
  return ofType(resources, AWS.role).filter((role) => {
    if (named.some((arn) => refersTo(role, arn))) return true;
    const trust = parsePolicyDocument(role.props["assumeRolePolicy"]);
    if (!trust.ok) return false;
    return oidcTrusts(trust.value).some(({ statement, issuer }) =>
      Object.entries(recordOf(statement.condition["StringEquals"])).some(
        ([key, value]) =>
          key.toLowerCase() === `${issuer}:sub`.toLowerCase() && listOf(value).includes(operatorSubject),
      ),
    );
  });
}

/** The Allow statements of a trust policy that federate an EKS OIDC provider, with the provider's issuer. */
function oidcTrusts(statements: readonly Statement[]): { statement: Statement; issuer: string }[] {
  return statements.flatMap((statement) =>
    statement.effect !== "Allow"
      ? []
      : statement.principals.flatMap((p) => {
          const issuer = p.kind === "Federated" ? /:oidc-provider\/(.+)$/.exec(p.value)?.[1] : undefined;
          return issuer === undefined ? [] : [{ statement, issuer }];
        }),
  );
}

/** What is wrong with one permissions document of a scaler role. */
function scalerDocumentProblems(document: unknown): string[] {
  const parsed = parsePolicyDocument(document);
  if (!parsed.ok) return [`${parsed.reason}, so it cannot be checked`];
  const problems: string[] = [];
  for (const statement of parsed.value) {
    if (statement.effect !== "Allow") continue;
    if (statement.hasNotAction) problems.push("allows NotAction");
    const others = statement.actions.filter((a) => a.toLowerCase() !== SCALER_ACTION);
    if (others.length > 0) problems.push(`allows ${others.map((a) => `"${a}"`).join(", ")}`);
    if (statement.hasNotResource) problems.push("allows NotResource");
    const wide = statement.resources.filter(
      (r) => hasWildcard(r) || !r.startsWith("arn:") || !r.split(":")[2]?.startsWith("sqs"),
    );
    if (wide.length > 0) problems.push(`grants it on ${wide.map((r) => `"${r}"`).join(", ")}, not one queue's ARN`);
  }
  return problems;
}

export const scalerRoleReadsQueueAttributesOnly: StackValidationPolicy = {
  name: "scaler-role-reads-queue-attributes-only",
  description:
    "A role KEDA's operator assumes (named by a TriggerAuthentication, or trusting the operator's service account) may only call sqs:GetQueueAttributes on named queues, through policies this stack defines.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      kedaOperatorSubject: {
        type: "string",
        minLength: 1,
        default: DEFAULT_KEDA_OPERATOR_SUBJECT,
        description: "The `sub` of KEDA's operator service account tokens.",
      },
    },
  },
  validateStack: (args, reportViolation) => {
    const { kedaOperatorSubject } = configWithDefaults(args, { kedaOperatorSubject: DEFAULT_KEDA_OPERATOR_SUBJECT });
    const fix = "grant only sqs:GetQueueAttributes on this stack's queue ARN";
    for (const role of scalerRoles(args.resources, kedaOperatorSubject)) {
      const label = `Scaler role "${role.name}"`;
      // Stack outputs echo role policies in the role's inlinePolicies and attachments in its
      // managedPolicyArns: each document and ARN is judged once.
      const documents = new Map<string, { readonly where: string; readonly urn: string; readonly document: unknown }>();
      const keyOf = (document: unknown): string => {
        const parsed = parsePolicyDocument(document);
        return parsed.ok ? JSON.stringify(parsed.value) : String(document);
      };
      for (const rolePolicy of ofType(args.resources, AWS.rolePolicy).filter((p) => refersTo(role, p.props["role"]))) {
        documents.set(keyOf(rolePolicy.props["policy"]), {
          where: `role policy "${rolePolicy.name}"`,
          urn: rolePolicy.urn,
          document: rolePolicy.props["policy"],
        });
      }
      for (const inline of listOf(role.props["inlinePolicies"])) {
        const policy = recordOf(inline)["policy"];
        if (policy === undefined || policy === "" || documents.has(keyOf(policy))) continue;
        documents.set(keyOf(policy), { where: "inline policy", urn: role.urn, document: policy });
      }
      for (const { where, urn, document } of documents.values()) {
        for (const problem of scalerDocumentProblems(document))
          reportViolation(`${label}: ${where} ${problem}; ${fix}.`, urn);
      }
      const attached = new Map<string, string>();
      for (const attachment of args.resources.filter(
        (r) => ATTACHING_TYPES.includes(r.type) && roleReferences(r).some((ref) => refersTo(role, ref)),
      )) {
        for (const arn of attachedPolicyArns(attachment)) attached.set(stringOf(arn) ?? "(unknown)", attachment.urn);
      }
      for (const arn of stringsOf(role.props["managedPolicyArns"])) if (!attached.has(arn)) attached.set(arn, role.urn);
      for (const [arn, urn] of attached) {
        reportViolation(
          `${label}: has policy ${arn} attached; a scaler role carries only its own role policy; ${fix}.`,
          urn,
        );
      }
    }
  },
};
