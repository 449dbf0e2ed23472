/**
 * The CI runner component (ci/runner/runner.ts) recorded under Pulumi mocks, in this process, against
 * clusters described by the caller (normally taken from a recording of the main program, so that the
 * runner is placed in the network the program really creates). Pulumi's runtime is per process: a test
 * file that uses this records all its runners through one `RunnerRecorder`.
 */
import * as pulumi from "@pulumi/pulumi";
import { CiRunner } from "../../ci/runner/runner";
import type { RunnerConfig } from "../../ci/runner/config";

export const RUNNER_ACCOUNT = "123456789012";

/** What EKS reports about a cluster the runner serves. */
export interface ClusterFacts {
  readonly name: string;
  readonly region: string;
  readonly vpcId: string;
  /** The security group EKS creates for the cluster and attaches to the control plane's network interfaces. */
  readonly clusterSecurityGroupId: string;
  readonly endpointPrivateAccess: boolean;
  readonly endpointPublicAccess: boolean;
  readonly nodeGroups: readonly {
    readonly name: string;
    readonly amiType: string;
    readonly instanceTypes: readonly string[];
    readonly subnetIds: readonly string[];
  }[];
  /** EKS Auto Mode on (DescribeCluster's computeConfig.enabled). */
  readonly autoMode: boolean;
  /** The cluster's subnets (vpcConfig.subnetIds), and which of them carry kubernetes.io/role/internal-elb. */
  readonly subnetIds: readonly string[];
  readonly privateSubnetIds: readonly string[];
}

export interface RunnerResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}

export interface RecordedRunner {
  readonly resources: readonly RunnerResource[];
  readonly projectName: string;
  readonly securityGroupId: string;
}

const unwrap = <T>(output: pulumi.Output<T>): Promise<T> => new Promise((resolve) => output.apply(resolve));

/** Waits for registrations in flight (the runtime's own helper; program-runner.mjs uses it too). */
const settled = () => (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();

export class RunnerRecorder {
  private readonly clusters = new Map<string, ClusterFacts>();
  private readonly resources: RunnerResource[] = [];

  constructor() {
    void pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          const inputs = args.inputs as Record<string, unknown>;
          this.resources.push({ type: args.type, name: args.name, inputs });
          const physical = typeof inputs.name === "string" ? inputs.name : `${args.name}-1a2b3c4`;
          const id = args.type === "aws:ec2/securityGroup:SecurityGroup" ? `sg-${args.name}` : physical;
          const arn =
            args.type === "aws:iam/role:Role"
              ? `arn:aws:iam::${RUNNER_ACCOUNT}:role/${physical}`
              : `arn:aws:mock::${RUNNER_ACCOUNT}:${args.type}/${physical}`;
          return { id, state: { ...inputs, arn, name: physical } };
        },
        call: (args) => {
          const inputs = args.inputs as Record<string, unknown>;
          const cluster = this.clusters.get(String(inputs.clusterName ?? inputs.name));
          switch (args.token) {
            case "aws:index/getCallerIdentity:getCallerIdentity":
              return {
                accountId: RUNNER_ACCOUNT,
                arn: `arn:aws:sts::${RUNNER_ACCOUNT}:assumed-role/admin/x`,
                userId: "x",
              };
            case "aws:index/getPartition:getPartition":
              return { partition: "aws", dnsSuffix: "amazonaws.com" };
            case "aws:index/getRegion:getRegion":
              return { region: [...this.clusters.values()][0]?.region ?? "us-west-2", name: "us-west-2" };
            case "aws:eks/getCluster:getCluster":
              if (cluster === undefined) throw new Error(`no EKS cluster ${String(inputs.name)}`);
              return {
                name: cluster.name,
                vpcConfig: {
                  vpcId: cluster.vpcId,
                  clusterSecurityGroupId: cluster.clusterSecurityGroupId,
                  endpointPrivateAccess: cluster.endpointPrivateAccess,
                  endpointPublicAccess: cluster.endpointPublicAccess,
                  subnetIds: cluster.subnetIds,
                  securityGroupIds: [],
                  publicAccessCidrs: [],
                },
                computeConfigs: [{ enabled: cluster.autoMode, nodePools: [], nodeRoleArn: "" }],
              };
            case "aws:ec2/getSubnets:getSubnets": {
              // EC2's DescribeSubnets filters: every filter must match (subnet-id, tag:<key>).
              const filters = inputs.filters as { name: string; values: string[] }[];
              const known = [...this.clusters.values()].flatMap((c) =>
                c.subnetIds.map((id) => ({ id, private: c.privateSubnetIds.includes(id) })),
              );
              const ids = known
                .filter((subnet) =>
                  filters.every((filter) =>
                    filter.name === "subnet-id"
                      ? filter.values.includes(subnet.id)
                      : filter.name === "tag:kubernetes.io/role/internal-elb"
                        ? subnet.private && filter.values.includes("1")
                        : false,
                  ),
                )
                .map((subnet) => subnet.id);
              return { ids: [...new Set(ids)], filters };
            }
            case "aws:eks/getNodeGroups:getNodeGroups":
              return { clusterName: inputs.clusterName, names: (cluster?.nodeGroups ?? []).map((group) => group.name) };
            case "aws:eks/getNodeGroup:getNodeGroup": {
              const group = cluster?.nodeGroups.find((candidate) => candidate.name === inputs.nodeGroupName);
              if (group === undefined) throw new Error(`no node group ${String(inputs.nodeGroupName)}`);
              return { ...group, clusterName: inputs.clusterName, nodeGroupName: group.name };
            }
            default:
              throw new Error(`unexpected invoke ${args.token}`);
          }
        },
      },
      "sqs-eks-consumer-runner",
      "runner",
      false,
    );
  }

  /** Records one runner serving `cluster`; resolves once its outputs are known. */
  async record(name: string, config: RunnerConfig, cluster: ClusterFacts): Promise<RecordedRunner> {
    this.clusters.set(cluster.name, cluster);
    const before = this.resources.length;
    const runner = new CiRunner(name, {
      config,
      clusterName: cluster.name,
      tags: { Project: "sqs-eks-consumer-runner" },
    });
    const projectName = await unwrap(runner.projectName);
    const securityGroupId = await unwrap(runner.securityGroupId);
    await settled();
    return { resources: this.resources.slice(before), projectName, securityGroupId };
  }
}
