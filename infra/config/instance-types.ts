/**
 * What a node of an EC2 instance type holds, for the capacity checks at preview (cross-checks.ts): the most
 * pods the kubelet admits with the Amazon VPC CNI, and the vCPUs and memory the instance has. One table for
 * every check that sizes nodes; a type missing here cannot be checked, and the check says so.
 *
 * Sources:
 * - maxPods: awslabs/amazon-eks-ami `templates/shared/runtime/eni-max-pods.txt` (commit 0254c5b490f8),
 *   transcribed for the families below: `ENIs x (IPv4 addresses per ENI - 1) + 2`, the 2 being the
 *   host-network pods aws-node and kube-proxy.
 * - vcpus, memoryMiB: Amazon EC2 instance types, specifications (general purpose m and burstable t: 4 GiB
 *   per vCPU at large and up; compute optimized c: 2 GiB; memory optimized r: 8 GiB).
 * - What the kubelet keeps for itself on EKS-optimized AL2023 nodes: awslabs/amazon-eks-ami
 *   `nodeadm/internal/kubelet/config.go` (getCPUMillicoresToReserve, getMemoryMebibytesToReserve), and the
 *   kubelet's default hard eviction threshold `memory.available<100Mi` (Kubernetes docs, "Node-pressure
 *   Eviction").
 */

/** One instance type's node capacity. */
export interface InstanceCapacity {
  /** Pods the kubelet admits (max-pods), host-network pods included. */
  readonly maxPods: number;
  readonly vcpus: number;
  readonly memoryMiB: number;
}

