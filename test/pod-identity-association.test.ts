/**
 * e2e/pod-identity-association.ts against what EKS applies for a Pod Identity association
 * (amazon-eks-pod-identity-webhook, pkg/handler in container-credentials mode; EKS user guide pod-id-how-it-works).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { IContainer } from "kubernetes-models/v1/Container" with { "resolution-mode": "import" };
import {
  POD_IDENTITY_ENV,
  POD_IDENTITY_TOKEN_VOLUME,
  applyPodIdentityAssociation,
} from "../e2e/pod-identity-association";
import type { AdmittedPod } from "../e2e/pod-identity-webhook";

function pod(containers: IContainer[], initContainers: IContainer[] = []): AdmittedPod {
  return {
    namespace: "apps",
    template: {
      spec: {
        serviceAccountName: "sqs-consumer",
        containers,
        initContainers,
        volumes: [{ name: "scratch", emptyDir: {} }],
      },
    },
  };
}

void describe("EKS's mutation for a Pod Identity association", () => {
  void it("adds the agent's URI and the token file after the container's own variables, a read-only mount and the projected volume", () => {
    const input = pod(
      [{ name: "consumer", image: "consumer", env: [{ name: "AWS_REGION", value: "eu-west-1" }] }],
      [{ name: "init", image: "init" }],
    );
    const before = structuredClone(input);
    const mutated = applyPodIdentityAssociation(input, true);
    assert.deepEqual(input, before, "the input was changed");
    for (const container of [...mutated.spec!.initContainers!, ...mutated.spec!.containers]) {
      const env = Object.fromEntries((container.env ?? []).map((variable) => [variable.name, variable.value]));
      assert.equal(env.AWS_CONTAINER_CREDENTIALS_FULL_URI, "http://169.254.170.23/v1/credentials");
      assert.equal(
        env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE,
        "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token",
      );
      assert.deepEqual(container.volumeMounts, [
        {
          name: "eks-pod-identity-token",
          mountPath: "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount",
          readOnly: true,
        },
      ]);
    }
    assert.deepEqual(mutated.spec!.containers[0]!.env![0], { name: "AWS_REGION", value: "eu-west-1" });
    assert.deepEqual(
      mutated.spec!.volumes!.map((volume) => volume.name),
      ["scratch", "eks-pod-identity-token"],
    );
    assert.deepEqual(mutated.spec!.volumes![1]!.projected, {
      sources: [
        {
          serviceAccountToken: {
            audience: "pods.eks.amazonaws.com",
            expirationSeconds: 86_400,
            path: "eks-pod-identity-token",
          },
        },
      ],
    });
  });

  void it("without an association leaves the pod as it is", () => {
    const input = pod([{ name: "consumer", image: "consumer" }]);
    assert.deepEqual(applyPodIdentityAssociation(input, false), input.template);
  });

  void it("keeps a variable, a mount or a volume the pod already has", () => {
    const own = { name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", value: "http://127.0.0.1:9/creds" };
    const mount = { name: POD_IDENTITY_TOKEN_VOLUME.name, mountPath: "/elsewhere" };
    const input = pod([{ name: "consumer", image: "consumer", env: [own], volumeMounts: [mount] }]);
    input.template.spec!.volumes!.push({ name: POD_IDENTITY_TOKEN_VOLUME.name, emptyDir: {} });
    const mutated = applyPodIdentityAssociation(input, true);
    const container = mutated.spec!.containers[0]!;
    assert.deepEqual(container.env, [
      own,
      {
        name: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        value: POD_IDENTITY_ENV.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE,
      },
    ]);
    assert.deepEqual(container.volumeMounts, [mount]);
    assert.deepEqual(mutated.spec!.volumes, input.template.spec!.volumes);
  });

  void it("refuses Windows pods rather than give them a Linux path", () => {
    const input = pod([{ name: "consumer", image: "consumer" }]);
    input.template.spec!.nodeSelector = { "kubernetes.io/os": "windows" };
    assert.throws(() => applyPodIdentityAssociation(input, true), /Windows/);
  });
});
