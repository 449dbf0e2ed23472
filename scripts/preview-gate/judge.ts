/**
 * The preview gate's judgement: reads the plan `pulumi preview --json` prints and finds every step that would
 * destroy what holds state (a queue's messages, a repository's images, the cluster and its OIDC provider), naming
 * the resource and the property that forces it.
 *
 * The plan's shape is Pulumi's preview digest: `ShowPreviewDigest` in pulumi/pulumi `pkg/backend/display/json.go`
 * collects one `display.PreviewStep` per step the engine shows (`sdk/pkg/display/json.go`: `op`, `urn`, `provider`,
 * `oldState`, `newState`, `diffReasons`, `replaceReasons`, `detailedDiff`), plus the non-ephemeral diagnostics and a
 * change summary. The states are `apitype.ResourceV3` (`sdk/go/common/apitype/core.go`: `type`, `protect`,
 * `retainOnDelete`, `external`, ...). The step operations are `pkg/resource/deploy/step.go`'s `StepOps`.
 *
 * What the engine shows: a replacement appears as one logical `replace` step; with `--show-replacement-steps` its
 * physical `create-replacement` and `delete-replaced` steps appear too (`shouldShow` in the same package hides
 * non-logical steps from JSON output otherwise). Either way the gate reports each resource once.
 */

/** One step of the preview digest (pulumi `display.PreviewStep`); only the fields the gate reads. */
export interface PreviewStep {
  readonly op: string;
  readonly urn: string;
  readonly provider?: string;
  readonly oldState?: ResourceState;
  readonly newState?: ResourceState;
  /** Top-level properties that differ (updates and replacements). */
  readonly diffReasons?: readonly string[];
  /** Top-level properties that force the replacement (replacement steps only). */
  readonly replaceReasons?: readonly string[];
  /** Property path -> kind (`add`, `add-replace`, `delete`, `delete-replace`, `update`, `update-replace`). */
  readonly detailedDiff?: Readonly<Record<string, { readonly kind: string; readonly inputDiff?: boolean }>> | null;
}

/** A resource state in the digest (pulumi `apitype.ResourceV3`); only the fields the gate reads. */
export interface ResourceState {
  readonly urn?: string;
  readonly type?: string;
  readonly protect?: boolean;
  readonly retainOnDelete?: boolean;
  readonly external?: boolean;
}

/** A diagnostic of the preview (pulumi `display.PreviewDiagnostic`). */
export interface PreviewDiagnostic {
  readonly urn?: string;
  readonly message?: string;
  readonly severity?: string;
}

/** The document `pulumi preview --json` prints (pulumi `display.PreviewDigest`). */
export interface PreviewDigest {
  readonly config?: Readonly<Record<string, string>>;
  readonly steps?: readonly PreviewStep[];
  readonly diagnostics?: readonly PreviewDiagnostic[];
  readonly changeSummary?: Readonly<Record<string, number>>;
}

/**
 * The resource types that hold state or are slow to rebuild, each with what destroying one costs. The tokens are
 * the providers' own (`aws.sqs.Queue.__pulumiType` and so on); the EKS cluster and its OIDC provider are children
 * of pulumi-eks's `eks:index:Cluster` component (pulumi/pulumi-eks `nodejs/eks/cluster/cluster.ts`).
 */
export const STATEFUL_TYPES: Readonly<Record<string, string>> = {
  "aws:sqs/queue:Queue": "an SQS queue holds messages: deleting it deletes every message in it",
  "aws:ecr/repository:Repository":
    "an ECR repository holds the images the Deployment runs and rolls back to: deleting it deletes them",
  "aws:eks/cluster:Cluster":
    "the EKS cluster runs every workload on it, the developer stacks that borrow it included: deleting it deletes them all",
  "eks:index:Cluster":
    "the EKS cluster runs every workload on it, the developer stacks that borrow it included: deleting it deletes them all",
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
    "every IRSA role trusts the cluster's OIDC provider by its ARN: a new provider breaks every pod's credentials until each role is updated",
};

/**
 * Cluster properties EKS lets an update change only within narrow limits: subnets in the cluster's own VPC and the
 * Availability Zones it was created with (EKS user guide, "View Amazon EKS networking requirements for VPC and
 * subnets"). The AWS provider updates them in place (`UpdateClusterConfig`; hashicorp/terraform-provider-aws
 * `internal/service/eks/cluster.go`, `resourceClusterUpdate`), so a network change fails there, after the new
 * network exists. The program fixes the network keys once the cluster exists; the gate holds the plan to the same.
 */