/** Node capacity by instance type, for the families EKS node groups commonly use, nano to 4xlarge. */
export const INSTANCE_TYPES: Readonly<Record<string, InstanceCapacity>> = {
  "c5.large": { maxPods: 29, vcpus: 2, memoryMiB: 4096 },
  "c5.xlarge": { maxPods: 58, vcpus: 4, memoryMiB: 8192 },
  "c5.2xlarge": { maxPods: 58, vcpus: 8, memoryMiB: 16384 },
  "c5.4xlarge": { maxPods: 234, vcpus: 16, memoryMiB: 32768 },
  "c6g.medium": { maxPods: 8, vcpus: 1, memoryMiB: 2048 },
  "c6g.large": { maxPods: 29, vcpus: 2, memoryMiB: 4096 },
  "c6g.xlarge": { maxPods: 58, vcpus: 4, memoryMiB: 8192 },
  "c6g.2xlarge": { maxPods: 58, vcpus: 8, memoryMiB: 16384 },
  "c6g.4xlarge": { maxPods: 234, vcpus: 16, memoryMiB: 32768 },
  "c6i.large": { maxPods: 29, vcpus: 2, memoryMiB: 4096 },
  "c6i.xlarge": { maxPods: 58, vcpus: 4, memoryMiB: 8192 },
  "c6i.2xlarge": { maxPods: 58, vcpus: 8, memoryMiB: 16384 },
  "c6i.4xlarge": { maxPods: 234, vcpus: 16, memoryMiB: 32768 },
  "c7g.medium": { maxPods: 8, vcpus: 1, memoryMiB: 2048 },
  "c7g.large": { maxPods: 29, vcpus: 2, memoryMiB: 4096 },
  "c7g.xlarge": { maxPods: 58, vcpus: 4, memoryMiB: 8192 },
  "c7g.2xlarge": { maxPods: 58, vcpus: 8, memoryMiB: 16384 },
  "c7g.4xlarge": { maxPods: 234, vcpus: 16, memoryMiB: 32768 },
  "c7i.large": { maxPods: 29, vcpus: 2, memoryMiB: 4096 },
  "c7i.xlarge": { maxPods: 58, vcpus: 4, memoryMiB: 8192 },
  "c7i.2xlarge": { maxPods: 58, vcpus: 8, memoryMiB: 16384 },
  "c7i.4xlarge": { maxPods: 234, vcpus: 16, memoryMiB: 32768 },
  "m5.large": { maxPods: 29, vcpus: 2, memoryMiB: 8192 },
  "m5.xlarge": { maxPods: 58, vcpus: 4, memoryMiB: 16384 },
  "m5.2xlarge": { maxPods: 58, vcpus: 8, memoryMiB: 32768 },
  "m5.4xlarge": { maxPods: 234, vcpus: 16, memoryMiB: 65536 },
  "m5a.large": { maxPods: 29, vcpus: 2, memoryMiB: 8192 },
  "m5a.xlarge": { maxPods: 58, vcpus: 4, memoryMiB: 16384 },
  "m5a.2xlarge": { maxPods: 58, vcpus: 8, memoryMiB: 32768 },
  "m5a.4xlarge": { maxPods: 234, vcpus: 16, memoryMiB: 65536 },
  "m6a.large": { maxPods: 29, vcpus: 2, memoryMiB: 8192 },
  "m6a.xlarge": { maxPods: 58, vcpus: 4, memoryMiB: 16384 },
  "m6a.2xlarge": { maxPods: 58, vcpus: 8, memoryMiB: 32768 },
  "m6a.4xlarge": { maxPods: 234, vcpus: 16, memoryMiB: 65536 },
  "m6g.medium": { maxPods: 8, vcpus: 1, memoryMiB: 4096 },
  "m6g.large": { maxPods: 29, vcpus: 2, memoryMiB: 8192 },
  "m6g.xlarge": { maxPods: 58, vcpus: 4, memoryMiB: 16384 },
  "m6g.2xlarge": { maxPods: 58, vcpus: 8, memoryMiB: 32768 },
  "m6g.4xlarge": { maxPods: 234, vcpus: 16, memoryMiB: 65536 },
  "m6i.large": { maxPods: 29, vcpus: 2, memoryMiB: 8192 },
  "m6i.xlarge": { maxPods: 58, vcpus: 4, memoryMiB: 16384 },
  "m6i.2xlarge": { maxPods: 58, vcpus: 8, memoryMiB: 32768 },
  "m6i.4xlarge": { maxPods: 234, vcpus: 16, memoryMiB: 65536 },
  "m7a.medium": { maxPods: 8, vcpus: 1, memoryMiB: 4096 },
  "m7a.large": { maxPods: 29, vcpus: 2, memoryMiB: 8192 },
  "m7a.xlarge": { maxPods: 58, vcpus: 4, memoryMiB: 16384 },
  "m7a.2xlarge": { maxPods: 58, vcpus: 8, memoryMiB: 32768 },
  "m7a.4xlarge": { maxPods: 234, vcpus: 16, memoryMiB: 65536 },
  "m7g.medium": { maxPods: 8, vcpus: 1, memoryMiB: 4096 },
  "m7g.large": { maxPods: 29, vcpus: 2, memoryMiB: 8192 },
  "m7g.xlarge": { maxPods: 58, vcpus: 4, memoryMiB: 16384 },
  "m7g.2xlarge": { maxPods: 58, vcpus: 8, memoryMiB: 32768 },
  "m7g.4xlarge": { maxPods: 234, vcpus: 16, memoryMiB: 65536 },
  "m7i.large": { maxPods: 29, vcpus: 2, memoryMiB: 8192 },
  "m7i.xlarge": { maxPods: 58, vcpus: 4, memoryMiB: 16384 },
  "m7i.2xlarge": { maxPods: 58, vcpus: 8, memoryMiB: 32768 },
  "m7i.4xlarge": { maxPods: 234, vcpus: 16, memoryMiB: 65536 },
  "r5.large": { maxPods: 29, vcpus: 2, memoryMiB: 16384 },
  "r5.xlarge": { maxPods: 58, vcpus: 4, memoryMiB: 32768 },
  "r5.2xlarge": { maxPods: 58, vcpus: 8, memoryMiB: 65536 },
  "r5.4xlarge": { maxPods: 234, vcpus: 16, memoryMiB: 131072 },
  "r6g.medium": { maxPods: 8, vcpus: 1, memoryMiB: 8192 },
  "r6g.large": { maxPods: 29, vcpus: 2, memoryMiB: 16384 },
  "r6g.xlarge": { maxPods: 58, vcpus: 4, memoryMiB: 32768 },
  "r6g.2xlarge": { maxPods: 58, vcpus: 8, memoryMiB: 65536 },
  "r6g.4xlarge": { maxPods: 234, vcpus: 16, memoryMiB: 131072 },
  "r6i.large": { maxPods: 29, vcpus: 2, memoryMiB: 16384 },
  "r6i.xlarge": { maxPods: 58, vcpus: 4, memoryMiB: 32768 },
  "r6i.2xlarge": { maxPods: 58, vcpus: 8, memoryMiB: 65536 },
  "r6i.4xlarge": { maxPods: 234, vcpus: 16, memoryMiB: 131072 },
  "r7g.medium": { maxPods: 8, vcpus: 1, memoryMiB: 8192 },
  "r7g.large": { maxPods: 29, vcpus: 2, memoryMiB: 16384 },
  "r7g.xlarge": { maxPods: 58, vcpus: 4, memoryMiB: 32768 },
  "r7g.2xlarge": { maxPods: 58, vcpus: 8, memoryMiB: 65536 },
  "r7g.4xlarge": { maxPods: 234, vcpus: 16, memoryMiB: 131072 },
  "t3.nano": { maxPods: 4, vcpus: 2, memoryMiB: 512 },
  "t3.micro": { maxPods: 4, vcpus: 2, memoryMiB: 1024 },
  "t3.small": { maxPods: 11, vcpus: 2, memoryMiB: 2048 },
  "t3.medium": { maxPods: 17, vcpus: 2, memoryMiB: 4096 },
  "t3.large": { maxPods: 35, vcpus: 2, memoryMiB: 8192 },
  "t3.xlarge": { maxPods: 58, vcpus: 4, memoryMiB: 16384 },
  "t3.2xlarge": { maxPods: 58, vcpus: 8, memoryMiB: 32768 },
  "t3a.nano": { maxPods: 4, vcpus: 2, memoryMiB: 512 },
  "t3a.micro": { maxPods: 4, vcpus: 2, memoryMiB: 1024 },
  "t3a.small": { maxPods: 8, vcpus: 2, memoryMiB: 2048 },
  "t3a.medium": { maxPods: 17, vcpus: 2, memoryMiB: 4096 },
  "t3a.large": { maxPods: 35, vcpus: 2, memoryMiB: 8192 },
  "t3a.xlarge": { maxPods: 58, vcpus: 4, memoryMiB: 16384 },
  "t3a.2xlarge": { maxPods: 58, vcpus: 8, memoryMiB: 32768 },
  "t4g.nano": { maxPods: 4, vcpus: 2, memoryMiB: 512 },
  "t4g.micro": { maxPods: 4, vcpus: 2, memoryMiB: 1024 },
  "t4g.small": { maxPods: 11, vcpus: 2, memoryMiB: 2048 },
  "t4g.medium": { maxPods: 17, vcpus: 2, memoryMiB: 4096 },
  "t4g.large": { maxPods: 35, vcpus: 2, memoryMiB: 8192 },
  "t4g.xlarge": { maxPods: 58, vcpus: 4, memoryMiB: 16384 },
  "t4g.2xlarge": { maxPods: 58, vcpus: 8, memoryMiB: 32768 },
};

