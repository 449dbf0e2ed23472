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

export const ENFORCE_VERSION_LABEL = "pod-security.kubernetes.io/enforce-version";
/** The oldest Pod Security profile version a namespace may pin, unless configured. */
export const DEFAULT_MINIMUM_ENFORCE_VERSION = "v1.30";

/** `v1.30` -> [1, 30]; undefined when the label is not a Kubernetes minor version. */
function minorVersion(value: string): [number, number] | undefined {
  const match = /^v(\d+)\.(\d+)$/.exec(value);
  return match === null ? undefined : [Number(match[1]), Number(match[2])];
}

export const namespaceEnforcesRestricted: ResourceValidationPolicy = {
  name: "namespace-enforces-restricted",
  description:
    "Every namespace the stack creates (or patches) enforces the restricted Pod Security Standard through its label, at the latest profile version or one no older than minimumEnforceVersion.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      minimumEnforceVersion: {
        type: "string",
        pattern: "^v\\d+\\.\\d+$",
        default: DEFAULT_MINIMUM_ENFORCE_VERSION,
        description:
          "The oldest profile version `pod-security.kubernetes.io/enforce-version` may name (`latest`, the default when unset, always passes).",
      },
    },
  },
  validateResource: (args, reportViolation) => {
    const patch = /^kubernetes:core\/v1:NamespacePatch$/.test(args.type);
    if (args.type !== K8S.namespace && !patch) return;
    const { minimumEnforceVersion } = configWithDefaults(args, {
      minimumEnforceVersion: DEFAULT_MINIMUM_ENFORCE_VERSION,
    });
    const labels = recordOf(pathOf(args.props, "metadata", "labels"));
    const level = labels[ENFORCE_LABEL];
    // A patch that leaves the label alone keeps what the namespace has.
    if (level !== "restricted" && !(patch && level === undefined)) {
      const state = level === undefined ? "is not set" : `is ${JSON.stringify(level)}`;
      reportViolation(
        `Namespace "${args.name}": label ${ENFORCE_LABEL} ${state}; set it to "restricted" so the API server rejects pods that break the profile.`,
      );
    }
    const version = labels[ENFORCE_VERSION_LABEL];
    if (version === undefined || version === "latest") return;
    const pinned = typeof version === "string" ? minorVersion(version) : undefined;
    const minimum = minorVersion(minimumEnforceVersion) ?? [1, 0];
    if (pinned === undefined || pinned[0] < minimum[0] || (pinned[0] === minimum[0] && pinned[1] < minimum[1])) {
      reportViolation(
        `Namespace "${args.name}": label ${ENFORCE_VERSION_LABEL} is ${JSON.stringify(version)}, so pods are judged by ${pinned === undefined ? "no valid" : "an older"} profile version than ${minimumEnforceVersion}; set it to "latest".`,
      );
    }
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
    // A patch leaves resources it does not set as they are.
    if (pod.patch) return;
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