export const CLUSTER_NETWORK_PROPERTIES = ["vpcConfig.subnetIds", "vpcConfig.securityGroupIds"] as const;

/** Step operations that delete the old resource as part of replacing it (`pkg/resource/deploy/step.go`). */
const REPLACEMENT_OPS = new Set(["replace", "create-replacement", "delete-replaced", "import-replacement"]);

/** A stateful resource the plan would replace or delete. */
export interface Finding {
  readonly urn: string;
  readonly type: string;
  /** The resource's logical name (the URN's last part). */
  readonly name: string;
  readonly action: "replace" | "delete" | "update";
  /** The properties that force it (replacements, network updates); empty for a deletion. */
  readonly properties: readonly string[];
  /** Why destroying this type matters, or what EKS refuses. */
  readonly why: string;
  /** The old resource's state says retainOnDelete: the engine forgets it and leaves it in the cloud. */
  readonly retained: boolean;
  /** The old resource's state says protect: the engine refuses the step (the preview fails too). */
  readonly protected: boolean;
}

/** The gate's verdict on one plan. */
export interface Verdict {
  /** Steps that destroy state or that EKS refuses: each fails the gate. */
  readonly refused: readonly Finding[];
  /** Replacements and deletions of stateful resources that the engine leaves in the cloud (retainOnDelete). */
  readonly retained: readonly Finding[];
  /** Error diagnostics of the preview itself (a failed preview fails the gate). */
  readonly errors: readonly string[];
  /** How many steps the plan has. */
  readonly steps: number;
}

/**
 * Parses the text of a preview digest. Throws an Error naming what is wrong when the text is not JSON or not a
 * digest (an object whose `steps`, if present, is a list of objects with string `op` and `urn`).
 */
