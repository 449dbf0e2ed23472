/**
 * The workflows' pulumi jobs run where the cluster's API endpoint answers. For each job that previews or
 * updates a stack, the stack is recorded under mocks as the program creates it (Pulumi.<stack>.yaml, or
 * the defaults), the CI runner (ci/runner) is recorded against that recording's cluster and network, and
 * a reachability rule built from the EKS user guide (test/deploy/reachability.ts) judges whether the job's
 * runner reaches the API and GitHub. The same rule, asked about a GitHub-hosted runner or a runner without
 * the security group rule, says no: it is not a rule that cannot fail.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { parseRunnerConfig, type RunnerConfig } from "../../ci/runner/config";
import { RUNNER_ENVIRONMENTS, runnerProjectName, runsOnLabel } from "../../ci/runner/runner";
import { amiTypeArchitecture } from "../../infra/node-architecture";
import type { ProgramRun, RecordedResource } from "../helpers/mocks";
import { ORGANIZATION, REPO_ROOT, runPrograms, scenario, stackFileValues } from "../helpers/program";
import {
  reachesApi,
  reachesInternet,
  type Client,
  type Endpoint,
  type IngressRule,
  type RouteTable,
} from "./reachability";
import { RunnerRecorder, type ClusterFacts, type RecordedRunner } from "./runner-record";

interface Step {
  readonly uses?: string;
  readonly with?: Record<string, unknown>;
}
interface Job {
  readonly "runs-on": string;
  readonly "timeout-minutes": number;
  readonly steps: readonly Step[];
}
interface Workflow {
  readonly name: string;
  readonly jobs: Record<string, Job>;
}

/** A job that runs pulumi: its workflow, the stack it names, where it runs. */
interface PulumiJob {
  readonly workflow: string;
  readonly job: string;
  readonly stack: string;
  readonly runsOn: string;
  readonly timeoutMinutes: number;
}

function pulumiJobs(): PulumiJob[] {
  const dir = path.join(REPO_ROOT, ".github", "workflows");
  return ["preview.yml", "deploy.yml"].flatMap((file) => {
    const workflow = parse(readFileSync(path.join(dir, file), "utf8")) as Workflow;
    return Object.entries(workflow.jobs).flatMap(([job, spec]) => {
      const step = spec.steps.find((candidate) => candidate.uses?.startsWith("pulumi/actions@"));
      if (step === undefined) return [];
      return [
        {
          workflow: workflow.name,
          job,
          stack: String(step.with?.["stack-name"]),
          runsOn: spec["runs-on"],
          timeoutMinutes: spec["timeout-minutes"],
        },
      ];
    });
  });
}

const byType = (run: ProgramRun, type: string): RecordedResource[] => run.resources.filter((r) => r.type === type);
const idOf = (r: RecordedResource) => String(r.state.id);

/** The cluster as EKS would report it to the runner, from the program's recording. */
function clusterFacts(run: ProgramRun): ClusterFacts {
  const [cluster] = byType(run, "eks:index:Cluster");
  assert.ok(cluster, "the stack creates its cluster");
  const name = String(cluster.inputs.name);
  return {
    name,
    region: "us-west-2",
    vpcId: String(cluster.inputs.vpcId),
    // EKS creates this group and attaches it to the control plane's network interfaces (EKS user guide,
    // "View Amazon EKS security group requirements for clusters").
    clusterSecurityGroupId: `sg-eks-cluster-${name}`,
    endpointPrivateAccess: cluster.inputs.endpointPrivateAccess === true,
    endpointPublicAccess: cluster.inputs.endpointPublicAccess === true,
    nodeGroups: byType(run, "eks:index:ManagedNodeGroup").map((group) => ({
      name: `${String(group.inputs.nodeGroupNamePrefix)}20260101000000000000000001`,
      amiType: String(group.inputs.amiType),
      instanceTypes: group.inputs.instanceTypes as string[],
      subnetIds: group.inputs.subnetIds as string[],
    })),
    autoMode: (cluster.inputs.autoMode as { enabled?: boolean } | undefined)?.enabled === true,
    subnetIds: [
      ...(cluster.inputs.privateSubnetIds as string[]),
      ...((cluster.inputs.publicSubnetIds as string[] | undefined) ?? []),
    ],
    privateSubnetIds: cluster.inputs.privateSubnetIds as string[],
  };
}

