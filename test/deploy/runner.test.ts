/**
 * The CI runner's own configuration and identity: bad keys are named together before anything exists; the
 * service role, judged by a real IAM evaluator, does only what CodeBuild needs for a build in the VPC (its
 * logs, its network interfaces in the runner's subnets, the GitHub connection), so a job on the runner
 * holds no deploy rights of its own; only CodeBuild, for this project, can assume it.
 */
import type * as IamSimulate from "@cloud-copilot/iam-simulate";
import Ajv2020 from "ajv/dist/2020";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import YAML from "yaml";
import { REPO_ROOT } from "../helpers/program";
import { BUILD_TIMEOUT_MINUTES, RUNNER_PROJECT, parseRunnerConfig } from "../../ci/runner/config";
import { runnerServicePolicy, runnerTrustPolicy, runnerWebhookFilter } from "../../ci/runner/runner";
import { decide } from "./iam-oracle";

const ACCOUNT = "123456789012";
const REGION = "us-west-2";
const CONNECTION = `arn:aws:codeconnections:${REGION}:${ACCOUNT}:connection/0ec8a2f6-0000-4000-8000-000000000009`;
const SUBNETS = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"];
const key = (name: string) => `${RUNNER_PROJECT}:${name}`;

describe("the runner's configuration", () => {
  it("is declared in ci/runner/Pulumi.yaml as Pulumi's project schema requires, with the defaults the program applies", async () => {
    const schema = JSON.parse(
      await readFile(path.join(REPO_ROOT, "test", "fixtures", "pulumi-project.schema.json"), "utf8"),
    ) as object;
    const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
    const project = YAML.parse(await readFile(path.join(REPO_ROOT, "ci", "runner", "Pulumi.yaml"), "utf8")) as {
      name: string;
      config: Record<string, { default?: unknown }>;
    };
    assert.ok(validate(project), JSON.stringify(validate.errors, null, 2));
    assert.equal(project.name, RUNNER_PROJECT);
    const declared = Object.fromEntries(
      Object.entries(project.config).map(([name, spec]) => [
        key(name),
        spec.default === undefined
          ? undefined
          : typeof spec.default === "object"
            ? JSON.stringify(spec.default)
            : String(spec.default as string | number),
      ]),
    );
    const required = Object.keys(declared).filter((name) => declared[name] === undefined);
    const parsed = parseRunnerConfig({ ...Object.fromEntries(required.map((name) => [name, ""])) });
    assert.ok(!parsed.ok);
    assert.deepEqual(
      parsed.problems.map((problem) => problem.key).sort(),
      required.sort(),
      "every key without a default is required",
    );
    const full = parseRunnerConfig({
      ...(declared as Record<string, string>),
      [key("clusterStack")]: "organization/sqs-eks-consumer/prod",
      [key("repository")]: "example/sqs-eks-consumer",
      [key("connectionArn")]: CONNECTION,
      [key("workflows")]: '["Deploy"]',
      [key("allowedActorIds")]: "[4242]",
    });
    assert.ok(full.ok, JSON.stringify(full));
  });

  it("accepts a complete configuration and applies the defaults", () => {
    const parsed = parseRunnerConfig({
      [key("clusterStack")]: "organization/sqs-eks-consumer/prod",
      [key("repository")]: "example/sqs-eks-consumer",
      [key("connectionArn")]: CONNECTION,
      [key("workflows")]: '["Deploy"]',
      [key("allowedActorIds")]: "[4242]",
    });
    assert.ok(parsed.ok, JSON.stringify(parsed));
    assert.equal(parsed.value.computeType, "BUILD_GENERAL1_MEDIUM");
    assert.equal(parsed.value.buildTimeoutMinutes, 120);
  });

  it("names every bad key at once, with CodeBuild's limits", () => {
    const parsed = parseRunnerConfig({
      [key("clusterStack")]: "prod",
      [key("repository")]: "not a repository",
      [key("connectionArn")]: "arn:aws:iam::123456789012:role/x",
      [key("workflows")]: "[]",
      [key("allowedActorIds")]: '["octocat"]',
      [key("computeType")]: "BUILD_GENERAL2_HUGE",
      [key("buildTimeoutMinutes")]: String(BUILD_TIMEOUT_MINUTES.max + 1),
    });
    assert.ok(!parsed.ok);
    assert.deepEqual(
      parsed.problems.map((problem) => problem.key),
      [
        "clusterStack",
        "repository",
        "connectionArn",
        "workflows",
        "allowedActorIds",
        "computeType",
        "buildTimeoutMinutes",
      ].map(key),
    );
    assert.match(parsed.problems.at(-1)!.reason, /from 5 to 2160/);
  });

  /**
   * Whether CodeBuild starts a build for a GitHub webhook delivery, by the rule of the CodeBuild user guide
   * ("GitHub webhook events"): a filter group matches when every filter in it matches; EVENT lists event types
   * (workflow_job with action queued is WORKFLOW_JOB_QUEUED), the other types are regular expressions matched
   * against the payload: ACTOR_ACCOUNT_ID against `sender.id`, WORKFLOW_NAME against the workflow's name.
   */
  function startsBuild(
    filters: readonly { type: string; pattern: string }[],
    delivery: { event: string; action: string; senderId: number; workflowName: string },
  ): boolean {
    const eventType = delivery.event === "workflow_job" && delivery.action === "queued" ? "WORKFLOW_JOB_QUEUED" : "";
    return filters.every((filter) => {
      switch (filter.type) {
        case "EVENT":
          return filter.pattern
            .split(",")
            .map((event) => event.trim())
            .includes(eventType);
        case "ACTOR_ACCOUNT_ID":
          return new RegExp(filter.pattern).test(String(delivery.senderId));
        case "WORKFLOW_NAME":
          return new RegExp(filter.pattern).test(delivery.workflowName);
        default:
          throw new Error(`no rule for filter type ${filter.type}`);
      }
    });
  }

  it("starts a build only for a queued job of a named workflow, sent by an allowed account", () => {
    const filters = runnerWebhookFilter(["Deploy", "Preview (dev)"], ["4242", "5151"]);
    const job = { event: "workflow_job", action: "queued", senderId: 4242, workflowName: "Deploy" };
    assert.equal(startsBuild(filters, job), true);
    assert.equal(startsBuild(filters, { ...job, senderId: 5151, workflowName: "Preview (dev)" }), true);
    // A fork's author names the workflow as they like: the workflow name is no gate, the sender is.
    assert.equal(startsBuild(filters, { ...job, senderId: 9_000_001 }), false, "a fork's pull request");
    assert.equal(startsBuild(filters, { ...job, senderId: 42 }), false, "an ID that is a substring of an allowed one");
    assert.equal(startsBuild(filters, { ...job, senderId: 42420 }), false, "an allowed ID as a prefix");
    assert.equal(startsBuild(filters, { ...job, workflowName: "Deploy to prod" }), false);
    assert.equal(startsBuild(filters, { ...job, workflowName: "Preview dev" }), false, "names are literal");
    assert.equal(startsBuild(filters, { ...job, action: "completed" }), false);
  });
});

