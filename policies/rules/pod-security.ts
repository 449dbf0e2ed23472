/**
 * The `restricted` Pod Security Standard (every baseline and restricted control that applies to Linux
 * pods), plus a read-only root filesystem. Each message names the object, the container and the field.
 * Reference: https://kubernetes.io/docs/concepts/security/pod-security-standards/
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { containerLabel, containersOf, podSpecOf, type Container, type PodSpec } from "../lib/pod-spec";
import { integerOf, listOf, recordOf, stringOf, stringsOf, type Props } from "../lib/values";

/** Volume types the restricted profile allows. */
export const RESTRICTED_VOLUME_TYPES = [
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
] as const;

/** The baseline profile's safe sysctls. */
export const SAFE_SYSCTLS = [
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
] as const;

const SECCOMP_TYPES = ["RuntimeDefault", "Localhost"];
const APPARMOR_TYPES = ["RuntimeDefault", "Localhost"];
const SELINUX_TYPES = ["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"];
const ADDABLE_CAPABILITIES = ["NET_BIND_SERVICE"];
const APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/";

/** Problems with a securityContext's AppArmor, SELinux and Windows host-process settings (pod or container). */
function sharedContextProblems(context: Props, path: string): string[] {
  const problems: string[] = [];
  if (recordOf(context["windowsOptions"])["hostProcess"] === true) {
    problems.push(`${path}.windowsOptions.hostProcess is true; remove it`);
  }
  const appArmor = stringOf(recordOf(context["appArmorProfile"])["type"]);
  if (appArmor !== undefined && !APPARMOR_TYPES.includes(appArmor)) {
    problems.push(`${path}.appArmorProfile.type is "${appArmor}"; set it to "RuntimeDefault" or "Localhost"`);
  }
  const seLinux = recordOf(context["seLinuxOptions"]);
  const seLinuxType = stringOf(seLinux["type"]);
  if (seLinuxType !== undefined && !SELINUX_TYPES.includes(seLinuxType)) {
    problems.push(
      `${path}.seLinuxOptions.type is "${seLinuxType}"; use container_t, container_init_t, container_kvm_t or container_engine_t`,
    );
  }
  for (const field of ["user", "role"]) {
    if (seLinux[field] !== undefined && seLinux[field] !== "")
      problems.push(`${path}.seLinuxOptions.${field} is set; remove it`);
  }
  return problems;
}

function seccompTypeOf(context: Props): string | undefined {
  return stringOf(recordOf(context["seccompProfile"])["type"]);
}

function podProblems(pod: PodSpec): string[] {
  const { spec, path } = pod;
  const context = recordOf(spec["securityContext"]);
  const contextPath = `${path}.securityContext`;
  const problems: string[] = [];
  for (const field of ["hostNetwork", "hostPID", "hostIPC"]) {
    if (spec[field] === true)
      problems.push(`${path}.${field} is true; remove it, pods may not share the host's namespaces`);
  }
  listOf(spec["volumes"]).forEach((raw, index) => {
    const volume = recordOf(raw);
    const where = `volume "${stringOf(volume["name"]) ?? `#${index}`}" (${path}.volumes[${index}])`;
    const types = Object.keys(volume).filter((key) => key !== "name");
    if (types.includes("hostPath")) {
      problems.push(
        `${where} is a hostPath volume; use emptyDir, configMap, secret, projected or persistentVolumeClaim instead`,
      );
      return;
    }
    for (const type of types.filter((t) => !(RESTRICTED_VOLUME_TYPES as readonly string[]).includes(t))) {
      problems.push(
        `${where} has type ${type}, which the restricted profile does not allow; use one of ${RESTRICTED_VOLUME_TYPES.join(", ")}`,
      );
    }
  });
  listOf(context["sysctls"]).forEach((raw, index) => {
    const name = stringOf(recordOf(raw)["name"]) ?? "";
    if (!(SAFE_SYSCTLS as readonly string[]).includes(name)) {
      problems.push(`${contextPath}.sysctls[${index}] sets "${name}", which is not a safe sysctl; remove it`);
    }
  });
  if (integerOf(context["runAsUser"]) === 0)
    problems.push(`${contextPath}.runAsUser is 0 (root); set a non-zero user ID`);
  if (context["runAsNonRoot"] === false) problems.push(`${contextPath}.runAsNonRoot is false; set it to true`);
  const seccomp = seccompTypeOf(context);
  if (seccomp !== undefined && !SECCOMP_TYPES.includes(seccomp)) {
    problems.push(`${contextPath}.seccompProfile.type is "${seccomp}"; set it to "RuntimeDefault" or "Localhost"`);
  }
  problems.push(...sharedContextProblems(context, contextPath));
  for (const [key, value] of Object.entries(pod.annotations)) {
    if (!key.startsWith(APPARMOR_ANNOTATION_PREFIX)) continue;
    const profile = String(value);
    if (profile !== "runtime/default" && !profile.startsWith("localhost/")) {
      problems.push(`annotation "${key}" is "${profile}"; use "runtime/default" or "localhost/<profile>"`);
    }
  }
  return problems;
}

