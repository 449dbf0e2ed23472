/**
 * The objects inside Helm charts, for the offline check. Under `pulumi preview` a `helm.v4.Chart` registers
 * every rendered object as a resource of its own; under mocks it is one resource. Given Helm and the
 * chart's archive, `expandCharts` renders each recorded Chart with its recorded values (`helm template`)
 * and adds the objects as the Chart's children, so the pack judges them as a preview would. Without Helm or
 * the archive nothing is added, and `unseenPackagedObjects` names what went unjudged.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { stringOf } from "../lib/values";
import type { RecordedResource } from "./evaluate";

const CHART = /^kubernetes:helm\.sh\/v4:Chart$/;
/** Kinds Kubernetes keeps outside namespaces (the ones a chart like KEDA's renders). */
const CLUSTER_SCOPED = new Set([
  "Namespace",
  "ClusterRole",
  "ClusterRoleBinding",
  "CustomResourceDefinition",
  "APIService",
  "ValidatingWebhookConfiguration",
  "MutatingWebhookConfiguration",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
  "PriorityClass",
  "StorageClass",
]);

export interface ChartSource {
  /** The Helm binary to run. */
  readonly helm: string;
  /** The chart archive (`.tgz`) to render. */
  readonly archive: string;
  /** The SHA-256 the archive must have (hex); a different archive is refused. */
  readonly sha256: string;
}

export class ChartRenderError extends Error {
  readonly code = "CHART_RENDER_FAILED";
}

/** A rendered object as a recorded resource: `kubernetes:<group>/<version>:<Kind>`, the Chart as parent. */
function asResource(chart: RecordedResource, object: Record<string, unknown>, namespace: string): RecordedResource {
  const apiVersion = stringOf(object["apiVersion"]) ?? "";
  const kind = stringOf(object["kind"]) ?? "";
  const group = apiVersion.includes("/") ? apiVersion : `core/${apiVersion}`;
  const type = `kubernetes:${group}:${kind}`;
  const metadata = (object["metadata"] ?? {}) as Record<string, unknown>;
  const scoped = !CLUSTER_SCOPED.has(kind);
  const objectNamespace = scoped ? (stringOf(metadata["namespace"]) ?? namespace) : undefined;
  const props = scoped ? { ...object, metadata: { ...metadata, namespace: objectNamespace } } : object;
  const name = `${chart.name}:${objectNamespace === undefined ? "" : `${objectNamespace}/`}${stringOf(metadata["name"]) ?? ""}`;
  const [prefix, parentType] = [chart.urn.split("::").slice(0, 2).join("::"), chart.urn.split("::")[2] ?? ""];
  return { type, name, urn: `${prefix}::${parentType}$${type}::${name}`, props, parent: chart.urn };
}

/**
 * `resources` with the objects of every `helm.v4.Chart` rendered from `source` added as the Chart's
 * children. Throws ChartRenderError when the archive's digest differs from `source.sha256` or Helm fails.
 */
export async function expandCharts(
  resources: readonly RecordedResource[],
  source: ChartSource,
): Promise<RecordedResource[]> {
  const digest = createHash("sha256")
    .update(await readFile(source.archive))
    .digest("hex");
  if (digest !== source.sha256)
    throw new ChartRenderError(
      `chart archive ${source.archive} has SHA-256 ${digest}, not the pinned ${source.sha256}`,
    );
  const expanded = [...resources];
  const dir = await mkdtemp(join(tmpdir(), "policy-chart-"));
  try {
    for (const chart of resources.filter((r) => CHART.test(r.type))) {
      const namespace = stringOf(chart.props["namespace"]) ?? "default";
      const valuesFile = join(dir, `${chart.name}.json`);
      await writeFile(valuesFile, JSON.stringify(chart.props["values"] ?? {}));
      let stdout: string;
      try {
        ({ stdout } = await promisify(execFile)(
          source.helm,
          ["template", chart.name, source.archive, "--namespace", namespace, "--values", valuesFile, "--include-crds"],
          { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
        ));
      } catch (error) {
        throw new ChartRenderError(`helm template of Chart "${chart.name}" failed: ${(error as Error).message}`);
      }
      for (const document of parseAllDocuments(stdout)) {
        const object: unknown = document.toJS();
        if (typeof object !== "object" || object === null || Array.isArray(object)) continue;
        expanded.push(asResource(chart, object as Record<string, unknown>, namespace));
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return expanded;
}

const PACKAGED = /^kubernetes:(helm\.sh\/v\d+:Chart|yaml(\/v2)?:(ConfigGroup|ConfigFile)|kustomize(\/v2)?:Directory)$/;

/**
 * The packaged objects (Helm charts, YAML config groups, kustomize directories) recorded without their
 * objects, as `<Kind> "<name>"`: what the offline check could not judge and a preview would.
 */
export function unseenPackagedObjects(resources: readonly RecordedResource[]): string[] {
  return resources
    .filter((r) => PACKAGED.test(r.type) && !resources.some((child) => child.parent === r.urn))
    .map((r) => `${r.type.slice(r.type.lastIndexOf(":") + 1)} "${r.name}"`);
}
