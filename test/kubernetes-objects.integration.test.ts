/**
 * The Kubernetes objects the program registers, validated against the upstream OpenAPI schemas
 * (kubernetes-models) and, for the pod template, against each control of the Pod Security Standard
 * "restricted" (https://kubernetes.io/docs/concepts/security/pod-security-standards/).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  parseSettings,
  renderTunablesEnv,
  terminationGracePeriodSeconds,
  validateTunables,
  type Tunables,
} from "../consumer/src/settings";
import { RESTRICTED_VOLUME_TYPES, SAFE_SYSCTLS as PSS_SAFE_SYSCTLS } from "../policies/rules/pod-security";
import type { ProgramRun, RecordedResource } from "./helpers/mocks";
import { assertSucceeded, oneOfType, runProgram, scenario } from "./helpers/program";

const CONSUMER_BLOCK = {
  handlerTimeoutSeconds: 120,
  shutdownBudgetSeconds: 45,
  logLevel: "warn",
  healthPort: 9090,
  receiveLoops: 3,
};
const STACK_VALUES = {
  replicas: 3,
  cpuRequestMillicores: 250,
  cpuLimitMillicores: 1000,
  memoryRequestMiB: 256,
  memoryLimitMiB: 512,
  consumer: CONSUMER_BLOCK,
};

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: object) => Validatable;

let run: ProgramRun;
let models: Record<string, ModelClass>;
let tunables: Tunables;

before(async () => {
  const [core, apps, policy] = await Promise.all([
    import("kubernetes-models/v1"),
    import("kubernetes-models/apps/v1"),
    import("kubernetes-models/policy/v1"),
  ]);
  models = {
    "kubernetes:core/v1:Namespace": core.Namespace,
    "kubernetes:core/v1:ConfigMap": core.ConfigMap,
    "kubernetes:core/v1:Secret": core.Secret,
    "kubernetes:core/v1:ServiceAccount": core.ServiceAccount,
    "kubernetes:apps/v1:Deployment": apps.Deployment,
    "kubernetes:policy/v1:PodDisruptionBudget": policy.PodDisruptionBudget,
  };
  const parsed = validateTunables(CONSUMER_BLOCK);
  assert.ok(parsed.ok);
  tunables = parsed.value;
  run = await runProgram(await scenario("k8s", STACK_VALUES));
  assertSucceeded(run);
});

interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  procMount?: string;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type?: string };
  appArmorProfile?: { type?: string };
  seLinuxOptions?: { type?: string; user?: string; role?: string };
  windowsOptions?: { hostProcess?: boolean };
  sysctls?: { name: string; value: string }[];
}
interface Container {
  name: string;
  image: string;
  env?: { name: string; value?: string; valueFrom?: object }[];
  ports?: { name?: string; containerPort: number; hostPort?: number; protocol?: string }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: SecurityContext;
}
interface PodSpec {
  serviceAccountName?: string;
  terminationGracePeriodSeconds?: number;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: SecurityContext;
  volumes?: Record<string, unknown>[];
  containers: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
}
interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpec;
}

// The Standard's lists of safe sysctls and allowed volume types, shared with the policy pack.
const SAFE_SYSCTLS = new Set<string>(PSS_SAFE_SYSCTLS);
const ALLOWED_VOLUME_TYPES = new Set<string>(RESTRICTED_VOLUME_TYPES);
const ALLOWED_SELINUX_TYPES = new Set(["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"]);

/** The controls of the "restricted" Pod Security Standard (baseline included) that a pod template violates. */
function restrictedViolations(template: PodTemplate): string[] {
  const { spec } = template;
  const pod = spec.securityContext ?? {};
  const containers = [...spec.containers, ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])];
  const contexts = containers.map((c) => c.securityContext ?? {});
  const violations: string[] = [];
  const check = (control: string, ok: boolean) => {
    if (!ok) violations.push(control);
  };
  // Baseline.
  check(
    "HostProcess",
    pod.windowsOptions?.hostProcess !== true && contexts.every((c) => c.windowsOptions?.hostProcess !== true),
  );
  check("Host Namespaces", spec.hostNetwork !== true && spec.hostPID !== true && spec.hostIPC !== true);
  check(
    "Privileged Containers",
    contexts.every((c) => c.privileged !== true),
  );
  check(
    "HostPath Volumes",
    (spec.volumes ?? []).every((v) => !("hostPath" in v)),
  );
  check(
    "Host Ports",
    containers.every((c) => (c.ports ?? []).every((p) => p.hostPort === undefined || p.hostPort === 0)),
  );
  check(
    "AppArmor",
    [pod, ...contexts].every(
      (c) => c.appArmorProfile?.type === undefined || ["RuntimeDefault", "Localhost"].includes(c.appArmorProfile.type),
    ) &&
      Object.entries(template.metadata?.annotations ?? {})
        .filter(([key]) => key.startsWith("container.apparmor.security.beta.kubernetes.io/"))
        .every(([, value]) => value === "runtime/default" || value.startsWith("localhost/")),
  );
  check(
    "SELinux",
    [pod, ...contexts].every(
      (c) =>
        ALLOWED_SELINUX_TYPES.has(c.seLinuxOptions?.type ?? "") &&
        c.seLinuxOptions?.user === undefined &&
        c.seLinuxOptions?.role === undefined,
    ),
  );
  check(
    "/proc Mount Type",
    contexts.every((c) => c.procMount === undefined || c.procMount === "Default"),
  );
  check(
    "Sysctls",
    (pod.sysctls ?? []).every((s) => SAFE_SYSCTLS.has(s.name)),
  );
  // Restricted.
  check(
    "Volume Types",
    (spec.volumes ?? []).every((v) =>
      Object.keys(v)
        .filter((key) => key !== "name")
        .every((key) => ALLOWED_VOLUME_TYPES.has(key)),
    ),
  );
  check(
    "Privilege Escalation",
    contexts.every((c) => c.allowPrivilegeEscalation === false),
  );
  check(
    "Running as Non-root",
    contexts.every((c) => c.runAsNonRoot !== false) &&
      (pod.runAsNonRoot === true || contexts.every((c) => c.runAsNonRoot === true)),
  );
  check("Running as Non-root user", pod.runAsUser !== 0 && contexts.every((c) => c.runAsUser !== 0));
  const seccompOk = (type: string | undefined) => type === "RuntimeDefault" || type === "Localhost";
  check(
    "Seccomp",
    [pod, ...contexts].every((c) => c.seccompProfile?.type !== "Unconfined") &&
      (seccompOk(pod.seccompProfile?.type) || contexts.every((c) => seccompOk(c.seccompProfile?.type))),
  );
  check(
    "Capabilities",
    contexts.every(
      (c) =>
        (c.capabilities?.drop ?? []).includes("ALL") &&
        (c.capabilities?.add ?? []).every((cap) => cap === "NET_BIND_SERVICE"),
    ),
  );
  return violations;
}