function endpointOf(run: ProgramRun, facts: ClusterFacts): Endpoint {
  const [cluster] = byType(run, "eks:index:Cluster");
  const vpc = byType(run, "aws:ec2/vpc:Vpc").find((candidate) => idOf(candidate) === facts.vpcId);
  return {
    privateAccess: cluster?.inputs.endpointPrivateAccess === true,
    publicAccess: cluster?.inputs.endpointPublicAccess === true,
    publicAccessCidrs: (cluster?.inputs.publicAccessCidrs as string[] | undefined) ?? [],
    vpcId: facts.vpcId,
    vpcDns:
      vpc === undefined
        ? undefined
        : { support: vpc.inputs.enableDnsSupport === true, hostnames: vpc.inputs.enableDnsHostnames === true },
    controlPlaneSecurityGroups: [facts.clusterSecurityGroupId],
  };
}

function routeTables(run: ProgramRun): RouteTable[] {
  const associations = byType(run, "aws:ec2/routeTableAssociation:RouteTableAssociation");
  return byType(run, "aws:ec2/routeTable:RouteTable").map((table) => {
    const routes = (table.inputs.routes as { cidrBlock?: string; natGatewayId?: string; gatewayId?: string }[]) ?? [];
    const route = routes.find((candidate) => candidate.cidrBlock === "0.0.0.0/0");
    return {
      id: idOf(table),
      defaultRoute:
        route === undefined
          ? undefined
          : {
              ...(route.natGatewayId === undefined ? {} : { natGatewayId: route.natGatewayId }),
              ...(route.gatewayId === undefined ? {} : { gatewayId: route.gatewayId }),
            },
      subnetIds: associations
        .filter((association) => association.inputs.routeTableId === idOf(table))
        .map((association) => String(association.inputs.subnetId)),
    };
  });
}

