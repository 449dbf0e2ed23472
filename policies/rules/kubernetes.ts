/** Kubernetes objects: no static AWS credentials, restricted namespaces, resources and disruption budgets. */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { configWithDefaults } from "../lib/config";
import { containerLabel, containersOf, podSpecOf } from "../lib/pod-spec";
import { ofType, type StackResource } from "../lib/stack";
import { K8S, kindOf } from "../lib/types";
import { integerOf, isRecord, listOf, pathOf, recordOf, stringOf, stringsOf, type Props } from "../lib/values";

const CREDENTIAL_NAME = /^aws_(access_key_id|secret_access_key|session_token)$/i;
/** Access key IDs: a four-letter prefix for the key kind, then 16 upper-case letters or digits. */
const ACCESS_KEY_ID = /(?<![A-Z0-9])(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])/;
const CREDENTIALS_FILE = /aws_secret_access_key\s*=/i;
const USE_IRSA = "let the pod get short-lived credentials from its IRSA service account";

/** What makes a named value a static credential, or undefined. Values are never echoed. */
function credentialFinding(name: string, value: unknown): string | undefined {
  if (CREDENTIAL_NAME.test(name)) return "is a static AWS credential";
  if (typeof value !== "string") return undefined;
  if (ACCESS_KEY_ID.test(value)) return "holds what looks like an AWS access key ID";
  if (CREDENTIALS_FILE.test(value)) return "holds an AWS credentials file";
  return undefined;
}

function decodeBase64(value: unknown): unknown {
  return typeof value === "string" ? Buffer.from(value, "base64").toString("utf8") : value;
}

export const noStaticAwsCredentials: ResourceValidationPolicy = {
  name: "no-static-aws-credentials",
  description:
    "No Kubernetes object carries static AWS credentials: no AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN env or data, nothing that looks like an access key.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const label = `${kindOf(args.type)} "${args.name}"`;
    if (args.type === K8S.secret || args.type === K8S.configMap) {
      const sources: [string, Props, (v: unknown) => unknown][] = [
        ["data", recordOf(args.props["data"]), args.type === K8S.secret ? decodeBase64 : (v) => v],
        ["stringData", recordOf(args.props["stringData"]), (v) => v],
      ];
      for (const [field, entries, decode] of sources) {
        for (const [key, value] of Object.entries(entries)) {
          const finding = credentialFinding(key, decode(value));
          if (finding !== undefined) reportViolation(`${label}: ${field} key "${key}" ${finding}; delete it and ${USE_IRSA}.`);
        }
      }
      return;
    }
    const pod = podSpecOf(args.type, args.name, args.props);
    if (pod === undefined) return;
    for (const container of containersOf(pod)) {
      listOf(container.fields["env"]).forEach((raw, index) => {
        const env = recordOf(raw);
        const name = stringOf(env["name"]) ?? "";
        const finding = credentialFinding(name, env["value"]);
        if (finding !== undefined) {
          reportViolation(`${containerLabel(pod, container)}: env "${name}" (${container.path}.env[${index}]) ${finding}; remove it and ${USE_IRSA}.`);
        }
      });
    }
  },
};

export const ENFORCE_LABEL = "pod-security.kubernetes.io/enforce";

export const namespaceEnforcesRestricted: ResourceValidationPolicy = {
  name: "namespace-enforces-restricted",
  description: "Every namespace the stack creates enforces the restricted Pod Security Standard through its label.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type !== K8S.namespace) return;
    const level = pathOf(args.props, "metadata", "labels", ENFORCE_LABEL);
    if (level === "restricted") return;
    const state = level === undefined ? "is not set" : `is ${JSON.stringify(level)}`;
    reportViolation(
      `Namespace "${args.name}": label ${ENFORCE_LABEL} ${state}; set it to "restricted" so the API server rejects pods that break the profile.`,
    );
  },
};

export const RESOURCE_NAMES = ["cpu", "memory", "ephemeral-storage"] as const;
export const DEFAULT_RESOURCES = { requests: ["cpu", "memory"], limits: ["memory"] };

