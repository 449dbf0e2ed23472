/**
 * Where a Kubernetes object keeps its pod spec, and the containers in it, with the field paths the
 * messages quote.
 */
import { kindOf } from "./types";
import { isRecord, listOf, pathOf, recordOf, stringOf, type Props } from "./values";

/**
 * The path from the object to its pod template's `spec`, per pod-bearing kind. Kinds are matched in
 * every API group and version the provider has (`apps/v1beta1:Deployment`, `extensions/v1beta1`,
 * `batch/v1beta1:CronJob`, ...): an older version is no way around the rules.
 */
const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: ["spec"],
  PodTemplate: ["template", "spec"],
  Deployment: ["spec", "template", "spec"],
  StatefulSet: ["spec", "template", "spec"],
  DaemonSet: ["spec", "template", "spec"],
  ReplicaSet: ["spec", "template", "spec"],
  ReplicationController: ["spec", "template", "spec"],
  Job: ["spec", "template", "spec"],
  CronJob: ["spec", "jobTemplate", "spec", "template", "spec"],
  // KEDA's ScaledJob runs Jobs from its own pod template.
  ScaledJob: ["spec", "jobTargetRef", "template", "spec"],
};

/**
 * The pod-spec path of a Kubernetes type token (`kubernetes:<group>/<version>:<Kind>`), any version; the
 * provider's server-side-apply `<Kind>Patch` types (`DeploymentPatch`, ...) have the same shape.
 */
function podSpecPath(type: string): readonly string[] | undefined {
  const match = /^kubernetes:[^:]+:([A-Za-z]+?)(Patch)?$/.exec(type);
  return match?.[1] === undefined ? undefined : POD_SPEC_PATHS[match[1]];
}

/** Whether a type is a `<Kind>Patch`: it changes only the fields it sets, so an absent field is not "unset". */
export function isPatchType(type: string): boolean {
  return /^kubernetes:[^:]+:[A-Za-z]+Patch$/.test(type);
}

export interface PodSpec {
  /** e.g. `Deployment "consumer"`: how messages name the object. */
  readonly label: string;
  /** e.g. `spec.template.spec`. */
  readonly path: string;
  readonly spec: Props;
  /** The pod template's annotations (AppArmor's legacy annotations live there). */
  readonly annotations: Props;
  /** A `<Kind>Patch`: rules judge the values it sets, not the fields it leaves to the live object. */
  readonly patch: boolean;
}

export interface Container {
  readonly name: string;
  /** e.g. `spec.template.spec.containers[0]`. */
  readonly path: string;
  readonly fields: Props;
  readonly group: "containers" | "initContainers" | "ephemeralContainers";
}

export function podSpecOf(type: string, name: string, props: Props): PodSpec | undefined {
  const keys = podSpecPath(type);
  if (keys === undefined) return undefined;
  const templateKeys = keys.slice(0, -1);
  const metadata = templateKeys.length === 0 ? props["metadata"] : pathOf(props, ...templateKeys, "metadata");
  return {
    label: `${kindOf(type)} "${name}"`,
    path: keys.join("."),
    spec: recordOf(pathOf(props, ...keys)),
    annotations: recordOf(pathOf(metadata, "annotations")),
    patch: isPatchType(type),
  };
}

export function containersOf(pod: PodSpec): Container[] {
  const containers: Container[] = [];
  for (const group of ["containers", "initContainers", "ephemeralContainers"] as const) {
    listOf(pod.spec[group]).forEach((fields, index) => {
      if (!isRecord(fields)) return;
      containers.push({
        name: stringOf(fields["name"]) ?? `#${index}`,
        path: `${pod.path}.${group}[${index}]`,
        fields,
        group,
      });
    });
  }
  return containers;
}

/** `Deployment "consumer" container "app"`: the subject of a per-container message. */
export function containerLabel(pod: PodSpec, container: Container): string {
  return `${pod.label} container "${container.name}"`;
}
