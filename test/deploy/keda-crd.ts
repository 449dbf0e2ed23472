/**
 * What the Kubernetes API server accepts for the KEDA objects the program creates: the parts of the
 * ScaledObject and TriggerAuthentication CRDs that the chart version the program installs ships, as JSON
 * Schema (the CRDs' openAPIV3Schema is a structural OpenAPI schema; these keywords mean the same in both).
 * Transcribed, not fetched, from kedacore/charts tag v2.20.2:
 * - keda/templates/crds/crd-scaledobjects.yaml (generated from kedacore/keda v2.20.2
 *   config/crd/bases/keda.sh_scaledobjects.yaml), `spec.versions[v1alpha1].schema.openAPIV3Schema.properties.spec`,
 *   including its CEL rule `minReplicaCount <= maxReplicaCount (default 100)`;
 * - keda/templates/crds/crd-triggerauthentications.yaml, `...properties.spec.properties.podIdentity`.
 * Unknown fields are refused (`additionalProperties: false`): with server-side apply the API server rejects
 * fields a structural schema does not declare (Kubernetes docs, "Field validation", strict for apply).
 * Only the properties the program can set are transcribed; an object the program builds with another
 * property fails here until the transcription covers it.
 */

/** The chart version these schemas come from; infra/keda.ts must install the same one. */
export const KEDA_CRD_CHART_VERSION = "2.20.2";

const int32 = (extra: Record<string, unknown> = {}) => ({
  type: "integer",
  minimum: -2147483648,
  maximum: 2147483647,
  ...extra,
});

const scalingRules = {
  type: "object",
  additionalProperties: false,
  properties: {
    policies: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["periodSeconds", "type", "value"],
        properties: { periodSeconds: int32(), type: { type: "string" }, value: int32() },
      },
    },
    selectPolicy: { type: "string" },
    // "format: int32, maximum: 3600, minimum: 0" in the CRD, as in the HPA API.
    stabilizationWindowSeconds: int32({ minimum: 0, maximum: 3600 }),
  },
};

/** `ScaledObject.spec` (keda.sh/v1alpha1). */
export const SCALED_OBJECT_SPEC = {
  type: "object",
  additionalProperties: false,
  required: ["scaleTargetRef", "triggers"],
  properties: {
    advanced: {
      type: "object",
      additionalProperties: false,
      properties: {
        horizontalPodAutoscalerConfig: {
          type: "object",
          additionalProperties: false,
          properties: {
            behavior: {
              type: "object",
              additionalProperties: false,
              properties: { scaleDown: scalingRules, scaleUp: scalingRules },
            },
            name: { type: "string" },
          },
        },
        restoreToOriginalReplicaCount: { type: "boolean" },
      },
    },
    cooldownPeriod: int32({ minimum: 0 }),
    fallback: {
      type: "object",
      additionalProperties: false,
      required: ["failureThreshold", "replicas"],
      properties: {
        behavior: {
          type: "string",
          enum: ["static", "currentReplicas", "currentReplicasIfHigher", "currentReplicasIfLower", "scalingModifiers"],
        },
        failureThreshold: int32({ minimum: 0 }),
        replicas: int32({ minimum: 0 }),
      },
    },
    idleReplicaCount: int32({ minimum: 0 }),
    initialCooldownPeriod: int32({ minimum: 0 }),
    maxReplicaCount: int32({ minimum: 1 }),
    minReplicaCount: int32({ minimum: 0 }),
    pollingInterval: int32({ minimum: 1 }),
    scaleTargetRef: {
      type: "object",
      additionalProperties: false,
      required: ["name"],
      properties: {
        apiVersion: { type: "string" },
        envSourceContainerName: { type: "string" },
        kind: { type: "string" },
        name: { type: "string", minLength: 1 },
      },
    },
    triggers: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["metadata", "type"],
        properties: {
          authenticationRef: {
            type: "object",
            additionalProperties: false,
            required: ["name"],
            properties: {
              kind: { type: "string", enum: ["TriggerAuthentication", "ClusterTriggerAuthentication"] },
              name: { type: "string" },
            },
          },
          metadata: { type: "object", additionalProperties: { type: "string" } },
          metricType: { type: "string" },
          name: { type: "string" },
          type: { type: "string", minLength: 1 },
          useCachedMetrics: { type: "boolean" },
        },
      },
    },
  },
} as const;

/** `TriggerAuthentication.spec` (keda.sh/v1alpha1), the pod identity part the program sets. */
export const TRIGGER_AUTHENTICATION_SPEC = {
  type: "object",
  additionalProperties: false,
  properties: {
    podIdentity: {
      type: "object",
      additionalProperties: false,
      required: ["provider"],
      properties: {
        externalID: { type: "string" },
        identityAuthorityHost: { type: "string" },
        identityId: { type: "string" },
        identityOwner: { type: "string", enum: ["keda", "workload"] },
        identityTenantId: { type: "string" },
        provider: { type: "string", enum: ["azure-workload", "gcp", "aws", "aws-eks", "none"] },
        roleArn: { type: "string" },
      },
    },
  },
} as const;

/** The ScaledObject CRD's `x-kubernetes-validations` rule, evaluated as its CEL expression says. */
export function scaledObjectCelProblems(spec: { minReplicaCount?: number; maxReplicaCount?: number }): string[] {
  const max = spec.maxReplicaCount ?? 100;
  return spec.minReplicaCount === undefined || spec.minReplicaCount <= max
    ? []
    : ["minReplicaCount must be less than or equal to maxReplicaCount"];
}
