import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { K8S } from "../lib/types";
import { containerReadOnlyRootFilesystem, podSecurityRestricted } from "../rules/pod-security";
import { edit, resourceViolations } from "./harness";
import { deploymentProps, goodResources, IMAGE, resource } from "./fixtures/good-stack";

const P = "spec.template.spec";
const C = `${P}.containers[0]`;
const SC = `${C}.securityContext`;
const EDIT_C = `${P}.containers.0`;
const DEPLOYMENT = `Deployment "consumer"`;
const CONTAINER = `${DEPLOYMENT} container "consumer"`;

async function violationsWith(changes: Record<string, unknown>) {
  return resourceViolations(podSecurityRestricted, edit(goodResources().deployment, changes));
}

describe("pod-security-restricted", () => {
  it("passes the program's Deployment", async () => {
    assert.deepEqual(await resourceViolations(podSecurityRestricted, goodResources().deployment), []);
  });

  it("ignores objects that carry no pod template", async () => {
    assert.deepEqual(await resourceViolations(podSecurityRestricted, goodResources().namespace), []);
  });

  const cases: { name: string; changes: Record<string, unknown>; expected: string[] }[] = [
    {
      name: "host namespaces",
      changes: { [`${P}.hostNetwork`]: true, [`${P}.hostPID`]: true, [`${P}.hostIPC`]: true },
      expected: ["hostNetwork", "hostPID", "hostIPC"].map(
        (f) => `${DEPLOYMENT}: ${P}.${f} is true; remove it, pods may not share the host's namespaces.`,
      ),
    },
    {
      name: "hostPath and other volume types",
      changes: {
        [`${P}.volumes`]: [
          { name: "host", hostPath: { path: "/" } },
          { name: "share", nfs: { server: "x", path: "/" } },
          { name: "ok", projected: {} },
        ],
      },
      expected: [
        `${DEPLOYMENT}: volume "host" (${P}.volumes[0]) is a hostPath volume; use emptyDir, configMap, secret, projected or persistentVolumeClaim instead.`,
        `${DEPLOYMENT}: volume "share" (${P}.volumes[1]) has type nfs, which the restricted profile does not allow; use one of configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret.`,
      ],
    },
    {
      name: "unsafe sysctls",
      changes: {
        [`${P}.securityContext.sysctls`]: [
          { name: "net.ipv4.tcp_syncookies", value: "1" },
          { name: "net.core.somaxconn", value: "1024" },
        ],
      },
      expected: [
        `${DEPLOYMENT}: ${P}.securityContext.sysctls[1] sets "net.core.somaxconn", which is not a safe sysctl; remove it.`,
      ],
    },
    {
      name: "root at pod level",
      changes: { [`${P}.securityContext.runAsUser`]: 0, [`${P}.securityContext.runAsNonRoot`]: false },
      expected: [
        `${DEPLOYMENT}: ${P}.securityContext.runAsUser is 0 (root); set a non-zero user ID.`,
        `${DEPLOYMENT}: ${P}.securityContext.runAsNonRoot is false; set it to true.`,
      ],
    },
    {
      name: "root in the container",
      changes: { [`${EDIT_C}.securityContext.runAsUser`]: 0, [`${EDIT_C}.securityContext.runAsNonRoot`]: false },
      expected: [
        `${CONTAINER}: ${SC}.runAsNonRoot is false; set it to true.`,
        `${CONTAINER}: ${SC}.runAsUser is 0 (root); set a non-zero user ID.`,
      ],
    },
    {
      name: "runAsNonRoot set nowhere",
      changes: {
        [`${P}.securityContext.runAsNonRoot`]: undefined,
        [`${EDIT_C}.securityContext.runAsNonRoot`]: undefined,
      },
      expected: [
        `${CONTAINER}: ${SC}.runAsNonRoot is not set, nor is ${P}.securityContext.runAsNonRoot; set runAsNonRoot: true on the container or the pod.`,
      ],
    },
    {
      name: "an Unconfined seccomp profile at pod or container level",
      changes: {
        [`${P}.securityContext.seccompProfile.type`]: "Unconfined",
        [`${EDIT_C}.securityContext.seccompProfile`]: { type: "Unconfined" },
      },
      expected: [
        `${DEPLOYMENT}: ${P}.securityContext.seccompProfile.type is "Unconfined"; set it to "RuntimeDefault" or "Localhost".`,
        `${CONTAINER}: ${SC}.seccompProfile.type is "Unconfined"; set it to "RuntimeDefault" or "Localhost".`,
      ],
    },
    {
      name: "no seccomp profile at all",
      changes: { [`${P}.securityContext.seccompProfile`]: undefined },
      expected: [
        `${CONTAINER}: ${SC}.seccompProfile is not set, nor is ${P}.securityContext.seccompProfile; set type "RuntimeDefault" on the container or the pod.`,
      ],
    },
    {
      name: "privileged containers that may escalate",
      changes: {
        [`${EDIT_C}.securityContext.privileged`]: true,
        [`${EDIT_C}.securityContext.allowPrivilegeEscalation`]: true,
      },
      expected: [
        `${CONTAINER}: ${SC}.privileged is true; remove it.`,
        `${CONTAINER}: ${SC}.allowPrivilegeEscalation is not false; set it to false.`,
      ],
    },
    {
      name: "capabilities kept or added",
      changes: {
        [`${EDIT_C}.securityContext.capabilities`]: { drop: ["NET_RAW"], add: ["NET_BIND_SERVICE", "NET_ADMIN"] },
      },
      expected: [
        `${CONTAINER}: ${SC}.capabilities.drop does not include "ALL"; drop ALL capabilities.`,
        `${CONTAINER}: ${SC}.capabilities.add includes "NET_ADMIN"; only "NET_BIND_SERVICE" may be added.`,
      ],
    },
    {
      name: "host ports and an unmasked /proc",
      changes: { [`${EDIT_C}.ports.0.hostPort`]: 8080, [`${EDIT_C}.securityContext.procMount`]: "Unmasked" },
      expected: [
        `${CONTAINER}: ${SC}.procMount is "Unmasked"; remove it or set "Default".`,
        `${CONTAINER}: ${C}.ports[0].hostPort is 8080; remove it.`,
      ],
    },
    {
      name: "AppArmor, SELinux and Windows host processes",
      changes: {
        [`${P}.securityContext.appArmorProfile`]: { type: "Unconfined" },
        [`${P}.securityContext.seLinuxOptions`]: { type: "spc_t", user: "system_u" },
        [`${EDIT_C}.securityContext.windowsOptions`]: { hostProcess: true },
        [`spec.template.metadata.annotations`]: {
          "container.apparmor.security.beta.kubernetes.io/consumer": "unconfined",
        },
      },
      expected: [
        `${DEPLOYMENT}: ${P}.securityContext.appArmorProfile.type is "Unconfined"; set it to "RuntimeDefault" or "Localhost".`,
        `${DEPLOYMENT}: ${P}.securityContext.seLinuxOptions.type is "spc_t"; use container_t, container_init_t, container_kvm_t or container_engine_t.`,
        `${DEPLOYMENT}: ${P}.securityContext.seLinuxOptions.user is set; remove it.`,
        `${DEPLOYMENT}: annotation "container.apparmor.security.beta.kubernetes.io/consumer" is "unconfined"; use "runtime/default" or "localhost/<profile>".`,
        `${CONTAINER}: ${SC}.windowsOptions.hostProcess is true; remove it.`,
      ],
    },
  ];
  for (const { name, changes, expected } of cases) {
    it(`rejects ${name}`, async () => {
      assert.deepEqual(await violationsWith(changes), expected);
    });
  }

  it("checks init and ephemeral containers, and pods, jobs and cron jobs", async () => {
    const sidecar = {
      name: "setup",
      image: IMAGE,
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
    };
    const deployment = edit(goodResources().deployment, {
      [`${P}.initContainers`]: [{ ...sidecar, securityContext: {} }],
    });
    assert.deepEqual(await resourceViolations(podSecurityRestricted, deployment), [
      `${DEPLOYMENT} container "setup": ${P}.initContainers[0].securityContext.allowPrivilegeEscalation is not false; set it to false.`,
      `${DEPLOYMENT} container "setup": ${P}.initContainers[0].securityContext.capabilities.drop does not include "ALL"; drop ALL capabilities.`,
    ]);
    const podSpec = (deploymentProps()["spec"] as { template: { spec: Record<string, unknown> } }).template.spec;
    const pod = resource(K8S.pod, "debug", {
      spec: { ...podSpec, ephemeralContainers: [{ ...sidecar, name: "debugger", securityContext: { runAsUser: 0 } }] },
    });
    assert.deepEqual(await resourceViolations(podSecurityRestricted, pod), [
      `Pod "debug" container "debugger": spec.ephemeralContainers[0].securityContext.allowPrivilegeEscalation is not false; set it to false.`,
      `Pod "debug" container "debugger": spec.ephemeralContainers[0].securityContext.runAsUser is 0 (root); set a non-zero user ID.`,
      `Pod "debug" container "debugger": spec.ephemeralContainers[0].securityContext.capabilities.drop does not include "ALL"; drop ALL capabilities.`,
    ]);
    const cronJob = resource(K8S.cronJob, "nightly", {
      spec: { schedule: "0 3 * * *", jobTemplate: { spec: { template: { spec: { ...podSpec, hostNetwork: true } } } } },
    });
    assert.deepEqual(await resourceViolations(podSecurityRestricted, cronJob), [
      `CronJob "nightly": spec.jobTemplate.spec.template.spec.hostNetwork is true; remove it, pods may not share the host's namespaces.`,
    ]);
    const job = resource(K8S.job, "migrate", { spec: { template: { spec: podSpec } } });
    assert.deepEqual(await resourceViolations(podSecurityRestricted, job), []);
  });

  it("checks pod templates of every API version and of PodTemplate objects", async () => {
    const podSpec = (deploymentProps()["spec"] as { template: { spec: Record<string, unknown> } }).template.spec;
    const privileged = { ...podSpec, hostPID: true };
    const old = resource("kubernetes:apps/v1beta1:Deployment", "legacy", { spec: { template: { spec: privileged } } });
    assert.deepEqual(await resourceViolations(podSecurityRestricted, old), [
      `Deployment "legacy": spec.template.spec.hostPID is true; remove it, pods may not share the host's namespaces.`,
    ]);
    const extensions = resource("kubernetes:extensions/v1beta1:DaemonSet", "agent", {
      spec: { template: { spec: privileged } },
    });
    assert.equal((await resourceViolations(podSecurityRestricted, extensions)).length, 1);
    const template = resource("kubernetes:core/v1:PodTemplate", "spare", { template: { spec: privileged } });
    assert.deepEqual(await resourceViolations(podSecurityRestricted, template), [
      `PodTemplate "spare": template.spec.hostPID is true; remove it, pods may not share the host's namespaces.`,
    ]);
  });
});

