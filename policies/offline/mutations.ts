/**
 * The mutation check: weaken one property of a good resource set at a time (a wildcard `:sub`, `sqs:*`,
 * a root container, an image by tag, IMDS hop limit 2, ...) and confirm the pack reports the rule that
 * should catch it. Targets are found by type and shape, never by name, so the same mutations run on a
 * synthetic set and on the resources recorded from the real program.
 */
import { METRIC_ALARM } from "../rules/alarms";
import { isWorkloadRole } from "../rules/iam";
import { designatesQueue } from "../rules/queues";
import { containersOf, podSpecOf } from "../lib/pod-spec";
import { refersTo } from "../lib/stack";
import { AWS, EKS, K8S } from "../lib/types";
import { isRecord, listOf, parseJsonObject, stringOf, stringsOf } from "../lib/values";
import type { RecordedResource } from "./evaluate";
import { runPack, type Violation } from "./run-pack";

type Mutable = Record<string, unknown>;
type Resources = RecordedResource[];

export interface Mutation {
  readonly name: string;
  /** The rule that must report the weakened set. */
  readonly expectedPolicy: string;
  readonly description: string;
  /** Weakens `resources` (a private deep copy: edit in place, add or remove) and returns the result. */
  readonly apply: (resources: Resources) => Resources;
}

/** Thrown by `apply` when the resource set has nothing of the kind the mutation weakens. */
export class NoTarget extends Error {}

/** A resource's props, writable: mutations only ever see the private copy `runMutations` made. */
function props(resource: RecordedResource): Mutable {
  return resource.props;
}

function find(resources: Resources, what: string, predicate: (r: RecordedResource) => boolean): RecordedResource {
  const found = resources.find(predicate);
  if (found === undefined) throw new NoTarget(`no ${what} in the resources`);
  return found;
}

const ofType = (type: string) => (r: RecordedResource) => r.type === type;

/** Rewrites a JSON document property in place, keeping its form (string or object). */
function editDocument(resource: RecordedResource, key: string, change: (document: Mutable) => void): void {
  const original = props(resource)[key];
  const parsed = parseJsonObject(original);
  if (!parsed.ok) throw new NoTarget(`${resource.name}.${key} ${parsed.reason}`);
  const document = structuredClone(parsed.value) as Mutable;
  change(document);
  props(resource)[key] = typeof original === "string" ? JSON.stringify(document) : document;
}

function workloadRole(resources: Resources): RecordedResource {
  return find(resources, "role trusting an OIDC provider", (r) => r.type === AWS.role && isWorkloadRole(r.props));
}

/** Calls `change` on the OIDC trust statement's StringEquals block, with the condition key prefix. */
function editTrust(resources: Resources, change: (stringEquals: Mutable, issuer: string) => void): void {
  editDocument(workloadRole(resources), "assumeRolePolicy", (document) => {
    for (const statement of listOf(document["Statement"]).filter(isRecord) as Mutable[]) {
      const federated = stringsOf(isRecord(statement["Principal"]) ? statement["Principal"]["Federated"] : undefined);
      const issuer = federated.map((arn) => /:oidc-provider\/(.+)$/.exec(arn)?.[1]).find((i) => i !== undefined);
      if (issuer === undefined) continue;
      const condition = (isRecord(statement["Condition"]) ? statement["Condition"] : {}) as Mutable;
      statement["Condition"] = condition;
      const stringEquals = (isRecord(condition["StringEquals"]) ? condition["StringEquals"] : {}) as Mutable;
      condition["StringEquals"] = stringEquals;
      change(stringEquals, issuer);
      return;
    }
  });
}

/** Calls `change` on the first Allow statement of a permissions document reaching the workload role. */
function editGrant(resources: Resources, change: (statement: Mutable) => void): void {
  const role = workloadRole(resources);
  const inline = resources.find((r) => r.type === AWS.rolePolicy && refersTo(role, r.props["role"]));
  const attachment = resources.find((r) => r.type === AWS.rolePolicyAttachment && refersTo(role, r.props["role"]));
  const attached = resources.find((r) => r.type === AWS.policy && refersTo(r, attachment?.props["policyArn"]));
  const holder = inline ?? attached;
  if (holder === undefined) throw new NoTarget("no permissions document reaching the workload role");
  editDocument(holder, "policy", (document) => {
    const statement = listOf(document["Statement"]).filter(isRecord).find((s) => s["Effect"] === "Allow");
    if (statement === undefined) throw new NoTarget(`${holder.name} has no Allow statement`);
    change(statement);
  });
}