/** This stack's Kubernetes objects: not the cluster-wide KEDA installation a create-mode stack adds (test/autoscaling.integration.test.ts). */
function kubernetesResources(): RecordedResource[] {
  const keda = new Set(
    run.resources.filter((r) => r.type === "sqs-eks-consumer:keda:KedaInstallation").map((r) => r.urn),
  );
  return run.resources.filter((r) => r.type.startsWith("kubernetes:") && !keda.has(r.parent));
}

function podTemplate(): PodTemplate {
  return (oneOfType(run, "kubernetes:apps/v1:Deployment").inputs.spec as { template: PodTemplate }).template;
}

function container(): Container {
  return podTemplate().spec.containers[0]!;
}

describe("Kubernetes objects", () => {
  it("all validate against the upstream schemas", () => {
    const resources = kubernetesResources();
    assert.deepEqual(resources.map((r) => r.type).sort(), Object.keys(models).sort(), "one object of each kind");
    for (const resource of resources) {
      const Model = models[resource.type];
      assert.ok(Model, `no schema for ${resource.type}`);
      assert.doesNotThrow(() => new Model(resource.inputs).validate(), `${resource.type} ${resource.name}`);
    }
  });

  it("the schema validation can fail: a Deployment with a port name as containerPort is rejected", () => {
    const deployment = structuredClone(oneOfType(run, "kubernetes:apps/v1:Deployment").inputs) as {
      spec: { template: PodTemplate };
    };
    (deployment.spec.template.spec.containers[0]!.ports![0] as { containerPort: unknown }).containerPort = "health";
    const Model = models["kubernetes:apps/v1:Deployment"]!;
    assert.throws(() => new Model(deployment).validate(), /containerPort must be integer/);
  });

  it("the namespace enforces, audits and warns at the restricted Pod Security level", () => {
    const namespaces = kubernetesResources().filter((r) => r.type === "kubernetes:core/v1:Namespace");
    assert.equal(namespaces.length, 1);
    const labels = (namespaces[0]!.inputs.metadata as { labels: Record<string, string> }).labels;
    for (const mode of ["enforce", "audit", "warn"]) {
      assert.equal(labels[`pod-security.kubernetes.io/${mode}`], "restricted");
      assert.equal(labels[`pod-security.kubernetes.io/${mode}-version`], "latest");
    }
  });
});