describe("pod-security-restricted: PersistentVolumes", () => {
  const volume = (spec: Record<string, unknown>) =>
    resource("kubernetes:core/v1:PersistentVolume", "pv", { metadata: { name: "pv" }, spec });

  it("rejects hostPath and local volumes, which reach a pod through a claim Pod Security admits", async () => {
    assert.deepEqual(await resourceViolations(podSecurityRestricted, volume({ hostPath: { path: "/" } })), [
      `PersistentVolume "pv": spec.hostPath ("/") mounts a node's filesystem into every pod that claims this volume, which the restricted profile forbids; use a CSI driver (EBS, EFS).`,
    ]);
    assert.equal((await resourceViolations(podSecurityRestricted, volume({ local: { path: "/mnt/disk" } }))).length, 1);
  });

  it("passes a CSI volume", async () => {
    const csi = volume({ csi: { driver: "ebs.csi.aws.com", volumeHandle: "vol-1" } });
    assert.deepEqual(await resourceViolations(podSecurityRestricted, csi), []);
  });
});

describe("container-read-only-root-filesystem", () => {
  it("passes containers with a read-only root filesystem", async () => {
    assert.deepEqual(await resourceViolations(containerReadOnlyRootFilesystem, goodResources().deployment), []);
  });

  it("rejects a container whose root filesystem is writable or unspecified", async () => {
    const writable = edit(goodResources().deployment, {
      [`${EDIT_C}.securityContext.readOnlyRootFilesystem`]: false,
      [`${P}.initContainers`]: [{ name: "setup", image: IMAGE }],
    });
    assert.deepEqual(await resourceViolations(containerReadOnlyRootFilesystem, writable), [
      `${CONTAINER}: ${SC}.readOnlyRootFilesystem is not true; set it to true and mount an emptyDir where the process must write.`,
      `${DEPLOYMENT} container "setup": ${P}.initContainers[0].securityContext.readOnlyRootFilesystem is not true; set it to true and mount an emptyDir where the process must write.`,
    ]);
  });
});
