/**
 * e2e/pod-launch.ts and e2e/quantity.ts: how a pod spec becomes a container run or a plain process, and
 * that every field it cannot honour is named.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { IContainer } from "kubernetes-models/v1/Container" with { "resolution-mode": "import" };
import type { IPodSpec } from "kubernetes-models/v1/PodSpec" with { "resolution-mode": "import" };
import type { ISecret } from "kubernetes-models/v1/Secret" with { "resolution-mode": "import" };
import { ANNOTATIONS, applyPodIdentityWebhook, eksWebhookConfig, type AdmittedPod } from "../e2e/pod-identity-webhook";
import { movePort, podLaunch, resolveEnv, toContainerRun, toProcessLaunch, type PodLaunch } from "../e2e/pod-launch";
import { cpuMillicores, memoryBytes } from "../e2e/quantity";

const ROLE_ARN = "arn:aws:iam::123456789012:role/consumer";
const SECRET: ISecret = {
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name: "queue", namespace: "apps" },
  stringData: { QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/orders" },
  data: {
    QUEUE_URL: Buffer.from("overridden by stringData").toString("base64"),
    EXTRA: Buffer.from("from data").toString("base64"),
  },
};

/** A container and pod shaped like the ones infra/workload.ts renders. */
function restrictedContainer(overrides: Partial<IContainer> = {}): IContainer {
  return {
    name: "consumer",
    image: "registry/consumer@sha256:abc",
    env: [
      { name: "HEALTH_PORT", value: "8080" },
      { name: "AWS_REGION", value: "eu-west-1" },
      { name: "QUEUE_URL", valueFrom: { secretKeyRef: { name: "queue", key: "QUEUE_URL" } } },
    ],
    ports: [{ name: "health", containerPort: 8080, protocol: "TCP" }],
    livenessProbe: { httpGet: { path: "/livez", port: "health" }, periodSeconds: 10 },
    readinessProbe: { httpGet: { path: "/readyz", port: 8080 }, periodSeconds: 5 },
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    },
    ...overrides,
  };
}

function restrictedPod(container: IContainer = restrictedContainer(), spec: Partial<IPodSpec> = {}): AdmittedPod {
  return {
    namespace: "apps",
    template: {
      spec: {
        serviceAccountName: "sqs-consumer",
        terminationGracePeriodSeconds: 35,
        securityContext: {
          runAsNonRoot: true,
          runAsUser: 65532,
          runAsGroup: 65532,
          seccompProfile: { type: "RuntimeDefault" },
        },
        containers: [container],
        ...spec,
      },
    },
  };
}

function withIrsa(pod: AdmittedPod): AdmittedPod {
  const account = {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "sqs-consumer", namespace: "apps", annotations: { [ANNOTATIONS.roleArn]: ROLE_ARN } },
  } as const;
  return { namespace: pod.namespace, template: applyPodIdentityWebhook(pod, account, eksWebhookConfig("eu-west-1")) };
}

const TOKEN_DIR = "/var/run/secrets/eks.amazonaws.com/serviceaccount";

