/**
 * A CodeBuild-hosted GitHub Actions runner inside one cluster's VPC (AWS CodeBuild user guide,
 * "Self-hosted GitHub Actions runners in AWS CodeBuild"): a CodeBuild project whose webhook takes the
 * `workflow_job` events of the repository's named workflows; a job that `runs-on` the label
 * `codebuild-<project>-${{ github.run_id }}-${{ github.run_attempt }}` runs in a build container of that
 * project. Placed in the subnets the cluster's managed nodes use (so it has the nodes' route to the
 * internet, which the runner needs to reach GitHub), with a security group of its own that the cluster's
 * security group admits on 443: the path the EKS user guide names for reaching a private endpoint from
 * inside the VPC ("Cluster API server endpoint", accessing a private-only API server: "Amazon EKS control
 * plane security group contains rules to allow ingress traffic on port 443").
 *
 * What a job holds: the runner's service role, which may only write its logs, manage the build's network
 * interfaces in those subnets and use the GitHub connection; the AWS credentials a job deploys with come
 * from GitHub's OIDC token and the CI roles (ci/roles.ts), not from the runner. Every name starts with
 * `ci-`, outside the prefix the CI deploy role manages, so a deploy cannot change its own runner.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PolicyDocument } from "../../infra/iam-documents";
import { amiTypeArchitecture, type Architecture } from "../../infra/node-architecture";
import type { RunnerConfig } from "./config";

/**
 * CodeBuild's curated Amazon Linux images and their environment types, by CPU architecture (CodeBuild user
 * guide, "Docker images provided by CodeBuild"). The runner builds the consumer image natively when its
 * architecture is the nodes'; deploy.yml registers QEMU for the other one.
 */
export const RUNNER_ENVIRONMENTS: Readonly<Record<Architecture, { type: string; image: string }>> = {
  amd64: { type: "LINUX_CONTAINER", image: "aws/codebuild/amazonlinux-x86_64-standard:5.0" },
  arm64: { type: "ARM_CONTAINER", image: "aws/codebuild/amazonlinux-aarch64-standard:3.0" },
};

/** The architecture of EKS Auto Mode's built-in general-purpose NodePool (EKS user guide, "set-builtin-node-pools"). */
const AUTO_MODE_ARCHITECTURE: Architecture = "amd64";

/** The CodeBuild project's name for a cluster: `ci-<cluster name>`. */
export function runnerProjectName(clusterName: string): string {
  return `ci-${clusterName}`;
}

/** The `runs-on` label of a job for the runner of `clusterName` (the CodeBuild user guide's required label). */
export function runsOnLabel(clusterName: string): string {
  return `codebuild-${runnerProjectName(clusterName)}-\${{ github.run_id }}-\${{ github.run_attempt }}`;
}

/** What the runner's service role may do (CodeBuild user guide, "Allow CodeBuild to interact with other AWS services", VPC and CodeConnections sections). */
export function runnerServicePolicy(input: {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly logGroupName: string;
  readonly subnetIds: readonly string[];
  readonly connectionArn: string;
}): PolicyDocument {
  const { partition: p, region: r, account: a } = input;
  const logGroup = `arn:${p}:logs:${r}:${a}:log-group:${input.logGroupName}`;
  const connectionService = input.connectionArn.split(":")[2] ?? "codeconnections";
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "BuildLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [logGroup, `${logGroup}:log-stream:*`],
      },
      {
        Sid: "BuildNetworkInterfaces",
        Effect: "Allow",
        Action: [
          "ec2:CreateNetworkInterface",
          "ec2:DeleteNetworkInterface",
          "ec2:DescribeDhcpOptions",
          "ec2:DescribeNetworkInterfaces",
          "ec2:DescribeSecurityGroups",
          "ec2:DescribeSubnets",
          "ec2:DescribeVpcs",
        ],
        Resource: "*",
      },
      {
        Sid: "BuildNetworkInterfacesInRunnerSubnets",
        Effect: "Allow",
        Action: "ec2:CreateNetworkInterfacePermission",
        Resource: `arn:${p}:ec2:${r}:${a}:network-interface/*`,
        Condition: {
          StringEquals: {
            "ec2:Subnet": input.subnetIds.map((id) => `arn:${p}:ec2:${r}:${a}:subnet/${id}`),
            "ec2:AuthorizedService": "codebuild.amazonaws.com",
          },
        },
      },
      {
        Sid: "GitHubConnection",
        Effect: "Allow",
        Action: [
          `${connectionService}:GetConnectionToken`,
          `${connectionService}:GetConnection`,
          `${connectionService}:UseConnection`,
        ],
        Resource: input.connectionArn,
      },
    ],
  };
}