describe("the runner's service role", () => {
  const policy = runnerServicePolicy({
    partition: "aws",
    region: REGION,
    account: ACCOUNT,
    logGroupName: "/aws/codebuild/ci-sqs-eks-consumer-prod",
    subnetIds: SUBNETS,
    connectionArn: CONNECTION,
  });
  const session = `arn:aws:sts::${ACCOUNT}:assumed-role/ci-sqs-eks-consumer-prod-runner/AWSCodeBuild-1`;
  const may = (action: string, resource: string, context: Record<string, string> = {}) =>
    decide(policy, session, ACCOUNT, REGION, { action, resource, context });

  it("writes its build logs, manages its build's network interfaces in its subnets, and uses the GitHub connection", async () => {
    const eni = `arn:aws:ec2:${REGION}:${ACCOUNT}:network-interface/eni-0123456789abcdef0`;
    assert.equal(
      await may(
        "logs:PutLogEvents",
        `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/codebuild/ci-sqs-eks-consumer-prod:log-stream:1`,
      ),
      "Allowed",
    );
    assert.equal(
      await may("ec2:CreateNetworkInterfacePermission", eni, {
        "ec2:Subnet": `arn:aws:ec2:${REGION}:${ACCOUNT}:subnet/${SUBNETS[0]!}`,
        "ec2:AuthorizedService": "codebuild.amazonaws.com",
      }),
      "Allowed",
    );
    assert.equal(
      await may("ec2:CreateNetworkInterfacePermission", eni, {
        "ec2:Subnet": `arn:aws:ec2:${REGION}:${ACCOUNT}:subnet/subnet-0ccccccccccccccc3`,
        "ec2:AuthorizedService": "codebuild.amazonaws.com",
      }),
      "ImplicitlyDenied",
    );
    assert.equal(await may("codeconnections:UseConnection", CONNECTION), "Allowed");
  });

  it("gives a job nothing to deploy with: no EKS, no roles, no state, no other connection", async () => {
    const denied: [string, string][] = [
      ["eks:DescribeCluster", `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/sqs-eks-consumer-prod`],
      ["sts:AssumeRole", `arn:aws:iam::${ACCOUNT}:role/ci-sqs-eks-consumer-deploy`],
      ["iam:PassRole", `arn:aws:iam::${ACCOUNT}:role/ci-sqs-eks-consumer-deploy`],
      ["s3:GetObject", "arn:aws:s3:::example-pulumi-state/.pulumi/stacks/sqs-eks-consumer/prod.json"],
      ["ecr:GetAuthorizationToken", "*"],
      [
        "codeconnections:UseConnection",
        `arn:aws:codeconnections:${REGION}:${ACCOUNT}:connection/11111111-2222-4333-8444-555555555555`,
      ],
      ["logs:PutLogEvents", `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/other:log-stream:1`],
    ];
    for (const [action, resource] of denied) assert.equal(await may(action, resource), "ImplicitlyDenied", action);
  });
});