void describe("pod launch", () => {
  void it("reads a restricted container with the webhook's changes into one launch", () => {
    const launch = podLaunch(withIrsa(restrictedPod()), "consumer", [SECRET]);
    assert.deepEqual(launch, {
      container: "consumer",
      env: {
        HEALTH_PORT: "8080",
        AWS_REGION: "eu-west-1",
        QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/orders",
        AWS_STS_REGIONAL_ENDPOINTS: "regional",
        AWS_ROLE_ARN: ROLE_ARN,
        AWS_WEB_IDENTITY_TOKEN_FILE: `${TOKEN_DIR}/token`,
      },
      args: [],
      user: { uid: 65532, gid: 65532 },
      readOnlyRootFs: true,
      capDrop: ["ALL"],
      noNewPrivileges: true,
      mounts: [{ volume: "aws-iam-token", mountPath: TOKEN_DIR, readOnly: true }],
      projectedTokens: [
        { volume: "aws-iam-token", path: "token", audience: "sts.amazonaws.com", expirationSeconds: 86_400 },
      ],
      resources: { memoryLimitBytes: 256 * 2 ** 20, cpuLimitMillicores: 500, cpuRequestMillicores: 100 },
      ports: { health: 8080 },
      liveness: { path: "/livez", port: 8080 },
      readiness: { path: "/readyz", port: 8080 },
      terminationGracePeriodSeconds: 35,
    } satisfies PodLaunch);
  });

  void it("takes the container's security settings over the pod's, the CPU limit as the request when none is set, and Kubernetes' default grace period", () => {
    const container = restrictedContainer({
      args: ["--flag"],
      resources: { limits: { cpu: "1" } },
      securityContext: { runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
    });
    const launch = podLaunch(restrictedPod(container, { terminationGracePeriodSeconds: undefined }), "consumer", [
      SECRET,
    ]);
    assert.deepEqual(launch.user, { uid: 1000, gid: 1000 });
    assert.equal(launch.readOnlyRootFs, false);
    assert.deepEqual(launch.capDrop, []);
    assert.equal(launch.noNewPrivileges, false);
    assert.deepEqual(launch.args, ["--flag"]);
    assert.deepEqual(launch.resources, { cpuLimitMillicores: 1000, cpuRequestMillicores: 1000 });
    assert.equal(launch.terminationGracePeriodSeconds, 30);
  });

  void it("names every field it cannot honour, in one error", () => {
    const container = restrictedContainer({
      command: ["/bin/sh"],
      workingDir: "/work",
      envFrom: [{ secretRef: { name: "queue" } }],
      args: ["$(HOME)"],
      startupProbe: { httpGet: { path: "/", port: 1 } },
      livenessProbe: { tcpSocket: { port: 8080 } },
      readinessProbe: { httpGet: { path: "/readyz", port: "metrics", scheme: "HTTPS" } },
      resources: { limits: { "nvidia.com/gpu": "1", memory: "lots" } },
      securityContext: {
        runAsUser: 0,
        runAsNonRoot: true,
        privileged: true,
        capabilities: { add: ["NET_ADMIN"] },
        procMount: "Unmasked",
      },
      volumeMounts: [
        { name: "scratch", mountPath: "/scratch", subPath: "a" },
        { name: "missing", mountPath: "/missing" },
      ],
    });
    const pod = restrictedPod(container, {
      hostNetwork: true,
      initContainers: [{ name: "init" }],
      securityContext: { fsGroup: 2000, seccompProfile: { type: "Unconfined" } },
      volumes: [{ name: "scratch", emptyDir: {} }],
    });
    assert.throws(
      () => podLaunch(pod, "consumer", [SECRET]),
      (error: Error) => {
        for (const fragment of [
          "spec.hostNetwork: not modelled",
          "spec.initContainers: not modelled",
          "spec.securityContext.fsGroup: not modelled",
          "containers[consumer].command: not modelled",
          "containers[consumer].workingDir: not modelled",
          "containers[consumer].envFrom: not modelled",
          "containers[consumer].startupProbe: not modelled",
          "containers[consumer].args[0]: $(VAR) expansion is not modelled",
          "containers[consumer].securityContext.procMount: not modelled",
          "runAsNonRoot with runAsUser 0",
          "containers[consumer].securityContext.privileged: not modelled",
          "containers[consumer].securityContext.capabilities.add: not modelled",
          "seccompProfile Unconfined is not modelled",
          "containers[consumer].volumeMounts[scratch].subPath: not modelled",
          "volumes[scratch]: only projected service account tokens are modelled",
          "containers[consumer].volumeMounts[missing]: no volume of that name",
          "containers[consumer].resources.limits.nvidia.com/gpu: not modelled",
          "containers[consumer].resources.limits.memory: 'lots' is not a Kubernetes quantity",
          "containers[consumer].livenessProbe: only httpGet probes are modelled",
          "containers[consumer].readinessProbe.httpGet.scheme: HTTPS is not modelled",
          "containers[consumer].readinessProbe.httpGet.port: the container has no port named 'metrics'",
        ]) {
          assert.ok(error.message.includes(fragment), `"${fragment}" missing from:\n${error.message}`);
        }
        return true;
      },
    );
  });

  void it("refuses runAsNonRoot without a user it can check, and seccomp left unset", () => {
    const container = restrictedContainer({ securityContext: { runAsNonRoot: true } });
    const pod = restrictedPod(container, { securityContext: {} });
    assert.throws(
      () => podLaunch(pod, "consumer", [SECRET]),
      /runAsNonRoot without runAsUser.*\n.*seccompProfile unset \(Unconfined\)/s,
    );
    assert.throws(
      () => podLaunch(restrictedPod(), "sidecar", [SECRET]),
      /no container 'sidecar' in the pod \(it has 'consumer'\)/,
    );
  });
});

void describe("environment resolution", () => {
  const resolve = (env: IContainer["env"], secrets: readonly ISecret[] = [SECRET]) =>
    resolveEnv({ name: "c", env }, secrets, "apps");

  void it("reads literal values and secretKeyRefs from stringData over data; a later duplicate wins", () => {
    const { value, problems } = resolve([
      { name: "A", value: "1" },
      { name: "EMPTY" },
      { name: "URL", valueFrom: { secretKeyRef: { name: "queue", key: "QUEUE_URL" } } },
      { name: "FROM_DATA", valueFrom: { secretKeyRef: { name: "queue", key: "EXTRA" } } },
      { name: "A", value: "2" },
      { name: "OPTIONAL", valueFrom: { secretKeyRef: { name: "queue", key: "NOPE", optional: true } } },
    ]);
    assert.deepEqual(problems, []);
    assert.deepEqual(value, {
      A: "2",
      EMPTY: "",
      URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/orders",
      FROM_DATA: "from data",
    });
  });

  void it("names a missing Secret, a missing key, a Secret of another namespace, and sources it does not model", () => {
    const other = { ...SECRET, metadata: { name: "elsewhere", namespace: "other" } };
    const { problems } = resolve(
      [
        { name: "NO_SECRET", valueFrom: { secretKeyRef: { name: "absent", key: "K" } } },
        { name: "NO_KEY", valueFrom: { secretKeyRef: { name: "queue", key: "K" } } },
        { name: "OTHER_NS", valueFrom: { secretKeyRef: { name: "elsewhere", key: "QUEUE_URL" } } },
        { name: "CONFIG", valueFrom: { configMapKeyRef: { name: "c", key: "k" } } },
        { name: "EXPANDED", value: "$(A)/x" },
      ],
      [SECRET, other],
    );
    assert.deepEqual(problems, [
      "containers[c].env.NO_SECRET: no Secret apps/absent",
      "containers[c].env.NO_KEY: Secret apps/queue has no key K",
      "containers[c].env.OTHER_NS: no Secret apps/elsewhere",
      "containers[c].env.CONFIG: valueFrom.configMapKeyRef is not modelled (only secretKeyRef)",
      "containers[c].env.EXPANDED: $(VAR) expansion is not modelled",
    ]);
  });
});

void describe("moving the health port", () => {
  const launch = podLaunch(restrictedPod(), "consumer", [SECRET]);

  void it("moves the named port, its variable and the probes on it together", () => {
    const moved = movePort(launch, "health", "HEALTH_PORT", 18080);
    assert.equal(moved.env.HEALTH_PORT, "18080");
    assert.deepEqual(moved.ports, { health: 18080 });
    assert.deepEqual(moved.liveness, { path: "/livez", port: 18080 });
    assert.deepEqual(moved.readiness, { path: "/readyz", port: 18080 });
    assert.equal(launch.env.HEALTH_PORT, "8080", "the original launch is unchanged");
  });

  void it("refuses when the variable and the port disagree, or the port is unknown", () => {
    const disagreeing = { ...launch, env: { ...launch.env, HEALTH_PORT: "9090" } };
    assert.throws(
      () => movePort(disagreeing, "health", "HEALTH_PORT", 18080),
      /port 'health' is 8080 but HEALTH_PORT is 9090/,
    );
    assert.throws(() => movePort(launch, "metrics", "HEALTH_PORT", 18080), /no port named 'metrics'/);
  });
});

void describe("rendering a launch", () => {
  const launch = podLaunch(
    withIrsa(
      restrictedPod(restrictedContainer({ args: [`--token=${TOKEN_DIR}/token`, `${TOKEN_DIR}-not-the-mount`] })),
    ),
    "consumer",
    [SECRET],
  );
  const host = {
    volumeHostPaths: { "aws-iam-token": "/tmp/projected" },
    extraEnv: { AWS_ENDPOINT_URL_SQS: "http://127.0.0.1:4566" },
  };

  void it("as podman options, field for field, on the host network", () => {
    assert.deepEqual(toContainerRun(launch, { ...host, image: "localhost/consumer:e2e", name: "e2e-consumer" }), {
      image: "localhost/consumer:e2e",
      name: "e2e-consumer",
      env: { ...launch.env, AWS_ENDPOINT_URL_SQS: "http://127.0.0.1:4566" },
      user: { uid: 65532, gid: 65532 },
      readOnlyRootFs: true,
      capDrop: ["ALL"],
      noNewPrivileges: true,
      args: launch.args,
      mounts: [{ source: "/tmp/projected", target: TOKEN_DIR, readOnly: true }],
      resources: { memoryLimitBytes: 268_435_456, cpuLimitMillicores: 500, cpuRequestMillicores: 100 },
      network: "host",
    });
  });

  void it("as a plain process, with paths into mounted volumes rewritten to their host directories", () => {
    const process = toProcessLaunch(launch, host);
    assert.equal(process.env.AWS_WEB_IDENTITY_TOKEN_FILE, "/tmp/projected/token");
    assert.equal(process.env.AWS_ENDPOINT_URL_SQS, "http://127.0.0.1:4566");
    assert.equal(process.env.QUEUE_URL, launch.env.QUEUE_URL);
    assert.deepEqual(
      process.args,
      [`--token=${TOKEN_DIR}/token`, `${TOKEN_DIR}-not-the-mount`],
      "only whole values are paths; neither argument is one",
    );
    assert.deepEqual(toProcessLaunch({ ...launch, args: [`${TOKEN_DIR}/token`] }, host).args, ["/tmp/projected/token"]);
  });

  void it("refuses extra variables that would override the pod's, and a mounted volume without a host directory", () => {
    assert.throws(
      () => toProcessLaunch(launch, { ...host, extraEnv: { AWS_REGION: "us-east-1", QUEUE_URL: "x" } }),
      /override the pod spec's own: AWS_REGION, QUEUE_URL/,
    );
    assert.throws(
      () => toContainerRun(launch, { ...host, volumeHostPaths: {}, image: "i", name: "n" }),
      /no host directory for volume 'aws-iam-token'/,
    );
  });
});

void describe("Kubernetes quantities", () => {
  void it("reads CPU in millicores and memory in bytes, rounding up", () => {
    assert.deepEqual(
      ["500m", "1", "0.1", 0.5, "1.5", "2e3", "100u"].map(cpuMillicores),
      [500, 1000, 100, 500, 1500, 2_000_000, 1],
    );
    assert.deepEqual(["256Mi", "1Gi", "128M", "1k", "1.5Ki", "100m", 1024, ".5Ki"].map(memoryBytes), [
      268_435_456,
      2 ** 30,
      128e6,
      1000,
      1536,
      1,
      1024,
      512,
    ]);
  });

  void it("rejects what is not a quantity", () => {
    for (const bad of ["lots", "1KB", "1 Mi", "", "Mi"])
      assert.throws(() => memoryBytes(bad), /is not a Kubernetes quantity/, bad);
  });
});