function sourceQueue(resources: Resources): RecordedResource {
  return find(resources, "queue with a redrive policy", (r) => r.type === AWS.queue && props(r)["redrivePolicy"] !== undefined);
}

function deadLetterQueue(resources: Resources): RecordedResource {
  const redrive = parseJsonObject(props(sourceQueue(resources))["redrivePolicy"]);
  const target = redrive.ok ? redrive.value["deadLetterTargetArn"] : undefined;
  return find(resources, "dead-letter queue", (r) => r.type === AWS.queue && designatesQueue(r, target));
}

function podSpec(resources: Resources): Mutable {
  const workload = find(resources, "pod-bearing Kubernetes object", (r) => podSpecOf(r.type, r.name, r.props) !== undefined);
  return podSpecOf(workload.type, workload.name, workload.props)?.spec as Mutable;
}

/** The first app container of the first pod template, with its (created if absent) securityContext. */
function container(resources: Resources): { fields: Mutable; securityContext: Mutable } {
  const workload = find(resources, "pod-bearing Kubernetes object", (r) => {
    const pod = podSpecOf(r.type, r.name, r.props);
    return pod !== undefined && containersOf(pod).some((c) => c.group === "containers");
  });
  const pod = podSpecOf(workload.type, workload.name, workload.props);
  const first = pod === undefined ? undefined : containersOf(pod).find((c) => c.group === "containers");
  if (first === undefined) throw new NoTarget("no container");
  const fields = first.fields as Mutable;
  const securityContext = (isRecord(fields["securityContext"]) ? fields["securityContext"] : {}) as Mutable;
  fields["securityContext"] = securityContext;
  return { fields, securityContext };
}

function remove(resources: Resources, what: string, predicate: (r: RecordedResource) => boolean): Resources {
  const kept = resources.filter((r) => !predicate(r));
  if (kept.length === resources.length) throw new NoTarget(`no ${what} in the resources`);
  return kept;
}

function extraResource(resources: Resources, type: string, name: string, resourceProps: Mutable): RecordedResource {
  const prefix = /^(urn:pulumi:[^:]+::[^:]+::)/.exec(resources[0]?.urn ?? "")?.[1] ?? "urn:pulumi:stack::project::";
  return { type, name, urn: `${prefix}${type}::${name}`, props: resourceProps };
}

// AWS's documented example key ID, split so that secret scanners do not flag this file.
const EXAMPLE_KEY_ID = ["AKIA", "IOSFODNN7EXAMPLE"].join("");

const ALLOWED_DIGEST = `@sha256:${"0".repeat(64)}`;

