/** Kubernetes objects (and every resource, for credentials): no static AWS credentials, restricted namespaces, resources and disruption budgets. */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { configWithDefaults } from "../lib/config";
import { scanForCredentials } from "../lib/credential-scan";
import { containerLabel, containersOf, podSpecOf } from "../lib/pod-spec";
import { Decisions } from "../lib/undecided";
import { ofType, type StackResource } from "../lib/stack";
import { K8S, kindOf } from "../lib/types";

const AWS_ACCESS_KEY = "aws:iam/accessKey:AccessKey";
import { integerOf, isRecord, listOf, pathOf, recordOf, stringOf, stringsOf, type Props } from "../lib/values";

const USE_WORKLOAD_IDENTITY = "let the workload get short-lived credentials from its IRSA or Pod Identity role";

export const noStaticAwsCredentials: ResourceValidationPolicy = {
  name: "no-static-aws-credentials",
  description:
    "No resource carries static AWS credentials anywhere in its properties (env, envFrom, Secret/ConfigMap data, annotations, command lines, Helm values, base64 or JSON inside strings), and the stack creates no IAM access keys.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const label = `${kindOf(args.type)} "${args.name}"`;
    if (args.type === AWS_ACCESS_KEY) {
      reportViolation(`${label} creates a long-lived IAM access key; delete it and ${USE_WORKLOAD_IDENTITY}.`);
      return;
    }
    const decisions = new Decisions();
    const findings = scanForCredentials(args.props, (path) => decisions.note(label, `.${path} is unknown`));
    for (const { path, finding } of findings) {
      reportViolation(
        `${label}: ${path === "" ? "a property" : path} ${finding}; remove it and ${USE_WORKLOAD_IDENTITY}.`,
      );
    }
    decisions.settle();
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
        description:
          "Resources every container must limit (a CPU limit is left out by default: it throttles without need).",
      },
    },
  },
  validateResource: (args, reportViolation) => {
    const pod = podSpecOf(args.type, args.name, args.props);
    if (pod === undefined) return;
    const config = configWithDefaults(args, DEFAULT_RESOURCES);
    const reasons = {
      requests: "so the scheduler reserves room for it",
      limits: "so one container cannot starve its node",
    };
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
