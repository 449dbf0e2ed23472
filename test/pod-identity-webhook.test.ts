/**
 * e2e/pod-identity-webhook.ts against the behaviour of the EKS pod identity webhook's pod mutation
 * (pkg/handler/handler.go addEnvToContainer and getPodSpecPatch, pkg/cache/cache.go addSA).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { IContainer } from "kubernetes-models/v1/Container" with { "resolution-mode": "import" };
import type { IPodTemplateSpec } from "kubernetes-models/v1/PodTemplateSpec" with { "resolution-mode": "import" };
import type { IServiceAccount } from "kubernetes-models/v1/ServiceAccount" with { "resolution-mode": "import" };
import {
  ANNOTATIONS,
  TOKEN_VOLUME,
  applyPodIdentityWebhook,
  eksWebhookConfig,
  type AdmittedPod,
} from "../e2e/pod-identity-webhook";

const ROLE_ARN = "arn:aws:iam::123456789012:role/consumer";
const TOKEN_FILE = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token";
const CONFIG = eksWebhookConfig("eu-west-1");

function account(
  annotations: Record<string, string> = { [ANNOTATIONS.roleArn]: ROLE_ARN },
  name = "sqs-consumer",
  namespace = "apps",
): IServiceAccount {
  return { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace, annotations } };
}

function pod(
  containers: IContainer[],
  options: { annotations?: Record<string, string>; extra?: Partial<NonNullable<IPodTemplateSpec["spec"]>> } = {},
): AdmittedPod {
  return {
    namespace: "apps",
    template: {
      metadata: { labels: { app: "consumer" }, ...(options.annotations ? { annotations: options.annotations } : {}) },
      spec: { serviceAccountName: "sqs-consumer", containers, ...options.extra },
    },
  };
}

const names = (container: IContainer | undefined): string[] => (container?.env ?? []).map((variable) => variable.name);
const only = (template: IPodTemplateSpec): IContainer => template.spec!.containers[0]!;

void describe("the EKS pod identity webhook's mutation", () => {
  void it("adds regional STS, the role and the token file after the container's own variables, a read-only mount, and the token volume", () => {
    const input = pod(
      [
        {
          name: "consumer",
          image: "consumer",
          env: [
            { name: "AWS_REGION", value: "eu-west-1" },
            { name: "LOG_LEVEL", value: "info" },
          ],
        },
      ],
      {
        extra: { volumes: [{ name: "scratch", emptyDir: {} }] },
      },
    );
    const before = structuredClone(input);
    const mutated = applyPodIdentityWebhook(input, account(), CONFIG);

    assert.deepEqual(only(mutated).env, [
      { name: "AWS_REGION", value: "eu-west-1" },
      { name: "LOG_LEVEL", value: "info" },
      { name: "AWS_STS_REGIONAL_ENDPOINTS", value: "regional" },
      { name: "AWS_ROLE_ARN", value: ROLE_ARN },
      { name: "AWS_WEB_IDENTITY_TOKEN_FILE", value: TOKEN_FILE },
    ]);
    assert.deepEqual(only(mutated).volumeMounts, [
      { name: "aws-iam-token", readOnly: true, mountPath: "/var/run/secrets/eks.amazonaws.com/serviceaccount" },
    ]);
    assert.deepEqual(mutated.spec!.volumes, [
      {
        name: "aws-iam-token",
        projected: {
          sources: [
            { serviceAccountToken: { audience: "sts.amazonaws.com", expirationSeconds: 86_400, path: "token" } },
          ],
        },
      },
      { name: "scratch", emptyDir: {} },
    ]);
    assert.deepEqual(input, before, "the input pod was changed");
  });

  void it("sets AWS_DEFAULT_REGION and AWS_REGION from its configuration only when the container sets neither", () => {
    const none = applyPodIdentityWebhook(pod([{ name: "c" }]), account(), CONFIG);
    assert.deepEqual(only(none).env?.slice(0, 3), [
      { name: "AWS_STS_REGIONAL_ENDPOINTS", value: "regional" },
      { name: "AWS_DEFAULT_REGION", value: "eu-west-1" },
      { name: "AWS_REGION", value: "eu-west-1" },
    ]);
    const defaultOnly = applyPodIdentityWebhook(
      pod([{ name: "c", env: [{ name: "AWS_DEFAULT_REGION", value: "us-east-2" }] }]),
      account(),
      CONFIG,
    );
    assert.deepEqual(names(only(defaultOnly)), [
      "AWS_DEFAULT_REGION",
      "AWS_STS_REGIONAL_ENDPOINTS",
      "AWS_ROLE_ARN",
      "AWS_WEB_IDENTITY_TOKEN_FILE",
    ]);
    const unconfigured = applyPodIdentityWebhook(pod([{ name: "c" }]), account(), { ...CONFIG, region: "" });
    assert.deepEqual(names(only(unconfigured)), [
      "AWS_STS_REGIONAL_ENDPOINTS",
      "AWS_ROLE_ARN",
      "AWS_WEB_IDENTITY_TOKEN_FILE",
    ]);
  });

  void it("leaves the pod as it is when the service account has no role annotation, or an empty one", () => {
    const input = pod([{ name: "c", env: [{ name: "A", value: "1" }] }]);
    assert.deepEqual(applyPodIdentityWebhook(input, account({}), CONFIG), input.template);
    assert.deepEqual(applyPodIdentityWebhook(input, account({ [ANNOTATIONS.roleArn]: "" }), CONFIG), input.template);
  });

  void it("never overrides a variable the container sets: one web identity variable keeps both out", () => {
    const mutated = applyPodIdentityWebhook(
      pod([{ name: "c", env: [{ name: "AWS_ROLE_ARN", value: "arn:aws:iam::1:role/mine" }] }]),
      account(),
      CONFIG,
    );
    assert.deepEqual(only(mutated).env, [
      { name: "AWS_ROLE_ARN", value: "arn:aws:iam::1:role/mine" },
      { name: "AWS_STS_REGIONAL_ENDPOINTS", value: "regional" },
      { name: "AWS_DEFAULT_REGION", value: "eu-west-1" },
      { name: "AWS_REGION", value: "eu-west-1" },
    ]);
    assert.equal(only(mutated).volumeMounts?.length, 1, "the mount is still added");
  });

  void it("leaves a container that sets all three groups alone, mount included, but still adds the volume to the pod", () => {
    const env = [
      { name: "AWS_WEB_IDENTITY_TOKEN_FILE", value: "/elsewhere" },
      { name: "AWS_REGION", value: "eu-west-1" },
      { name: "AWS_STS_REGIONAL_ENDPOINTS", value: "legacy" },
    ];
    const mutated = applyPodIdentityWebhook(pod([{ name: "c", env }]), account(), CONFIG);
    assert.deepEqual(only(mutated), { name: "c", env });
    assert.deepEqual(
      mutated.spec!.volumes?.map((volume) => volume.name),
      [TOKEN_VOLUME.name],
    );
  });

  void it("does not add a second token volume or mount", () => {
    const volume = {
      name: "aws-iam-token",
      projected: { sources: [{ serviceAccountToken: { path: "token", audience: "custom" } }] },
    };
    const mount = { name: "aws-iam-token", mountPath: "/custom", readOnly: true };
    const mutated = applyPodIdentityWebhook(
      pod([{ name: "c", volumeMounts: [mount] }], { extra: { volumes: [volume] } }),
      account(),
      CONFIG,
    );
    assert.deepEqual(mutated.spec!.volumes, [volume]);
    assert.deepEqual(only(mutated).volumeMounts, [mount]);
    assert.equal(
      only(mutated).env?.find((variable) => variable.name === "AWS_WEB_IDENTITY_TOKEN_FILE")?.value,
      TOKEN_FILE,
      "the token path is the webhook's own, whatever the mount",
    );
  });

  void it("reads audience, regional STS and token lifetime from the service account, and lifetime and skipped containers from the pod", () => {
    const annotated = account({
      [ANNOTATIONS.roleArn]: ROLE_ARN,
      [ANNOTATIONS.audience]: "my-audience",
      [ANNOTATIONS.regionalSts]: "false",
      [ANNOTATIONS.tokenExpiration]: "3600",
    });
    const mutated = applyPodIdentityWebhook(
      pod([{ name: "consumer" }, { name: "sidecar" }], {
        extra: { initContainers: [{ name: "init" }] },
        annotations: { [ANNOTATIONS.skipContainers]: "sidecar" },
      }),
      annotated,
      CONFIG,
    );
    assert.deepEqual(mutated.spec!.volumes?.[0]?.projected?.sources?.[0]?.serviceAccountToken, {
      audience: "my-audience",
      expirationSeconds: 3600,
      path: "token",
    });
    assert.ok(!names(only(mutated)).includes("AWS_STS_REGIONAL_ENDPOINTS"), "the annotation turns regional STS off");
    assert.deepEqual(mutated.spec!.containers[1], { name: "sidecar" }, "a skipped container is left alone");
    assert.ok(names(mutated.spec!.initContainers![0]).includes("AWS_ROLE_ARN"), "init containers are mutated too");

    const lifetime = (podAnnotation: string | undefined, accountAnnotation: string | undefined): number | undefined => {
      const sa = account({
        [ANNOTATIONS.roleArn]: ROLE_ARN,
        ...(accountAnnotation === undefined ? {} : { [ANNOTATIONS.tokenExpiration]: accountAnnotation }),
      });
      const input = pod(
        [{ name: "c" }],
        podAnnotation === undefined ? {} : { annotations: { [ANNOTATIONS.tokenExpiration]: podAnnotation } },
      );
      return applyPodIdentityWebhook(input, sa, CONFIG).spec!.volumes?.[0]?.projected?.sources?.[0]?.serviceAccountToken
        ?.expirationSeconds;
    };
    assert.equal(lifetime("7200", "3600"), 7200, "the pod's annotation wins");
    assert.equal(lifetime("300", undefined), 600, "raised to the 10-minute minimum");
    assert.equal(lifetime("soon", "3600"), 3600, "an unparsable pod value is ignored");
    assert.equal(lifetime(undefined, "later"), 86_400, "an unparsable account value is ignored");
  });

  void it("accepts the boolean spellings Go's strconv.ParseBool does, and ignores others", () => {
    const regional = (value: string): boolean => {
      const sa = account({ [ANNOTATIONS.roleArn]: ROLE_ARN, [ANNOTATIONS.regionalSts]: value });
      return names(only(applyPodIdentityWebhook(pod([{ name: "c" }]), sa, { ...CONFIG, regionalSts: false }))).includes(
        "AWS_STS_REGIONAL_ENDPOINTS",
      );
    };
    for (const value of ["1", "t", "T", "TRUE", "true", "True"]) assert.equal(regional(value), true, value);
    for (const value of ["0", "f", "FALSE", "yes", "on"]) assert.equal(regional(value), false, value);
  });

  void it("refuses a service account the pod does not run as, and Windows pods", () => {
    assert.throws(
      () => applyPodIdentityWebhook(pod([{ name: "c" }]), account(undefined, "other"), CONFIG),
      /apps\/sqs-consumer, but apps\/other was given/,
    );
    assert.throws(
      () => applyPodIdentityWebhook(pod([{ name: "c" }]), account(undefined, "sqs-consumer", "default"), CONFIG),
      /but default\/sqs-consumer was given/,
    );
    assert.throws(
      () =>
        applyPodIdentityWebhook(
          pod([{ name: "c" }], { extra: { nodeSelector: { "kubernetes.io/os": "windows" } } }),
          account(),
          CONFIG,
        ),
      /Windows nodes .* not modelled/,
    );
  });

  void it("is configured as EKS runs it: the cluster's region, regional STS, the STS audience, 24-hour tokens", () => {
    assert.deepEqual(eksWebhookConfig("us-west-2"), {
      region: "us-west-2",
      regionalSts: true,
      audience: "sts.amazonaws.com",
      tokenExpirationSeconds: 86_400,
    });
  });
});
