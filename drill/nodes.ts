// The drill's nodes: where a node autoscaler (EKS Auto Mode's Karpenter) would put the pods. A pod that no
// node has room for waits, Pending, for a node launched for it; a node holds a fixed number of pods and is
// ready a fixed time after it is launched. The numbers are a model's, not measurements: AWS publishes no
// figure for the time from a pending pod to a Ready Auto Mode node.
import { instanceCapacity, nodeAllocatable } from "../infra/config/instance-types";

/** How nodes come: pods per node, and seconds from launch to ready. */
export interface NodeModel {
  /** The instance type the pods per node are worked out from (for the report). */
  readonly instanceType: string;
  readonly podsPerNode: number;
  readonly provisionSeconds: number;
}

/**
 * Pods of `cpuMillicores` and `memoryMiB` requests that one node of `instanceType` holds: the fewer of its
 * max pods (less aws-node and kube-proxy, which max-pods counts) and what its allocatable CPU and memory fit
 * (infra/config/instance-types.ts). Throws for a type the table does not list.
 */
export function podsPerNode(instanceType: string, cpuMillicores: number, memoryMiB: number): number {
  const capacity = instanceCapacity(instanceType);
  if (capacity === undefined) throw new Error(`${instanceType} is not in infra/config/instance-types.ts`);
  const allocatable = nodeAllocatable(capacity);
  return Math.min(
    capacity.maxPods - 2,
    Math.floor(allocatable.cpuMillicores / cpuMillicores),
    Math.floor(allocatable.memoryMiB / memoryMiB),
  );
}

/** One node: when it is (or will be) ready, and how many pods it holds. Times are epoch ms. */
export interface DrillNode {
  readonly name: string;
  readonly launchedAt: number;
  readonly readyAt: number;
  pods: number;
}

/**
 * The nodes of one run. `place` puts a pod on the first node with room (a ready one before one still
 * launching, as the scheduler binds to what exists and the autoscaler counts pods it already launched for),
 * launching a node when none has room; `release` frees the pod's place. Empty nodes stay (consolidation
 * removes them later and does not change when pods run).
 */
export class NodeFleet {
  readonly nodes: DrillNode[] = [];

  constructor(private readonly model: NodeModel) {}

  /** The node the pod goes on, and when it can start there (epoch ms). */
  place(now: number): DrillNode {
    const withRoom = this.nodes
      .filter((node) => node.pods < this.model.podsPerNode)
      .sort((a, b) => a.readyAt - b.readyAt);
    const node = withRoom[0] ?? this.launch(now);
    node.pods++;
    return node;
  }

  release(node: DrillNode): void {
    node.pods = Math.max(0, node.pods - 1);
  }

  private launch(now: number): DrillNode {
    const node: DrillNode = {
      name: `node-${this.nodes.length + 1}`,
      launchedAt: now,
      readyAt: now + this.model.provisionSeconds * 1000,
      pods: 0,
    };
    this.nodes.push(node);
    return node;
  }
}
