/**
 * Which AWS identity a workload runs as. The IAM rules judge the roles this stack defines; a workload
 * bound to any other role (a service-account annotation, a Pod Identity association, a KEDA trigger's
 * `roleArn`, a role ARN in Helm values or in a pod's environment) escapes them, so it is reported
 * (workload-role-in-stack). KEDA triggers get credentials only from a role, never from static keys
 * (keda-trigger-credentials).
 * Sources: EKS user guide "Assign IAM roles to Kubernetes service accounts" (the `eks.amazonaws.com/role-arn`
 * annotation) and "Assign an IAM role to a Kubernetes service account" (Pod Identity associations,
 * `targetRoleArn`); KEDA docs "Authentication" (TriggerAuthentication sources: secretTargetRef, env,
 * configMapTargetRef, hashiCorpVault, awsSecretManager, ...) and the aws-sqs-queue scaler (parameters
 * awsAccessKeyID, awsSecretAccessKey, awsSessionToken, awsRoleArn; metadata identityOwner).
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { isCredentialName } from "../lib/credential-scan";
import { configWithDefaults } from "../lib/config";
import { ofType, refersTo, type StackResource } from "../lib/stack";
import { AWS, kindOf } from "../lib/types";
import { Decisions } from "../lib/undecided";
import { isRecord, listOf, materialize, pathOf, recordOf, stringOf } from "../lib/values";
import { KEDA } from "./autoscaling";

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const ROLE_KEY = /role-?arn$/i;
const MAX_DEPTH = 40;

/** Where a resource names a role a workload runs as: `path` and the ARN. */
export interface RoleBinding {
  readonly path: string;
  readonly arn: string;
}

function walk(value: unknown, path: string, depth: number, found: RoleBinding[]): void {
  if (depth > MAX_DEPTH) return;
  if (Array.isArray(value)) {
    value.forEach((entry, i) => {
      // env entries: { name: AWS_ROLE_ARN, value: <arn> }
      if (isRecord(entry) && stringOf(entry["name"])?.toUpperCase() === "AWS_ROLE_ARN") {
        const arn = stringOf(entry["value"]);
        if (arn !== undefined) found.push({ path: `${path}[${i}].value`, arn });
      }
      walk(entry, `${path}[${i}]`, depth + 1, found);
    });
    return;
  }
  if (!isRecord(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const here = path === "" ? key : `${path}.${key}`;
    if (typeof child === "string" && ROLE_KEY.test(key) && child !== "") found.push({ path: here, arn: child });
    else walk(child, here, depth + 1, found);
  }
}

/**
 * The roles a resource binds a workload to: any property named `roleArn`/`role-arn`/`*RoleArn` (the
 * service-account annotation, Pod Identity associations and their `targetRoleArn`, TriggerAuthentication
 * `podIdentity.roleArn`, add-on `serviceAccountRoleArn`, Helm values) and `AWS_ROLE_ARN` env entries, in
 * Kubernetes objects, Helm charts and releases, Pod Identity associations and EKS add-ons.
 */
export function roleBindingsOf(resource: StackResource): RoleBinding[] {
  const bearer =
    resource.type.startsWith("kubernetes:") ||
    resource.type === AWS.podIdentityAssociation ||
    resource.type === AWS.eksAddon;
  if (!bearer) return [];
  const found: RoleBinding[] = [];
  walk(materialize(resource.props), "", 0, found);
  return found;
}

export const workloadRoleInStack: StackValidationPolicy = {
  name: "workload-role-in-stack",
  description:
    "Every IAM role a workload is bound to (service-account annotation, Pod Identity association, KEDA trigger roleArn, Helm values, AWS_ROLE_ARN) is a role this stack defines, so the trust and least-privilege rules judge it.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      externalRoleArns: {
        type: "array",
        items: { type: "string", pattern: "^arn:aws[a-z-]*:iam::\\d{12}:role/" },
        default: [],
        description:
          "Roles of other stacks a workload may deliberately run as; each is then judged only by that stack's own pack run.",
      },
    },
  },
  validateStack: (args, reportViolation) => {
    const { externalRoleArns } = configWithDefaults(args, { externalRoleArns: [] as string[] });
    const roles = ofType(args.resources, AWS.role);
    const decisions = new Decisions();
    for (const resource of args.resources) {
      const label = `${kindOf(resource.type)} "${resource.name}"`;
      decisions.decide(label, () => {
        for (const { path, arn } of roleBindingsOf(resource)) {
          if (roles.some((role) => refersTo(role, arn)) || externalRoleArns.includes(arn)) continue;
          const what = ROLE_ARN.test(arn) ? `role ${arn}` : `"${arn}", which is not a role ARN,`;
          reportViolation(
            `${label}: .${path} binds a workload to ${what} which this stack does not define, so no rule of this pack judges who may assume it or what it allows; create the role in this stack (or list it in externalRoleArns deliberately).`,
            resource.urn,
          );
        }
      });
    }
    decisions.settle();
  },
};

