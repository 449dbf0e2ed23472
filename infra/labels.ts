/**
 * Kubernetes recommended labels (app.kubernetes.io/*) for every object of one stack's consumer. The
 * selector uses only the labels that never change for the life of a Deployment (name and instance).
 */

export const APP_NAME = "sqs-eks-consumer";

/** The label naming the stack's instance of the consumer (its namespace's name). */
export const INSTANCE_LABEL = "app.kubernetes.io/instance";

export type Labels = Readonly<Record<string, string>>;

/** The labels a Deployment and its PodDisruptionBudget select pods by. */
export function selectorLabels(instance: string): Labels {
  return { "app.kubernetes.io/name": APP_NAME, [INSTANCE_LABEL]: instance };
}

/** All recommended labels; `version` is the image's short commit. */
export function recommendedLabels(instance: string, version: string): Labels {
  return {
    ...selectorLabels(instance),
    "app.kubernetes.io/component": "consumer",
    "app.kubernetes.io/part-of": APP_NAME,
    "app.kubernetes.io/managed-by": "pulumi",
    "app.kubernetes.io/version": version,
  };
}

/** A label selector as kubectl's -l flag takes it: k=v,k=v. */
export function labelSelector(labels: Labels): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(",");
}