export const containerResourcesSet: ResourceValidationPolicy = {
  name: "container-resources-set",
  description: "Every container and init container sets the configured resource requests and limits.",
  enforcementLevel: "advisory",
  configSchema: {
    properties: {
      requests: {
        type: "array",
        items: { type: "string", enum: [...RESOURCE_NAMES] },
        uniqueItems: true,
        default: DEFAULT_RESOURCES.requests,
        description: "Resources every container must request.",
      },
      limits: {
        type: "array",
        items: { type: "string", enum: [...RESOURCE_NAMES] },
        uniqueItems: true,
        default: DEFAULT_RESOURCES.limits,
        description: "Resources every container must limit (a CPU limit is left out by default: it throttles without need).",
      },
    },
  },
  validateResource: (args, reportViolation) => {
    const pod = podSpecOf(args.type, args.name, args.props);
    if (pod === undefined) return;
    const config = configWithDefaults(args, DEFAULT_RESOURCES);
    const reasons = { requests: "so the scheduler reserves room for it", limits: "so one container cannot starve its node" };
    for (const container of containersOf(pod).filter((c) => c.group !== "ephemeralContainers")) {
      const resources = recordOf(container.fields["resources"]);
      for (const kind of ["requests", "limits"] as const) {
        const set = recordOf(resources[kind]);
        for (const resource of config[kind].filter((r) => set[r] === undefined)) {
          reportViolation(
            `${containerLabel(pod, container)}: ${container.path}.resources.${kind}.${resource} is not set; set it ${reasons[kind]}.`,
          );
        }
      }
    }
  },
};

function namespaceOf(resource: StackResource): string {
  return stringOf(pathOf(resource.props, "metadata", "namespace")) ?? "default";
}

/** Whether a label selector (matchLabels and matchExpressions) selects pods carrying `labels`. */
export function selects(selector: Props, labels: Props): boolean {
  const matchLabels = Object.entries(recordOf(selector["matchLabels"]));
  if (!matchLabels.every(([key, value]) => labels[key] === value)) return false;
  return listOf(selector["matchExpressions"]).every((raw) => {
    const expression = recordOf(raw);
    const key = stringOf(expression["key"]) ?? "";
    const values = stringsOf(expression["values"]);
    const label = stringOf(labels[key]);
    switch (expression["operator"]) {
      case "In":
        return label !== undefined && values.includes(label);
      case "NotIn":
        return label === undefined || !values.includes(label);
      case "Exists":
        return label !== undefined;
      case "DoesNotExist":
        return label === undefined;
      default:
        return false;
    }
  });
}

export const DEFAULT_MIN_REPLICAS = 2;

export const pdbForReplicatedDeployments: StackValidationPolicy = {
  name: "pdb-for-replicated-deployments",
  description: "Every Deployment with several replicas has a PodDisruptionBudget selecting its pods.",
  enforcementLevel: "advisory",
  configSchema: {
    properties: {
      minReplicas: {
        type: "integer",
        minimum: 2,
        default: DEFAULT_MIN_REPLICAS,
        description: "Deployments with at least this many replicas need a PodDisruptionBudget.",
      },
    },
  },
  validateStack: (args, reportViolation) => {
    const { minReplicas } = configWithDefaults(args, { minReplicas: DEFAULT_MIN_REPLICAS });
    const budgets = ofType(args.resources, K8S.podDisruptionBudget);
    for (const deployment of ofType(args.resources, K8S.deployment)) {
      const replicas = integerOf(pathOf(deployment.props, "spec", "replicas")) ?? 1;
      if (replicas < minReplicas) continue;
      const namespace = namespaceOf(deployment);
      const labels = recordOf(pathOf(deployment.props, "spec", "template", "metadata", "labels"));
      const covered = budgets.some((budget) => {
        const selector = pathOf(budget.props, "spec", "selector");
        return namespaceOf(budget) === namespace && isRecord(selector) && selects(selector, labels);
      });
      if (!covered) {
        reportViolation(
          `Deployment "${deployment.name}" runs ${replicas} replicas but no PodDisruptionBudget in namespace "${namespace}" selects its pods; add one (for example maxUnavailable: 1) so node drains keep replicas serving.`,
          deployment.urn,
        );
      }
    }
  },
};
