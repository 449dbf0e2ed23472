// What EKS does at admission to a pod whose service account has an EKS Pod Identity association: the
// container-credentials mode of the same webhook e2e/pod-identity-webhook.ts ports for IRSA,
// github.com/aws/amazon-eks-pod-identity-webhook (pkg/handler, and pkg/containercredentials, which reads
// the control plane's association file; the handler's tests pin the values below: volume and token path
// `eks-pod-identity-token`, mount path /var/run/secrets/pods.eks.amazonaws.com/serviceaccount, audience
// pods.eks.amazonaws.com, full URI http://169.254.170.23/v1/credentials). The EKS user guide's "Understand
// how EKS Pod Identity works" (pod-id-how-it-works) describes the same variables and token. The
// association itself lives in the EKS API, not in the pod or its service account, so the caller says
// whether there is one. Pure: no I/O.
import type { IContainer } from "kubernetes-models/v1/Container" with { "resolution-mode": "import" };
import type { IPodTemplateSpec } from "kubernetes-models/v1/PodTemplateSpec" with { "resolution-mode": "import" };
import type { AdmittedPod } from "./pod-identity-webhook";

/** The EKS Pod Identity Agent's address on every node (link-local; the SDK allows plain http to it). */
export const POD_IDENTITY_AGENT_URI = "http://169.254.170.23/v1/credentials";

/** The projected volume EKS adds for an association, and where each container mounts it. */
export const POD_IDENTITY_TOKEN_VOLUME = {
  name: "eks-pod-identity-token",
  mountPath: "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount",
  path: "eks-pod-identity-token",
  audience: "pods.eks.amazonaws.com",
  /** The lifetime used here (24 h, as for the web identity token); the upstream handler tests do not pin it. */
  expirationSeconds: 86_400,
} as const;

/** The variables EKS sets, by name: the SDK's container credentials provider reads both. */
export const POD_IDENTITY_ENV = {
  AWS_CONTAINER_CREDENTIALS_FULL_URI: POD_IDENTITY_AGENT_URI,
  AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: `${POD_IDENTITY_TOKEN_VOLUME.mountPath}/${POD_IDENTITY_TOKEN_VOLUME.path}`,
} as const;

/**
 * Returns the pod template as EKS leaves it; the input is not changed. Without an association the pod
 * is left as it is. With one, every container (init containers included) gets each of POD_IDENTITY_ENV
 * it does not already set and a read-only mount of the token volume, and the pod gets the projected
 * volume (audience pods.eks.amazonaws.com) unless it has one of that name. Throws for a pod without a
 * spec and for Windows pods (a C:\ token path, not modelled).
 */
export function applyPodIdentityAssociation(pod: AdmittedPod, associated: boolean): IPodTemplateSpec {
  const template = structuredClone(pod.template);
  const spec = template.spec;
  if (spec === undefined) throw new Error("the pod template has no spec");
  const os = spec.nodeSelector?.["kubernetes.io/os"] ?? spec.nodeSelector?.["beta.kubernetes.io/os"];
  if (os === "windows") throw new Error("pods for Windows nodes (a C:\\ token path) are not modelled");
  if (!associated) return template;
  for (const container of [...(spec.initContainers ?? []), ...spec.containers]) addToContainer(container);
  if (!(spec.volumes ?? []).some((volume) => volume.name === POD_IDENTITY_TOKEN_VOLUME.name)) {
    const { name, path, audience, expirationSeconds } = POD_IDENTITY_TOKEN_VOLUME;
    spec.volumes = [
      ...(spec.volumes ?? []),
      { name, projected: { sources: [{ serviceAccountToken: { audience, expirationSeconds, path } }] } },
    ];
  }
  return template;
}

function addToContainer(container: IContainer): void {
  const names = new Set((container.env ?? []).map((variable) => variable.name));
  const added = Object.entries(POD_IDENTITY_ENV).filter(([name]) => !names.has(name));
  container.env = [...(container.env ?? []), ...added.map(([name, value]) => ({ name, value }))];
  if (!(container.volumeMounts ?? []).some((mount) => mount.name === POD_IDENTITY_TOKEN_VOLUME.name)) {
    const { name, mountPath } = POD_IDENTITY_TOKEN_VOLUME;
    container.volumeMounts = [...(container.volumeMounts ?? []), { name, mountPath, readOnly: true }];
  }
}