export const MUTATIONS: readonly Mutation[] = [
  {
    name: "irsa-wildcard-sub",
    expectedPolicy: "irsa-trust-pinned",
    description: "the IRSA trust's :sub accepts any service account of the namespace",
    apply: (resources) => {
      editTrust(resources, (stringEquals, issuer) => {
        const subject = stringOf(stringEquals[`${issuer}:sub`]) ?? "system:serviceaccount:default:sa";
        stringEquals[`${issuer}:sub`] = subject.replace(/[^:]+$/, "*");
      });
      return resources;
    },
  },
  {
    name: "irsa-sub-string-like",
    expectedPolicy: "irsa-trust-pinned",
    description: "the IRSA trust matches :sub with StringLike and a pattern",
    apply: (resources) => {
      editDocument(workloadRole(resources), "assumeRolePolicy", (document) => {
        for (const statement of listOf(document["Statement"]).filter(isRecord)) {
          const condition = isRecord(statement["Condition"]) ? (statement["Condition"] as Mutable) : undefined;
          const stringEquals = isRecord(condition?.["StringEquals"]) ? (condition["StringEquals"] as Mutable) : undefined;
          const subKey = Object.keys(stringEquals ?? {}).find((k) => k.endsWith(":sub"));
          if (condition === undefined || stringEquals === undefined || subKey === undefined) continue;
          delete stringEquals[subKey];
          condition["StringLike"] = { [subKey]: "system:serviceaccount:*" };
          return;
        }
        throw new NoTarget("no :sub condition in the trust policy");
      });
      return resources;
    },
  },
  {
    name: "irsa-missing-aud",
    expectedPolicy: "irsa-trust-pinned",
    description: "the IRSA trust does not pin :aud",
    apply: (resources) => {
      editTrust(resources, (stringEquals, issuer) => delete stringEquals[`${issuer}:aud`]);
      return resources;
    },
  },
  {
    name: "workload-sqs-star",
    expectedPolicy: "workload-role-least-privilege",
    description: "the workload role may call every SQS action",
    apply: (resources) => {
      editGrant(resources, (statement) => (statement["Action"] = "sqs:*"));
      return resources;
    },
  },
  {
    name: "workload-star-action",
    expectedPolicy: "workload-role-least-privilege",
    description: "the workload role may call every AWS action",
    apply: (resources) => {
      editGrant(resources, (statement) => (statement["Action"] = "*"));
      return resources;
    },
  },
  {
    name: "workload-account-wide-queues",
    expectedPolicy: "workload-role-least-privilege",
    description: "the workload role's access covers every queue of the account",
    apply: (resources) => {
      editGrant(resources, (statement) => {
        statement["Resource"] = stringsOf(statement["Resource"]).map((arn) => arn.replace(/[^:]+$/, "*"));
      });
      return resources;
    },
  },
  {
    name: "workload-aws-managed-policy",
    expectedPolicy: "workload-role-least-privilege",
    description: "AmazonSQSFullAccess is attached to the workload role",
    apply: (resources) => {
      const role = workloadRole(resources);
      const ref = stringOf(props(role)["name"]) ?? stringOf(props(role)["id"]);
      if (ref === undefined) throw new NoTarget("the workload role has neither name nor id");
      const attachment = extraResource(resources, AWS.rolePolicyAttachment, "mutation-sqs-full-access", {
        role: ref,
        policyArn: "arn:aws:iam::aws:policy/AmazonSQSFullAccess",
      });
      return [...resources, attachment];
    },
  },
  {
    name: "queue-unencrypted",
    expectedPolicy: "queue-encrypted",
    description: "the queue has no encryption at rest",
    apply: (resources) => {
      const queue = props(sourceQueue(resources));
      queue["sqsManagedSseEnabled"] = false;
      delete queue["kmsMasterKeyId"];
      return resources;
    },
  },
  {
    name: "queue-missing-redrive",
    expectedPolicy: "queue-redrive-policy",
    description: "the queue has no redrive policy",
    apply: (resources) => {
      delete props(sourceQueue(resources))["redrivePolicy"];
      return resources;
    },
  },
  {
    name: "dlq-short-retention",
    expectedPolicy: "dlq-retention-covers-source",
    description: "the DLQ keeps messages one minute",
    apply: (resources) => {
      props(deadLetterQueue(resources))["messageRetentionSeconds"] = 60;
      return resources;
    },
  },
  {
    name: "queue-policy-missing",
    expectedPolicy: "queue-denies-insecure-transport",
    description: "the queue's TLS-only policy is gone",
    apply: (resources) => {
      const queue = sourceQueue(resources);
      return remove(resources, "queue policy of the queue", (r) => r.type === AWS.queuePolicy && designatesQueue(queue, r.props["queueUrl"]));
    },
  },
  {
    name: "dlq-alarm-missing",
    expectedPolicy: "dlq-alarmed",
    description: "the alarm on the dead-letter queue is gone",
    apply: (resources) => remove(resources, "CloudWatch alarm on the DLQ", (r) => r.type === METRIC_ALARM && r.props["metricName"] === "ApproximateNumberOfMessagesVisible"),
  },
  {
    name: "container-runs-as-root",
    expectedPolicy: "pod-security-restricted",
    description: "the container runs as root",
    apply: (resources) => {
      const { securityContext } = container(resources);
      securityContext["runAsUser"] = 0;
      securityContext["runAsNonRoot"] = false;
      return resources;
    },
  },
  {
    name: "container-privilege-escalation",
    expectedPolicy: "pod-security-restricted",
    description: "the container may escalate privileges",
    apply: (resources) => {
      container(resources).securityContext["allowPrivilegeEscalation"] = true;
      return resources;
    },
  },
  {
    name: "container-keeps-capabilities",
    expectedPolicy: "pod-security-restricted",
    description: "the container keeps its capabilities",
    apply: (resources) => {
      delete container(resources).securityContext["capabilities"];
      return resources;
    },
  },
  {
    name: "pod-host-network",
    expectedPolicy: "pod-security-restricted",
    description: "the pod shares the node's network namespace",
    apply: (resources) => {
      podSpec(resources)["hostNetwork"] = true;
      return resources;
    },
  },
  {
    name: "pod-seccomp-unconfined",
    expectedPolicy: "pod-security-restricted",
    description: "the pod runs without a seccomp profile",
    apply: (resources) => {
      const spec = podSpec(resources);
      spec["securityContext"] = { ...(isRecord(spec["securityContext"]) ? spec["securityContext"] : {}), seccompProfile: { type: "Unconfined" } };
      return resources;
    },
  },
  {
    name: "pod-host-path-volume",
    expectedPolicy: "pod-security-restricted",
    description: "the pod mounts the node's filesystem",
    apply: (resources) => {
      const spec = podSpec(resources);
      spec["volumes"] = [...listOf(spec["volumes"]), { name: "host", hostPath: { path: "/" } }];
      return resources;
    },
  },
  {
    name: "container-writable-root-filesystem",
    expectedPolicy: "container-read-only-root-filesystem",
    description: "the container's root filesystem is writable",
    apply: (resources) => {
      container(resources).securityContext["readOnlyRootFilesystem"] = false;
      return resources;
    },
  },
  {
    name: "image-by-tag",
    expectedPolicy: "image-pinned-by-digest",
    description: "the image is referenced by a tag",
    apply: (resources) => {
      const { fields } = container(resources);
      fields["image"] = `${(stringOf(fields["image"]) ?? "image").replace(/@sha256:.*$/, "")}:latest`;
      return resources;
    },
  },
  {
    name: "image-from-docker-hub",
    expectedPolicy: "image-from-allowed-registry",
    description: "the image comes from Docker Hub",
    apply: (resources) => {
      container(resources).fields["image"] = `docker.io/library/node${ALLOWED_DIGEST}`;
      return resources;
    },
  },
  {
    name: "static-keys-in-env",
    expectedPolicy: "no-static-aws-credentials",
    description: "the container gets an access key through its environment",
    apply: (resources) => {
      const { fields } = container(resources);
      fields["env"] = [...listOf(fields["env"]), { name: "AWS_ACCESS_KEY_ID", value: EXAMPLE_KEY_ID }];
      return resources;
    },
  },
  {
    name: "static-keys-in-secret",
    expectedPolicy: "no-static-aws-credentials",
    description: "a Secret holds an AWS secret access key",
    apply: (resources) => {
      const secret = props(find(resources, "Secret", ofType(K8S.secret)));
      secret["stringData"] = { ...(isRecord(secret["stringData"]) ? secret["stringData"] : {}), AWS_SECRET_ACCESS_KEY: "redacted" };
      return resources;
    },
  },
  {
    name: "namespace-not-restricted",
    expectedPolicy: "namespace-enforces-restricted",
    description: "the namespace enforces only the baseline profile",
    apply: (resources) => {
      const namespace = props(find(resources, "Namespace", ofType(K8S.namespace)));
      const metadata = (isRecord(namespace["metadata"]) ? namespace["metadata"] : {}) as Mutable;
      metadata["labels"] = { ...(isRecord(metadata["labels"]) ? metadata["labels"] : {}), "pod-security.kubernetes.io/enforce": "baseline" };
      namespace["metadata"] = metadata;
      return resources;
    },
  },
  {
    name: "imds-hop-limit-2",
    expectedPolicy: "launch-template-imdsv2",
    description: "pods on the nodes can reach IMDS through hop limit 2",
    apply: (resources) => {
      const template = props(find(resources, "LaunchTemplate", ofType(AWS.launchTemplate)));
      template["metadataOptions"] = { ...(isRecord(template["metadataOptions"]) ? template["metadataOptions"] : {}), httpPutResponseHopLimit: 2 };
      return resources;
    },
  },
  {
    name: "imds-tokens-optional",
    expectedPolicy: "launch-template-imdsv2",
    description: "the nodes serve IMDSv1",
    apply: (resources) => {
      const template = props(find(resources, "LaunchTemplate", ofType(AWS.launchTemplate)));
      template["metadataOptions"] = { ...(isRecord(template["metadataOptions"]) ? template["metadataOptions"] : {}), httpTokens: "optional" };
      return resources;
    },
  },
  {
    name: "node-group-without-launch-template",
    expectedPolicy: "node-group-launch-template",
    description: "the node group uses EKS's default launch template",
    apply: (resources) => {
      const group = find(
        resources,
        "node group with a launch template",
        (r) => (r.type === AWS.eksNodeGroup || r.type === EKS.managedNodeGroup) && props(r)["launchTemplate"] !== undefined,
      );
      delete props(group)["launchTemplate"];
      return resources;
    },
  },
  {
    name: "ecr-scan-disabled",
    expectedPolicy: "ecr-scan-on-push",
    description: "the repository does not scan on push",
    apply: (resources) => {
      props(find(resources, "ECR repository", ofType(AWS.ecrRepository)))["imageScanningConfiguration"] = { scanOnPush: false };
      return resources;
    },
  },
  {
    name: "ecr-lifecycle-missing",
    expectedPolicy: "ecr-lifecycle-policy",
    description: "the repository has no lifecycle policy",
    apply: (resources) => remove(resources, "ECR lifecycle policy", ofType(AWS.ecrLifecyclePolicy)),
  },
  {
    name: "pdb-missing",
    expectedPolicy: "pdb-for-replicated-deployments",
    description: "the Deployment has no PodDisruptionBudget",
    apply: (resources) => remove(resources, "PodDisruptionBudget", ofType(K8S.podDisruptionBudget)),
  },
  {
    name: "container-without-resources",
    expectedPolicy: "container-resources-set",
    description: "the container sets no requests or limits",
    apply: (resources) => {
      delete container(resources).fields["resources"];
      return resources;
    },
  },
];