function runnerOf(runner: RecordedRunner): { client: Client; rules: IngressRule[]; project: Record<string, unknown> } {
  const project = runner.resources.find((r) => r.type === "aws:codebuild/project:Project");
  assert.ok(project, "the runner has a CodeBuild project");
  const vpc = project.inputs.vpcConfig as { vpcId: string; subnets: string[]; securityGroupIds: string[] };
  const rules = runner.resources
    .filter((r) => r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    .map((r) => ({
      securityGroupId: String(r.inputs.securityGroupId),
      fromSecurityGroupId: String(r.inputs.referencedSecurityGroupId),
      protocol: String(r.inputs.ipProtocol),
      fromPort: Number(r.inputs.fromPort),
      toPort: Number(r.inputs.toPort),
    }));
  return {
    client: { kind: "vpc", vpcId: vpc.vpcId, subnetIds: vpc.subnets, securityGroupIds: vpc.securityGroupIds },
    rules,
    project: project.inputs,
  };
}

function runnerConfig(job: PulumiJob): RunnerConfig {
  const project = "sqs-eks-consumer-runner";
  const parsed = parseRunnerConfig({
    [`${project}:clusterStack`]: `${ORGANIZATION}/sqs-eks-consumer/${job.stack}`,
    [`${project}:repository`]: "example/sqs-eks-consumer",
    [`${project}:connectionArn`]:
      "arn:aws:codeconnections:us-west-2:123456789012:connection/0ec8a2f6-0000-4000-8000-000000000009",
    [`${project}:workflows`]: JSON.stringify([job.workflow]),
    [`${project}:allowedActorIds`]: "[4242]",
  });
  assert.ok(parsed.ok, JSON.stringify(parsed));
  return parsed.value;
}

interface Judged {
  readonly job: PulumiJob;
  readonly run: ProgramRun;
  readonly facts: ClusterFacts;
  readonly runner: RecordedRunner;
}

let judged: Judged[];

before(async () => {
  const jobs = pulumiJobs();
  assert.ok(jobs.length >= 2, "the preview and deploy workflows run pulumi");
  const runs = await runPrograms(
    await Promise.all(
      jobs.map(async (job) => scenario(job.stack, job.stack === "dev" ? await stackFileValues("dev") : {})),
    ),
  );
  const recorder = new RunnerRecorder();
  judged = [];
  for (const [i, job] of jobs.entries()) {
    const run = runs[i]!;
    assert.deepEqual(run.errors, [], `${job.workflow}/${job.job}`);
    const facts = clusterFacts(run);
    judged.push({ job, run, facts, runner: await recorder.record(`runner-${job.stack}`, runnerConfig(job), facts) });
  }
});

describe("the workflows' pulumi jobs", () => {
  it("run on the CI runner of the cluster of the stack they preview or update", () => {
    for (const { job, facts, runner } of judged) {
      assert.equal(runner.projectName, runnerProjectName(facts.name));
      assert.equal(job.runsOn, runsOnLabel(facts.name), `${job.workflow}/${job.job}`);
    }
  });

  it("reach the cluster's API endpoint from there, and GitHub", () => {
    for (const { job, run, facts, runner } of judged) {
      // The job runs where its label sends it: the CI runner's build, or a GitHub-hosted machine.
      const recorded = runnerOf(runner);
      const onRunner = job.runsOn === runsOnLabel(facts.name);
      const client: Client = onRunner ? recorded.client : { kind: "github-hosted" };
      const rules = onRunner ? recorded.rules : [];
      const api = reachesApi(client, endpointOf(run, facts), rules);
      assert.ok(api.reaches, `${job.workflow}/${job.job}: ${api.why}`);
      const internet = reachesInternet(client, routeTables(run));
      assert.ok(internet.reaches, `${job.workflow}/${job.job}: ${internet.why}`);
    }
  });

  it("would not reach it from a GitHub-hosted runner, nor from the runner without its security group rule", () => {
    for (const { run, facts, runner } of judged) {
      const endpoint = endpointOf(run, facts);
      assert.equal(reachesApi({ kind: "github-hosted" }, endpoint, []).reaches, false);
      assert.equal(reachesApi(runnerOf(runner).client, endpoint, []).reaches, false);
    }
  });

  it("end before their runner's build does", () => {
    for (const { job, runner } of judged) {
      const { project } = runnerOf(runner);
      assert.ok(
        Number(project.buildTimeout) > job.timeoutMinutes,
        `${job.workflow}/${job.job}: CodeBuild ends the job first`,
      );
    }
  });

  it("build on the nodes' CPU architecture, in a privileged build container that can run Docker", () => {
    for (const { job, facts, runner } of judged) {
      const { project } = runnerOf(runner);
      const environment = project.environment as { type: string; image: string; privilegedMode: boolean };
      // Under Auto Mode, the general-purpose NodePool's architecture (EKS user guide, "set-builtin-node-pools").
      const group = facts.nodeGroups[0];
      assert.deepEqual(
        { type: environment.type, image: environment.image },
        RUNNER_ENVIRONMENTS[group ? amiTypeArchitecture(group.amiType, group.instanceTypes) : "amd64"],
        `${job.workflow}/${job.job}`,
      );
      assert.equal(environment.privilegedMode, true);
    }
  });

  it("are the only jobs their runner takes: its webhook admits this workflow's jobs and not the other's", () => {
    const names = new Set(judged.map(({ job }) => job.workflow));
    for (const { job, runner } of judged) {
      const webhook = runner.resources.find((r) => r.type === "aws:codebuild/webhook:Webhook");
      const filters = (webhook?.inputs.filterGroups as { filters: { type: string; pattern: string }[] }[])[0]!.filters;
      assert.deepEqual(filters.find((f) => f.type === "EVENT")?.pattern, "WORKFLOW_JOB_QUEUED");
      const pattern = new RegExp(filters.find((f) => f.type === "WORKFLOW_NAME")!.pattern);
      for (const name of names)
        assert.equal(pattern.test(name), name === job.workflow, `${job.workflow} runner, ${name}`);
    }
  });
});