function containerProblems(pod: PodSpec, container: Container): string[] {
  const podContext = recordOf(pod.spec["securityContext"]);
  const podContextPath = `${pod.path}.securityContext`;
  const context = recordOf(container.fields["securityContext"]);
  const path = `${container.path}.securityContext`;
  const problems: string[] = [];
  if (context["privileged"] === true) problems.push(`${path}.privileged is true; remove it`);
  if (
    context["allowPrivilegeEscalation"] !== false &&
    !(pod.patch && context["allowPrivilegeEscalation"] === undefined)
  )
    problems.push(`${path}.allowPrivilegeEscalation is not false; set it to false`);

  if (context["runAsNonRoot"] === false) {
    problems.push(`${path}.runAsNonRoot is false; set it to true`);
  } else if (context["runAsNonRoot"] !== true && podContext["runAsNonRoot"] !== true && !pod.patch) {
    problems.push(
      `${path}.runAsNonRoot is not set, nor is ${podContextPath}.runAsNonRoot; set runAsNonRoot: true on the container or the pod`,
    );
  }
  if (integerOf(context["runAsUser"]) === 0) problems.push(`${path}.runAsUser is 0 (root); set a non-zero user ID`);

  const seccomp = seccompTypeOf(context);
  if (seccomp !== undefined && !SECCOMP_TYPES.includes(seccomp)) {
    problems.push(`${path}.seccompProfile.type is "${seccomp}"; set it to "RuntimeDefault" or "Localhost"`);
  } else if (seccomp === undefined && seccompTypeOf(podContext) === undefined && !pod.patch) {
    problems.push(
      `${path}.seccompProfile is not set, nor is ${podContextPath}.seccompProfile; set type "RuntimeDefault" on the container or the pod`,
    );
  }

  const capabilities = recordOf(context["capabilities"]);
  if (!stringsOf(capabilities["drop"]).includes("ALL") && !(pod.patch && capabilities["drop"] === undefined)) {
    problems.push(`${path}.capabilities.drop does not include "ALL"; drop ALL capabilities`);
  }
  for (const added of stringsOf(capabilities["add"]).filter((c) => !ADDABLE_CAPABILITIES.includes(c))) {
    problems.push(`${path}.capabilities.add includes "${added}"; only "NET_BIND_SERVICE" may be added`);
  }

  const procMount = stringOf(context["procMount"]);
  if (procMount !== undefined && procMount !== "Default")
    problems.push(`${path}.procMount is "${procMount}"; remove it or set "Default"`);
  listOf(container.fields["ports"]).forEach((raw, index) => {
    const hostPort = integerOf(recordOf(raw)["hostPort"]);
    if (hostPort !== undefined && hostPort !== 0) {
      problems.push(`${container.path}.ports[${index}].hostPort is ${hostPort}; remove it`);
    }
  });
  problems.push(...sharedContextProblems(context, path));
  return problems;
}

const PERSISTENT_VOLUME = /^kubernetes:core\/v1:PersistentVolume(Patch)?$/;

/**
 * Node paths a PersistentVolume hands to whichever pod claims it. Pod Security admission judges the pod's
 * own volume list, where such a volume is a `persistentVolumeClaim` (allowed), so a hostPath or local
 * PersistentVolume is the node's filesystem by another route. Source: Kubernetes docs "Persistent Volumes"
 * (hostPath and local volume types) and "Pod Security Standards" (HostPath Volumes, Volume Types).
 */
function persistentVolumeProblems(spec: Props): string[] {
  const problems: string[] = [];
  const hostPath = stringOf(recordOf(spec["hostPath"])["path"]);
  if (spec["hostPath"] !== undefined)
    problems.push(
      `spec.hostPath${hostPath === undefined ? "" : ` ("${hostPath}")`} mounts a node's filesystem into every pod that claims this volume, which the restricted profile forbids; use a CSI driver (EBS, EFS)`,
    );
  if (spec["local"] !== undefined)
    problems.push(
      `spec.local mounts a node's path (${stringOf(recordOf(spec["local"])["path"]) ?? "unknown"}) into every pod that claims this volume; use a CSI driver (EBS, EFS)`,
    );
  return problems;
}

export const podSecurityRestricted: ResourceValidationPolicy = {
  name: "pod-security-restricted",
  description:
    "Every pod template meets the restricted Pod Security Standard, and no PersistentVolume hands pods a node path (hostPath, local) through a claim.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (PERSISTENT_VOLUME.test(args.type)) {
      for (const problem of persistentVolumeProblems(recordOf(args.props["spec"])))
        reportViolation(`PersistentVolume "${args.name}": ${problem}.`);
      return;
    }
    const pod = podSpecOf(args.type, args.name, args.props);
    if (pod === undefined) return;
    for (const problem of podProblems(pod)) reportViolation(`${pod.label}: ${problem}.`);
    for (const container of containersOf(pod)) {
      for (const problem of containerProblems(pod, container))
        reportViolation(`${containerLabel(pod, container)}: ${problem}.`);
    }
  },
};

export const containerReadOnlyRootFilesystem: ResourceValidationPolicy = {
  name: "container-read-only-root-filesystem",
  description: "Every container and init container runs with a read-only root filesystem.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const pod = podSpecOf(args.type, args.name, args.props);
    if (pod === undefined) return;
    for (const container of containersOf(pod).filter((c) => c.group !== "ephemeralContainers")) {
      const readOnly = recordOf(container.fields["securityContext"])["readOnlyRootFilesystem"];
      if (readOnly !== true && !(pod.patch && readOnly === undefined)) {
        reportViolation(
          `${containerLabel(pod, container)}: ${container.path}.securityContext.readOnlyRootFilesystem is not true; set it to true and mount an emptyDir where the process must write.`,
        );
      }
    }
  },
};