describe("the runner's trust", () => {
  let simulator: typeof IamSimulate;
  before(async () => {
    simulator = await import("@cloud-copilot/iam-simulate");
  });
  const project = `arn:aws:codebuild:${REGION}:${ACCOUNT}:project/ci-sqs-eks-consumer-prod`;
  const trust = runnerTrustPolicy(project, ACCOUNT);
  const assume = async (principal: string, sourceArn: string, sourceAccount = ACCOUNT) => {
    const response = await simulator.runSimulation(
      {
        identityPolicies: [],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: trust,
        request: {
          principal,
          action: "sts:AssumeRole",
          resource: { resource: `arn:aws:iam::${ACCOUNT}:role/ci-sqs-eks-consumer-prod-runner`, accountId: ACCOUNT },
          contextVariables: { "aws:SourceArn": sourceArn, "aws:SourceAccount": sourceAccount },
        },
      },
      {},
    );
    assert.notEqual(response.resultType, "error", JSON.stringify(response));
    return (response as { overallResult: string }).overallResult;
  };

  it("admits CodeBuild building this project only", async () => {
    assert.equal(await assume("codebuild.amazonaws.com", project), "Allowed");
    assert.equal(await assume("codebuild.amazonaws.com", `${project}-other`), "ImplicitlyDenied");
    assert.equal(await assume("codebuild.amazonaws.com", project, "210987654321"), "ImplicitlyDenied");
    assert.equal(await assume("lambda.amazonaws.com", project), "ImplicitlyDenied");
  });
});