describe("the pod template meets the restricted Pod Security Standard", () => {
  it("violates none of its controls", () => {
    assert.deepEqual(restrictedViolations(podTemplate()), []);
  });

  it("runs as 65532, never root, with a read-only root filesystem", () => {
    const pod = podTemplate().spec.securityContext!;
    const own = container().securityContext!;
    assert.equal(pod.runAsNonRoot, true);
    assert.equal(pod.runAsUser, 65532);
    assert.equal(pod.runAsGroup, 65532);
    assert.equal(own.runAsUser, 65532);
    assert.equal(own.runAsGroup, 65532);
    assert.equal(own.readOnlyRootFilesystem, true);
    assert.deepEqual(own.capabilities, { drop: ["ALL"] });
    assert.equal(own.allowPrivilegeEscalation, false);
    assert.deepEqual(own.seccompProfile, { type: "RuntimeDefault" });
    assert.deepEqual(pod.seccompProfile, { type: "RuntimeDefault" });
  });

  it("the checker can fail: a pod breaking each control is flagged for each", () => {
    const bad: PodTemplate = {
      metadata: { annotations: { "container.apparmor.security.beta.kubernetes.io/c": "unconfined" } },
      spec: {
        hostNetwork: true,
        securityContext: {
          runAsUser: 0,
          seccompProfile: { type: "Unconfined" },
          sysctls: [{ name: "kernel.msgmax", value: "1" }],
        },
        volumes: [{ name: "host", hostPath: { path: "/" } }],
        containers: [
          {
            name: "c",
            image: "i",
            ports: [{ containerPort: 80, hostPort: 80 }],
            securityContext: {
              privileged: true,
              allowPrivilegeEscalation: true,
              runAsNonRoot: false,
              procMount: "Unmasked",
              capabilities: { add: ["SYS_ADMIN"] },
              seLinuxOptions: { type: "spc_t" },
              windowsOptions: { hostProcess: true },
            },
          },
        ],
      },
    };
    assert.deepEqual(restrictedViolations(bad).sort(), [
      "/proc Mount Type",
      "AppArmor",
      "Capabilities",
      "Host Namespaces",
      "Host Ports",
      "HostPath Volumes",
      "HostProcess",
      "Privilege Escalation",
      "Privileged Containers",
      "Running as Non-root",
      "Running as Non-root user",
      "SELinux",
      "Seccomp",
      "Sysctls",
      "Volume Types",
    ]);
  });
});