/** The capacity of `instanceType`, or undefined when the table does not list it. */
export function instanceCapacity(instanceType: string): InstanceCapacity | undefined {
  return Object.hasOwn(INSTANCE_TYPES, instanceType) ? INSTANCE_TYPES[instanceType] : undefined;
}

/**
 * What pods may request of one node (millicores and MiB): its capacity less kube-reserved (CPU: 6% of the
 * first core, 1% of the second, 0.5% of the third and fourth, 0.25% of the rest; memory: 11 MiB per pod
 * it admits plus 255 MiB) and less the kubelet's 100 MiB eviction threshold.
 */
export function nodeAllocatable(capacity: InstanceCapacity): {
  readonly cpuMillicores: number;
  readonly memoryMiB: number;
} {
  const total = capacity.vcpus * 1000;
  const tiers: readonly (readonly [number, number, number])[] = [
    [0, 1000, 0.06],
    [1000, 2000, 0.01],
    [2000, 4000, 0.005],
    [4000, Number.POSITIVE_INFINITY, 0.0025],
  ];
  const reservedCpu = tiers.reduce(
    (sum, [from, to, share]) => sum + Math.max(0, Math.min(total, to) - from) * share,
    0,
  );
  const reservedMemory = 11 * capacity.maxPods + 255 + 100;
  return { cpuMillicores: Math.floor(total - reservedCpu), memoryMiB: capacity.memoryMiB - reservedMemory };
}