/** Who may assume the runner's role: CodeBuild, for this project only (IAM user guide, "The confused deputy problem"). */
export function runnerTrustPolicy(projectArn: string, account: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ThisCodeBuildProjectOnly",
        Effect: "Allow",
        Principal: { Service: "codebuild.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": account }, ArnLike: { "aws:SourceArn": projectArn } },
      },
    ],
  };
}

/**
 * The webhook's filter group: workflow-job events of the named workflows, sent by one of the allowed GitHub
 * accounts (CodeBuild user guide, "GitHub webhook events": a build starts when every filter of a group matches;
 * `ACTOR_ACCOUNT_ID` is matched against the payload's `sender.id`, `WORKFLOW_NAME` against the workflow's name).
 * The workflow name and the branch are chosen by whoever writes the workflow, so they are no gate on their own;
 * the sender is who pushed, opened the pull request or re-ran the job. Whether CodeBuild applies `HEAD_REF` to
 * workflow-job events is not documented, so the runner is not restricted by branch: the deploy role's trust (the
 * protected environment) is what keeps other branches' jobs from deploying (docs/DEPLOY.md, "Where pulumi runs").
 */
export function runnerWebhookFilter(
  workflows: readonly string[],
  allowedActorIds: readonly string[],
): { type: string; pattern: string }[] {
  const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return [
    { type: "EVENT", pattern: "WORKFLOW_JOB_QUEUED" },
    { type: "WORKFLOW_NAME", pattern: `^(${workflows.map(literal).join("|")})$` },
    { type: "ACTOR_ACCOUNT_ID", pattern: `^(${allowedActorIds.map(literal).join("|")})$` },
  ];
}

export interface CiRunnerArgs {
  readonly config: RunnerConfig;
  /** The EKS cluster the runner serves (the cluster stack's `clusterName` output). */
  readonly clusterName: pulumi.Input<string>;
  /** Days CloudWatch keeps the runner's build logs. Default 30. */
  readonly logRetentionDays?: number;
  readonly tags: Readonly<Record<string, string>>;
}

export class CiRunner extends pulumi.ComponentResource {
  /** The CodeBuild project's name; jobs run on `runsOnLabel(clusterName)`. */
  readonly projectName: pulumi.Output<string>;
  /** The runner's security group, which the cluster's security group admits on 443. */
  readonly securityGroupId: pulumi.Output<string>;