export interface MutationOutcome {
  readonly mutation: Mutation;
  readonly status: "caught" | "missed" | "not-applicable";
  /** Policies with violations the baseline did not have. */
  readonly firedPolicies: readonly string[];
  /** Why the mutation did not apply. */
  readonly reason?: string;
}

export interface MutationReport {
  readonly outcomes: readonly MutationOutcome[];
  readonly caught: number;
  readonly total: number;
}

const key = (v: Violation) => `${v.policy}\u0000${v.urn}\u0000${v.message}`;

/**
 * Applies each mutation to a copy of `baseline` and runs the pack. A mutation is caught when its
 * expected policy reports a violation the unmutated baseline did not have. `total` counts every
 * mutation, so one that finds no target counts against the score.
 */
export async function runMutations(
  baseline: readonly RecordedResource[],
  config: unknown = {},
  mutations: readonly Mutation[] = MUTATIONS,
): Promise<MutationReport> {
  const before = new Set((await runPack(baseline, config)).violations.map(key));
  const outcomes: MutationOutcome[] = [];
  for (const mutation of mutations) {
    let mutated: Resources;
    try {
      mutated = mutation.apply(structuredClone([...baseline]));
    } catch (error) {
      if (!(error instanceof NoTarget)) throw error;
      outcomes.push({ mutation, status: "not-applicable", firedPolicies: [], reason: error.message });
      continue;
    }
    const fresh = (await runPack(mutated, config)).violations.filter((v) => !before.has(key(v)));
    const firedPolicies = [...new Set(fresh.map((v) => v.policy))];
    outcomes.push({ mutation, status: firedPolicies.includes(mutation.expectedPolicy) ? "caught" : "missed", firedPolicies });
  }
  return { outcomes, caught: outcomes.filter((o) => o.status === "caught").length, total: outcomes.length };
}

export function formatMutationReport(report: MutationReport): string {
  const lines = ["Mutation check: each weakened variant must trip its rule"];
  for (const { mutation, status, firedPolicies, reason } of report.outcomes) {
    const head = `${mutation.name} (${mutation.description})`;
    if (status === "caught") lines.push(`  ✓ ${head} -> ${mutation.expectedPolicy}`);
    else if (status === "missed") lines.push(`  ✗ ${head}: expected ${mutation.expectedPolicy}, got ${firedPolicies.join(", ") || "nothing"}`);
    else lines.push(`  ✗ ${head}: not applicable, ${reason ?? "no target"}`);
  }
  lines.push(`caught ${report.caught}/${report.total}`);
  return lines.join("\n");
}