/** The credential sources of a TriggerAuthentication spec that map parameters, with their paths. */
const PARAMETER_SOURCES = [
  "secretTargetRef",
  "env",
  "configMapTargetRef",
  "hashiCorpVault.secrets",
  "azureKeyVault.secrets",
  "awsSecretManager.secrets",
  "gcpSecretManager.secrets",
  "boundServiceAccountToken",
] as const;

/** KEDA's aws-* scaler parameters that carry static credentials or pick the identity by ARN. */
function isStaticAwsParameter(parameter: string): boolean {
  return isCredentialName(parameter) || /^awsaccesskey/i.test(parameter) || /^awssecret/i.test(parameter);
}

/** What is wrong with a (Cluster)TriggerAuthentication's way of getting AWS credentials. */
function triggerAuthenticationProblems(resource: StackResource): string[] {
  const spec = recordOf(materialize(resource.props["spec"]));
  const problems: string[] = [];
  for (const source of PARAMETER_SOURCES) {
    listOf(pathOf(spec, ...source.split("."))).forEach((raw, index) => {
      const parameter = stringOf(recordOf(raw)["parameter"]) ?? "";
      if (isStaticAwsParameter(parameter))
        problems.push(
          `spec.${source}[${index}] supplies parameter "${parameter}", a static AWS credential; use spec.podIdentity (provider aws, roleArn of this stack's scaler role) instead`,
        );
    });
  }
  const provider = stringOf(pathOf(spec, "podIdentity", "provider"));
  if (provider !== undefined && !["aws", "none"].includes(provider))
    problems.push(
      `spec.podIdentity.provider is "${provider}"; KEDA's AWS scalers take provider "aws" with a roleArn (aws-eks and aws-kiam are deprecated or removed, and use the operator's own identity)`,
    );
  return problems;
}

/** Trigger metadata keys that give an aws-* scaler static keys, or let it use the workload's identity. */
function triggerMetadataProblems(trigger: Readonly<Record<string, unknown>>, path: string): string[] {
  const metadata = recordOf(trigger["metadata"]);
  const problems: string[] = [];
  for (const key of Object.keys(metadata)) {
    if (isStaticAwsParameter(key) || /^aws(AccessKeyID|SecretAccessKey|SessionToken)FromEnv$/i.test(key))
      problems.push(`${path}.metadata.${key} gives the scaler static AWS credentials`);
  }
  const owner = stringOf(metadata["identityOwner"]);
  if (owner !== undefined && owner.toLowerCase() !== "operator")
    problems.push(
      `${path}.metadata.identityOwner is "${owner}", so KEDA would act with the scaled workload's identity`,
    );
  return problems;
}

export const kedaTriggerCredentials: StackValidationPolicy = {
  name: "keda-trigger-credentials",
  description:
    "KEDA's AWS triggers get credentials only from a role (a TriggerAuthentication's podIdentity), never from static keys in a TriggerAuthentication, in trigger metadata or from the workload's own identity; every aws-* trigger names a TriggerAuthentication of this stack.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const decisions = new Decisions();
    const authentications = [
      ...ofType(args.resources, KEDA.triggerAuthentication),
      ...ofType(args.resources, KEDA.clusterTriggerAuthentication),
    ];
    for (const authentication of authentications) {
      const label = `${kindOf(authentication.type)} "${authentication.name}"`;
      decisions.decide(label, () => {
        for (const problem of triggerAuthenticationProblems(authentication))
          reportViolation(`${label}: ${problem}.`, authentication.urn);
      });
    }
    const scaled = args.resources.filter((r) => /^kubernetes:keda\.sh\/[^:]+:Scaled(Object|Job)$/.test(r.type));
    for (const resource of scaled) {
      const label = `${kindOf(resource.type)} "${resource.name}"`;
      decisions.decide(label, () => {
        listOf(pathOf(materialize(resource.props), "spec", "triggers")).forEach((raw, index) => {
          const trigger = recordOf(raw);
          const type = stringOf(trigger["type"]) ?? "";
          if (!type.startsWith("aws-")) return;
          const path = `spec.triggers[${index}]`;
          const problems = triggerMetadataProblems(trigger, path);
          const ref = recordOf(trigger["authenticationRef"]);
          const refName = stringOf(ref["name"]);
          const refKind = stringOf(ref["kind"]) ?? "TriggerAuthentication";
          if (refName === undefined) {
            problems.push(
              `${path} (${type}) names no authenticationRef, so the scaler falls back to credentials from the workload's environment`,
            );
          } else if (
            !authentications.some(
              (a) => kindOf(a.type) === refKind && stringOf(pathOf(a.props, "metadata", "name")) === refName,
            )
          ) {
            problems.push(
              `${path}.authenticationRef names ${refKind} "${refName}", which this stack does not define, so how the scaler authenticates cannot be checked`,
            );
          }
          for (const problem of problems)
            reportViolation(
              `${label}: ${problem}; authenticate with a TriggerAuthentication of this stack whose podIdentity names the scaler role.`,
              resource.urn,
            );
        });
      });
    }
    decisions.settle();
  },
};