  constructor(name: string, args: CiRunnerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sqs-eks-consumer:ci:CiRunner", name, {}, opts);
    const parent = { parent: this };
    const cluster = aws.eks.getClusterOutput({ name: args.clusterName }, parent);
    const identity = aws.getCallerIdentityOutput({}, parent);
    const partition = aws.getPartitionOutput({}, parent).partition;
    const region = aws.getRegionOutput({}, parent).region;

    // Where the nodes run. With managed node groups the runner shares their subnets and their architecture.
    // Under EKS Auto Mode there is no node group: the runner runs in the cluster's private subnets (the
    // program's network tags them kubernetes.io/role/internal-elb; a CodeBuild project in a VPC needs private
    // subnets with a NAT route, CodeBuild user guide "Use AWS CodeBuild with Amazon VPC") on amd64, the
    // architecture of Auto Mode's general-purpose NodePool; deploy.yml registers QEMU for arm64 images.
    const groups = aws.eks
      .getNodeGroupsOutput({ clusterName: cluster.name }, parent)
      .names.apply((names) =>
        pulumi.all(
          [...names]
            .sort()
            .map((nodeGroupName) => aws.eks.getNodeGroupOutput({ clusterName: cluster.name, nodeGroupName }, parent)),
        ),
      );
    const privateSubnets = aws.ec2.getSubnetsOutput(
      {
        filters: [
          { name: "subnet-id", values: cluster.vpcConfig.subnetIds },
          { name: "tag:kubernetes.io/role/internal-elb", values: ["1"] },
        ],
      },
      parent,
    ).ids;
    const placement = pulumi
      .all([cluster.name, cluster.computeConfigs, groups, privateSubnets])
      .apply(([clusterName, compute, found, privateIds]) => {
        if (found.length === 0) {
          if (!compute.some((config) => config.enabled))
            throw new pulumi.RunError(
              `EKS cluster ${clusterName} has neither a managed node group nor EKS Auto Mode: the runner runs where its nodes do`,
            );
          if (privateIds.length === 0)
            throw new pulumi.RunError(
              `EKS cluster ${clusterName} has no private subnet (tagged kubernetes.io/role/internal-elb): the runner needs one with a NAT route`,
            );
          return { subnetIds: [...privateIds].sort(), architecture: AUTO_MODE_ARCHITECTURE };
        }
        const architectures = [
          ...new Set(found.map((group) => amiTypeArchitecture(group.amiType, group.instanceTypes))),
        ];
        if (architectures.length !== 1)
          throw new pulumi.RunError(
            `EKS cluster ${clusterName} has nodes of several architectures (${architectures.join(", ")})`,
          );
        return {
          subnetIds: [...new Set(found.flatMap((group) => group.subnetIds))].sort(),
          architecture: architectures[0]!,
        };
      });

    const projectName = cluster.name.apply(runnerProjectName);
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      {
        name: pulumi.interpolate`/aws/codebuild/${projectName}`,
        retentionInDays: args.logRetentionDays ?? 30,
        tags: args.tags,
      },
      parent,
    );

    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-security-group`,
      {
        name: pulumi.interpolate`${projectName}-runner`,
        description: "CodeBuild runner of the pulumi workflows: egress only; the cluster admits it on 443",
        vpcId: cluster.vpcConfig.vpcId,
        egress: [
          {
            protocol: "-1",
            fromPort: 0,
            toPort: 0,
            cidrBlocks: ["0.0.0.0/0"],
            description: "GitHub, AWS APIs, registries",
          },
        ],
        tags: args.tags,
      },
      parent,
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-cluster-api`,
      {
        securityGroupId: cluster.vpcConfig.clusterSecurityGroupId,
        referencedSecurityGroupId: securityGroup.id,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        description: "The CI runner reaches the private API endpoint",
        tags: args.tags,
      },
      parent,
    );

    const projectArn = pulumi.interpolate`arn:${partition}:codebuild:${region}:${identity.accountId}:project/${projectName}`;
    const role = new aws.iam.Role(
      `${name}-service-role`,
      {
        name: pulumi.interpolate`${projectName}-runner`,
        description:
          "The CodeBuild runner's service role: logs, build network interfaces, the GitHub connection; nothing else",
        assumeRolePolicy: pulumi.jsonStringify(
          pulumi.all([projectArn, identity.accountId]).apply(([arn, account]) => runnerTrustPolicy(arn, account)),
        ),
        tags: args.tags,
      },
      parent,
    );
    const access = new aws.iam.RolePolicy(
      `${name}-service-access`,
      {
        role: role.name,
        name: "runner",
        policy: pulumi.jsonStringify(
          pulumi
            .all([partition, region, identity.accountId, logGroup.name, placement])
            .apply(([p, r, account, logGroupName, { subnetIds }]) =>
              runnerServicePolicy({
                partition: p,
                region: r,
                account,
                logGroupName,
                subnetIds,
                connectionArn: args.config.connectionArn,
              }),
            ),
        ),
      },
      parent,
    );

    const environment = placement.apply(({ architecture }) => RUNNER_ENVIRONMENTS[architecture]);
    const project = new aws.codebuild.Project(
      `${name}-project`,
      {
        name: projectName,
        description: pulumi.interpolate`GitHub Actions runner for ${args.config.repository} in the VPC of ${cluster.name}`,
        serviceRole: role.arn,
        source: {
          type: "GITHUB",
          location: `https://github.com/${args.config.repository}.git`,
          auth: { type: "CODECONNECTIONS", resource: args.config.connectionArn },
        },
        artifacts: { type: "NO_ARTIFACTS" },
        environment: {
          type: environment.type,
          image: environment.image,
          computeType: args.config.computeType,
          // Docker builds (and QEMU's binfmt registration) need a privileged build container.
          privilegedMode: true,
        },
        vpcConfig: {
          vpcId: cluster.vpcConfig.vpcId,
          subnets: placement.subnetIds,
          securityGroupIds: [securityGroup.id],
        },
        buildTimeout: args.config.buildTimeoutMinutes,
        logsConfig: { cloudwatchLogs: { groupName: logGroup.name, status: "ENABLED" } },
        tags: args.tags,
      },
      { parent: this, dependsOn: [access] },
    );
    new aws.codebuild.Webhook(
      `${name}-webhook`,
      {
        projectName: project.name,
        buildType: "BUILD",
        filterGroups: [{ filters: runnerWebhookFilter(args.config.workflows, args.config.allowedActorIds) }],
      },
      parent,
    );

    this.projectName = project.name;
    this.securityGroupId = securityGroup.id;
    this.registerOutputs({ projectName: this.projectName, securityGroupId: this.securityGroupId });
  }
}
