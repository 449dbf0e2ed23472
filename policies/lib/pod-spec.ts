/**
 * Where a Kubernetes object keeps its pod spec, and the containers in it, with the field paths the
 * messages quote.
 */
import { K8S, kindOf } from "./types";
import { isRecord, listOf, pathOf, recordOf, stringOf, type Props } from "./values";

/** The path from the object to its pod template's `spec`, per pod-bearing type. */
const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
  [K8S.pod]: ["spec"],
  [K8S.deployment]: ["spec", "template", "spec"],
  [K8S.statefulSet]: ["spec", "template", "spec"],
  [K8S.daemonSet]: ["spec", "template", "spec"],
  [K8S.replicaSet]: ["spec", "template", "spec"],
  [K8S.replicationController]: ["spec", "template", "spec"],
  [K8S.job]: ["spec", "template", "spec"],
  [K8S.cronJob]: ["spec", "jobTemplate", "spec", "template", "spec"],
};

export const POD_BEARING_TYPES: readonly string[] = Object.keys(POD_SPEC_PATHS);

export interface PodSpec {
  /** e.g. `Deployment "consumer"`: how messages name the object. */
  readonly label: string;
  /** e.g. `spec.template.spec`. */
  readonly path: string;
  readonly spec: Props;
  /** The pod template's annotations (AppArmor's legacy annotations live there). */
  readonly annotations: Props;
}

export interface Container {
  readonly name: string;
  /** e.g. `spec.template.spec.containers[0]`. */
  readonly path: string;
  readonly fields: Props;
  readonly group: "containers" | "initContainers" | "ephemeralContainers";
}

export function podSpecOf(type: string, name: string, props: Props): PodSpec | undefined {
  const keys = POD_SPEC_PATHS[type];
  if (keys === undefined) return undefined;
  const templateKeys = keys.slice(0, -1);
  const metadata = templateKeys.length === 0 ? props["metadata"] : pathOf(props, ...templateKeys, "metadata");
  return {
    label: `${kindOf(type)} "${name}"`,
    path: keys.join("."),
    spec: recordOf(pathOf(props, ...keys)),
    annotations: recordOf(pathOf(metadata, "annotations")),
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