describe("the Deployment", () => {
  it("sets exactly the env the consumer's schema renders, plus region, the queue URL from the Secret and the heap size", () => {
    const expected = [
      ...Object.entries(renderTunablesEnv(tunables)).map(([name, value]) => ({ name, value })),
      { name: "AWS_REGION", value: "us-west-2" },
      { name: "QUEUE_URL", valueFrom: { secretKeyRef: { name: "sqs-consumer-queue", key: "QUEUE_URL" } } },
      { name: "NODE_OPTIONS", value: "--max-old-space-size=384 --max-semi-space-size=32" },
    ];
    assert.deepEqual(container().env, expected);
  });

  it("passes an env the consumer parses back into the configured settings", () => {
    const secret = oneOfType(run, "kubernetes:core/v1:Secret");
    const queueUrl = (secret.inputs.stringData as Record<string, string>).QUEUE_URL!;
    const env = Object.fromEntries(
      container().env!.map((e) => [e.name, e.value ?? (e.name === "QUEUE_URL" ? queueUrl : undefined)]),
    );
    const parsed = parseSettings(env);
    assert.ok(parsed.ok, parsed.ok ? "" : JSON.stringify(parsed.problems));
    assert.deepEqual(parsed.value, { ...tunables, queueUrl, region: "us-west-2" });
  });

  it("keeps the queue URL in a Secret whose value is a Pulumi secret", () => {
    const secret = oneOfType(run, "kubernetes:core/v1:Secret");
    assert.equal((secret.inputs.metadata as { name: string }).name, "sqs-consumer-queue");
    assert.deepEqual(secret.inputs.stringData, {
      QUEUE_URL: "https://sqs.us-west-2.amazonaws.com/123456789012/sqs-eks-consumer-k8s-queue",
    });
    assert.ok(
      secret.secretInputPaths.some((p) => p === "stringData" || p === "stringData.QUEUE_URL"),
      `secret paths: ${secret.secretInputPaths.join(", ")}`,
    );
  });

  it("probes /livez and /readyz on the named health port", () => {
    const own = container();
    assert.deepEqual(own.ports, [{ name: "health", containerPort: 9090, protocol: "TCP" }]);
    assert.deepEqual(own.livenessProbe?.httpGet, { path: "/livez", port: "health" });
    assert.deepEqual(own.readinessProbe?.httpGet, { path: "/readyz", port: "health" });
  });

  it("requests and limits resources as configured", () => {
    assert.deepEqual(container().resources, {
      requests: { cpu: "250m", memory: "256Mi" },
      limits: { cpu: "1000m", memory: "512Mi" },
    });
    assert.equal((oneOfType(run, "kubernetes:apps/v1:Deployment").inputs.spec as { replicas: number }).replicas, 3);
  });

  it("gives the consumer longer than its shutdown budget to exit after SIGTERM", () => {
    assert.equal(podTemplate().spec.terminationGracePeriodSeconds, terminationGracePeriodSeconds(tunables));
    assert.ok(podTemplate().spec.terminationGracePeriodSeconds! > tunables.shutdownBudgetSeconds);
  });

  it("runs as the service account annotated with the IRSA role", () => {
    const serviceAccount = oneOfType(run, "kubernetes:core/v1:ServiceAccount");
    const metadata = serviceAccount.inputs.metadata as {
      name: string;
      namespace: string;
      annotations: Record<string, string>;
    };
    assert.equal(podTemplate().spec.serviceAccountName, metadata.name);
    assert.equal(metadata.namespace, "sqs-eks-consumer-k8s");
    assert.equal(metadata.annotations["eks.amazonaws.com/role-arn"], run.outputs.roleArn);
  });

  it("carries the recommended labels and selects its pods by the stable ones, as its PodDisruptionBudget does", () => {
    const deployment = oneOfType(run, "kubernetes:apps/v1:Deployment");
    const spec = deployment.inputs.spec as { selector: { matchLabels: Record<string, string> }; template: PodTemplate };
    const labels = spec.template.metadata!.labels!;
    for (const key of ["name", "instance", "component", "part-of", "managed-by", "version"]) {
      assert.ok(labels[`app.kubernetes.io/${key}`], `missing app.kubernetes.io/${key}`);
    }
    assert.deepEqual(spec.selector.matchLabels, {
      "app.kubernetes.io/name": "sqs-eks-consumer",
      "app.kubernetes.io/instance": "sqs-eks-consumer-k8s",
    });
    const pdb = oneOfType(run, "kubernetes:policy/v1:PodDisruptionBudget").inputs.spec as {
      maxUnavailable: number;
      selector: object;
    };
    assert.deepEqual(pdb, { maxUnavailable: 1, selector: spec.selector });
    // The consumer's own objects; the developers' access (the directory and its RBAC) is the cluster's, not
    // this instance's, and carries part-of and managed-by only.
    const developerAccess = new Set(
      run.resources.filter((r) => r.type === "sqs-eks-consumer:developer-access:DeveloperAccess").map((r) => r.urn),
    );
    for (const resource of kubernetesResources().filter((r) => !developerAccess.has(r.parent))) {
      const metadataLabels = (resource.inputs.metadata as { labels: Record<string, string> }).labels;
      assert.equal(metadataLabels["app.kubernetes.io/instance"], "sqs-eks-consumer-k8s", resource.name);
    }
    for (const resource of kubernetesResources().filter((r) => developerAccess.has(r.parent))) {
      const metadataLabels = (resource.inputs.metadata as { labels: Record<string, string> }).labels;
      assert.equal(metadataLabels["app.kubernetes.io/managed-by"], "pulumi", resource.name);
    }
  });
});