export function parsePlan(text: string): PreviewDigest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`not JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("not a preview digest: expected a JSON object (the output of `pulumi preview --json`)");
  }
  const steps = (value as { steps?: unknown }).steps;
  if (steps !== undefined) {
    if (!Array.isArray(steps)) throw new Error("not a preview digest: `steps` is not a list");
    steps.forEach((step: unknown, index) => {
      const candidate = step as { op?: unknown; urn?: unknown } | null;
      if (typeof candidate?.op !== "string" || typeof candidate.urn !== "string") {
        throw new Error(`not a preview digest: steps[${index}] has no string op and urn`);
      }
    });
  }
  return value;
}

/** The type token and logical name in a URN (`urn:pulumi:<stack>::<project>::<parent types$type>::<name>`). */
export function urnParts(urn: string): { readonly type: string; readonly name: string } {
  const parts = urn.split("::");
  const qualifiedType = parts[2] ?? "";
  return { type: qualifiedType.split("$").at(-1) ?? "", name: parts.slice(3).join("::") };
}

/** Judges a plan: every replacement or deletion of a stateful resource, and every network update of the cluster. */
export function judgePlan(digest: PreviewDigest): Verdict {
  const steps = digest.steps ?? [];
  const findings = new Map<string, Finding>();
  for (const step of steps) {
    const finding = judgeStep(step);
    if (finding === undefined) continue;
    // One resource can show up to three steps (create-replacement, replace, delete-replaced): merge them.
    const seen = findings.get(finding.urn);
    findings.set(
      finding.urn,
      seen === undefined
        ? finding
        : {
            ...seen,
            properties: [...new Set([...seen.properties, ...finding.properties])].sort(),
            retained: seen.retained || finding.retained,
            protected: seen.protected || finding.protected,
          },
    );
  }
  const all = [...findings.values()];
  const errors = (digest.diagnostics ?? [])
    .filter((diagnostic) => diagnostic.severity === "error")
    .map((diagnostic) =>
      `${diagnostic.urn ? `${urnParts(diagnostic.urn).name}: ` : ""}${diagnostic.message ?? ""}`.trim(),
    );
  return {
    refused: all.filter((finding) => !finding.retained),
    retained: all.filter((finding) => finding.retained),
    errors,
    steps: steps.length,
  };
}

function judgeStep(step: PreviewStep): Finding | undefined {
  const type = step.newState?.type ?? step.oldState?.type ?? urnParts(step.urn).type;
  const name = urnParts(step.urn).name;
  const old = step.oldState;
  // An external (read) resource is not Pulumi's to delete.
  if (old?.external === true) return undefined;
  // The engine refuses to replace a resource protected before and after, and to delete a protected one
  // (`pkg/resource/deploy/step_generator.go`, "unable to replace resource"; `step.go`, `DeleteStep.Apply`); it
  // leaves a retainOnDelete resource in the cloud when it deletes or replaces it (`DeleteStep.Apply` reads the old
  // state's flag).
  const refusedByEngine =
    step.op === "delete" ? old?.protect === true : old?.protect === true && step.newState?.protect === true;
  const base = { urn: step.urn, type, name, retained: old?.retainOnDelete === true, protected: refusedByEngine };

  if (step.op === "update" && type === "aws:eks/cluster:Cluster") {
    const changed = Object.keys(step.detailedDiff ?? {}).filter((path) =>
      CLUSTER_NETWORK_PROPERTIES.some((property) => path === property || path.startsWith(`${property}[`)),
    );
    if (changed.length === 0) return undefined;
    return {
      ...base,
      action: "update",
      properties: [...new Set(changed.map((path) => path.replace(/\[\d+\]$/, "")))].sort(),
      why: "EKS accepts new subnets and security groups only in the cluster's own VPC and original Availability Zones, and the update fails after the new network exists; the network is fixed once the cluster exists",
      retained: false,
    };
  }

  const why = STATEFUL_TYPES[type];
  if (why === undefined) return undefined;
  if (REPLACEMENT_OPS.has(step.op)) return { ...base, action: "replace", properties: replacingProperties(step), why };
  if (step.op === "delete") return { ...base, action: "delete", properties: [], why };
  return undefined;
}

/** The properties that force a replacement: the engine's replaceReasons, else the detailed diff's `*-replace` kinds. */
function replacingProperties(step: PreviewStep): string[] {
  const fromDiff = Object.entries(step.detailedDiff ?? {})
    .filter(([, diff]) => diff.kind.endsWith("-replace"))
    .map(([path]) => path);
  return [...new Set([...(step.replaceReasons ?? []), ...fromDiff])].sort();
}

/**
 * The gate's report, one line per finding: what would happen to which resource, forced by which properties, and why
 * that matters; then what to do. A plan with no finding gives a one-line pass.
 */
export function renderVerdict(verdict: Verdict): string {
  const lines: string[] = [];
  for (const error of verdict.errors) lines.push(`preview failed: ${error}`);
  for (const finding of verdict.refused) {
    const refusal = finding.protected ? " (it is protected, so the engine refuses this step too)" : "";
    lines.push(`refused: ${describe(finding)}${refusal}. ${capitalise(finding.why)}. [${finding.urn}]`);
  }
  for (const finding of verdict.retained) {
    lines.push(
      `allowed: ${describe(finding)}; its state says retainOnDelete, so Pulumi forgets the old one and leaves it in AWS with what it holds: drain or move that, then delete it by hand. [${finding.urn}]`,
    );
  }
  if (verdict.refused.some((finding) => finding.type === "aws:sqs/queue:Queue")) {
    lines.push(
      'To replace a queue without losing messages, drain it, or let the new queue be created beside the old one and move the messages with `npm run redrive` (docs/DEPLOY.md, "Replacing the queue").',
    );
  }
  if (verdict.refused.some((finding) => finding.type !== "aws:sqs/queue:Queue")) {
    lines.push(
      'Undo the change: the cluster, its OIDC provider and the image repository are not replaced in place, and the network is fixed once the cluster exists (docs/DEPLOY.md, "What a change replaces").',
    );
  }
  if (lines.length === 0) {
    lines.push(
      `passed: ${verdict.steps} steps, none replaces or deletes a queue, repository, cluster or OIDC provider`,
    );
  }
  return lines.join("\n");
}

function describe(finding: Finding): string {
  const what =
    finding.action === "delete"
      ? "deleted: the program no longer declares it (or declares it under another name or parent)"
      : finding.action === "replace"
        ? `replaced, forced by ${finding.properties.length > 0 ? finding.properties.join(", ") : "a property the plan does not name"}`
        : `updated in place: ${finding.properties.join(", ")}`;
  return `${finding.type} "${finding.name}" would be ${what}`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Whether the verdict passes the gate: no refused step and no failed preview. */
export function passes(verdict: Verdict): boolean {
  return verdict.refused.length === 0 && verdict.errors.length === 0;
}
