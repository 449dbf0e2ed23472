/**
 * The whole program under Pulumi mocks, one child process per stack: every cluster mode, the dev stack as
 * committed, two developer stacks borrowing one cluster side by side, and a bad configuration. What
 * developers may do on the shared cluster is judged in developer-stacks.integration.test.ts.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { NAME_LIMITS } from "../infra/names";
import type { ProgramRun, RecordedResource } from "./helpers/mocks";
import {
  ORGANIZATION,
  REPO_ROOT,
  assertSucceeded,
  borrowing,
  jsonInput,
  named,
  ofType,
  oneOfType,
  runPrograms,
  scenario,
  stackFileValues,
} from "./helpers/program";

const SHARED_STACK = `${ORGANIZATION}/sqs-eks-consumer/shared`;
const ADMIN_ARN = "arn:aws:iam::123456789012:role/platform-admins";
const ALICE_ARN = "arn:aws:iam::123456789012:role/alice";
const BOB_ARN = "arn:aws:iam::123456789012:user/bob";
const LONG_STACK = "bob-feature-branch-with-a-very-long-descriptive-name-for-the-retry-work";
const EXISTING = {
  "platform-prod": {
    nodeGroups: [{ name: "general", amiType: "AL2023_x86_64_STANDARD", instanceTypes: ["m7i.large"] }],
    endpoint: "https://ABCDEF.gr7.us-west-2.eks.amazonaws.com",
    certificateAuthorityData: "LS0tLS1CRUdJTi1DRVJUSUZJQ0FURS0tLS0t",
    oidcIssuerUrl: "https://oidc.eks.us-west-2.amazonaws.com/id/EXISTING0123456789ABCDEF01234567",
    oidcProviderArn:
      "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXISTING0123456789ABCDEF01234567",
  },
};

const CLUSTER_TYPES = [
  "eks:index:Cluster",
  "eks:index:ManagedNodeGroup",
  "aws:ec2/launchTemplate:LaunchTemplate",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
];

let create: ProgramRun;
let dev: ProgramRun;
let existing: ProgramRun;
let existingMissing: ProgramRun;
let badConfig: ProgramRun;
let alice: ProgramRun;
let bob: ProgramRun;
let missingShared: ProgramRun;

before(async () => {
  [create, dev, existing, existingMissing, badConfig] = (await runPrograms([
    await scenario("shared", {
      nodeProvisioning: "node-group",
      clusterAdminPrincipalArns: [ADMIN_ARN],
      developers: [`alice=${ALICE_ARN}`, `bob=${BOB_ARN}`],
      endpointPublicAccessCidrs: ["203.0.113.0/24"],
      maxReceiveCount: 7,
      consumer: { handlerTimeoutSeconds: 300 },
    }),
    await scenario("dev", await stackFileValues("dev")),
    await scenario("platform", { clusterMode: "adopt", clusterName: "platform-prod" }, { existingClusters: EXISTING }),
    await scenario("platform", { clusterMode: "adopt", clusterName: "nowhere" }, { existingClusters: EXISTING }),
    await scenario("broken", {
      clusterMode: "borrow",
      nodeInstanceType: "m7i.large",
      replicas: "many",
      consumer: { waitTimeSeconds: 30, shutdownBudgetSecond: 10 },
    }),
  ])) as [ProgramRun, ProgramRun, ProgramRun, ProgramRun, ProgramRun];
  const borrow = { clusterMode: "borrow", ephemeral: true, clusterStack: SHARED_STACK };
  const aliceCaller = "arn:aws:sts::123456789012:assumed-role/alice/alice-laptop";
  [alice, bob, missingShared] = (await runPrograms([
    await scenario("alice", borrow, borrowing(create, aliceCaller)),
    await scenario(LONG_STACK, borrow, borrowing(create, BOB_ARN)),
    await scenario(
      "carol",
      { clusterMode: "borrow", ephemeral: true, clusterStack: `${ORGANIZATION}/sqs-eks-consumer/gone` },
      borrowing(create, aliceCaller),
    ),
  ])) as [ProgramRun, ProgramRun, ProgramRun];
});

/** The namespace the long-named developer stack made for itself. */
function bobNamespace(): string {
  return String(bob.outputs.namespace);
}

/** Physical names this stack claims in AWS and in the cluster. */
function physicalNames(run: ProgramRun): string[] {
  const aws = run.resources.filter((r) =>
    /^aws:(sqs\/queue|iam\/role|ecr\/repository|ec2\/launchTemplate):/.test(r.type),
  );
  const namespaces = ofType(run, "kubernetes:core/v1:Namespace");
  return [
    ...aws.map((r) => String(r.inputs.name)),
    ...namespaces.map((r) => String((r.inputs.metadata as { name: string }).name)),
  ];
}

function trustPolicyOf(run: ProgramRun): {
  Statement: { Principal: { Federated: string }; Condition: { StringEquals: Record<string, string> } }[];
} {
  return jsonInput(named(run, "identity-role"), "assumeRolePolicy") as ReturnType<typeof trustPolicyOf>;
}

describe("create mode", () => {
  it("creates an EKS cluster with an IAM OIDC provider, access entries for the admins, standard support only", () => {
    assertSucceeded(create);
    const cluster = oneOfType(create, "eks:index:Cluster");
    assert.equal(cluster.inputs.name, "sqs-eks-consumer-shared");
    assert.equal(cluster.inputs.createOidcProvider, true);
    assert.equal(cluster.inputs.skipDefaultNodeGroup, true);
    assert.equal(cluster.inputs.authenticationMode, "API");
    assert.equal(cluster.inputs.version, undefined, "no pinned version: EKS's automatic upgrades are never undone");
    assert.deepEqual(cluster.inputs.upgradePolicy, { supportType: "STANDARD" });
    const entries = Object.values(cluster.inputs.accessEntries as Record<string, { principalArn: string }>).sort(
      (x, y) => x.principalArn.localeCompare(y.principalArn),
    );
    const policy = (name: string) => `arn:aws:eks::aws:cluster-access-policy/${name}`;
    assert.deepEqual(entries, [
      {
        principalArn: ALICE_ARN,
        kubernetesGroups: ["sqs-eks-consumer:developers"],
        username: "sqs-eks-consumer:developer:alice",
      },
      {
        principalArn: ADMIN_ARN,
        accessPolicies: {
          admin: { policyArn: policy("AmazonEKSClusterAdminPolicy"), accessScope: { type: "cluster" } },
        },
      },
      {
        principalArn: BOB_ARN,
        kubernetesGroups: ["sqs-eks-consumer:developers"],
        username: "sqs-eks-consumer:developer:bob",
      },
    ]);
  });

  it("runs managed nodes that cannot hand their instance role to pods: IMDSv2 required, hop limit 1", () => {
    const launchTemplate = oneOfType(create, "aws:ec2/launchTemplate:LaunchTemplate");
    assert.deepEqual(launchTemplate.inputs.metadataOptions, {
      httpEndpoint: "enabled",
      httpTokens: "required",
      httpPutResponseHopLimit: 1,
    });
    const nodes = oneOfType(create, "eks:index:ManagedNodeGroup");
    const template = nodes.inputs.launchTemplate as { id: string; version: string };
    assert.match(template.id, /^lt-/);
    assert.equal(template.version, "1");
    assert.equal(nodes.inputs.amiType, "AL2023_x86_64_STANDARD");
    assert.deepEqual(nodes.inputs.instanceTypes, ["t3.medium"]);
    assert.deepEqual(nodes.inputs.scalingConfig, { minSize: 1, desiredSize: 2, maxSize: 3 });
    assert.equal(nodes.inputs.version, undefined);
  });

  it("gives the nodes a role EC2 can assume, with the worker, CNI and ECR pull policies", () => {
    const nodeRole = named(create, "cluster-node-role");
    assert.deepEqual(jsonInput(nodeRole, "assumeRolePolicy"), {
      Version: "2012-10-17",
      Statement: [
        { Sid: "Ec2Instances", Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
      ],
    });
    const attachedTo = (role: string) =>
      ofType(create, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        .filter((r) => r.dependencies.includes(named(create, role).urn))
        .map((r) => r.inputs.policyArn)
        .sort();
    assert.deepEqual(attachedTo("cluster-node-role"), [
      "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
      "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
      "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    ]);
    // The cluster's own role, named under the stack's prefix (pulumi-eks would auto-name it outside it).
    const clusterRole = named(create, "cluster-cluster-role");
    assert.equal(clusterRole.inputs.namePrefix, "sqs-eks-consumer-shared-eks-");
    assert.deepEqual(attachedTo("cluster-cluster-role"), ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"]);
    const eks = oneOfType(create, "eks:index:Cluster");
    assert.equal((eks.inputs.serviceRole as { urn: string }).urn, clusterRole.urn);
  });

  it("exports the cluster's name, OIDC provider and kubeconfig, the kubeconfig as a secret", () => {
    assert.ok(create.secretOutputs.includes("kubeconfig"));
    assert.equal(create.outputs.clusterName, "sqs-eks-consumer-shared");
    assert.match(
      String(create.outputs.oidcProviderArn),
      /^arn:aws:iam::123456789012:oidc-provider\/oidc\.eks\.us-west-2\.amazonaws\.com\/id\//,
    );
    assert.match(String(create.outputs.oidcProviderUrl), /^https:\/\/oidc\.eks\./);
    const provider = oneOfType(create, "pulumi:providers:kubernetes");
    assert.equal(provider.inputs.kubeconfig, create.outputs.kubeconfig);
    assert.ok(provider.secretInputPaths.includes("kubeconfig"));
  });

  it("exports the queue, DLQ, role, namespace, image and two ready-to-run commands", () => {
    const queueUrl = "https://sqs.us-west-2.amazonaws.com/123456789012/sqs-eks-consumer-shared-queue";
    assert.equal(create.outputs.queueUrl, queueUrl);
    assert.equal(
      create.outputs.deadLetterQueueUrl,
      "https://sqs.us-west-2.amazonaws.com/123456789012/sqs-eks-consumer-shared-dlq",
    );
    assert.equal(create.outputs.roleArn, "arn:aws:iam::123456789012:role/sqs-eks-consumer-shared-consumer");
    assert.equal(create.outputs.namespace, "sqs-eks-consumer-shared");
    assert.match(
      String(create.outputs.image),
      /^123456789012\.dkr\.ecr\.us-west-2\.amazonaws\.com\/sqs-eks-consumer-shared-consumer@sha256:[0-9a-f]{64}$/,
    );
    assert.equal(
      create.outputs.sendTestMessageCommand,
      `aws sqs send-message --region us-west-2 --queue-url ${queueUrl} --message-body 'Hello world!'`,
    );
    const deployment = oneOfType(create, "kubernetes:apps/v1:Deployment");
    const selector = (deployment.inputs.spec as { selector: { matchLabels: Record<string, string> } }).selector
      .matchLabels;
    const logs = /^kubectl logs -n sqs-eks-consumer-shared -l (\S+) -f$/.exec(String(create.outputs.tailLogsCommand));
    assert.ok(logs, String(create.outputs.tailLogsCommand));
    const selected = Object.fromEntries(logs[1]!.split(",").map((pair) => pair.split("=") as [string, string]));
    assert.deepEqual(selected, selector, "the logs command selects exactly the Deployment's pods");
  });

  it("protects nothing but what holds state (test/lifecycle.integration.test.ts has each option), in any mode", () => {
    const stateful = new Set(["aws:sqs/queue:Queue", "aws:ecr/repository:Repository", "kubernetes:core/v1:ConfigMap"]);
    // A queue's policies are retained with it (a replaced queue keeps them), never protected.
    const queuePolicies = new Set(["aws:sqs/queuePolicy:QueuePolicy", "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy"]);
    for (const run of [create, dev, existing, alice, bob]) {
      for (const resource of run.resources.filter((r) => r.protect || r.retainOnDelete)) {
        const allowed = stateful.has(resource.type) || (queuePolicies.has(resource.type) && !resource.protect);
        assert.ok(allowed, `${resource.name} (${resource.type}) is protected or retained`);
      }
    }
  });

  it("places every resource in a component, named after it", () => {
    for (const resource of create.resources) {
      if (resource.type === "pulumi:pulumi:Stack") continue;
      if (resource.type.startsWith("sqs-eks-consumer:")) {
        assert.match(resource.parent, /::pulumi:pulumi:Stack::/, `${resource.name} should be a top-level component`);
        continue;
      }
      const parentName = resource.parent.split("::").at(-1) ?? "";
      assert.match(
        resource.parent,
        /[:$]sqs-eks-consumer:[a-z-]+:[A-Za-z]+::[^:]+$/,
        `${resource.name} should be a component's child`,
      );
      assert.ok(resource.name.startsWith(`${parentName}-`), `${resource.name} should be named ${parentName}-<role>`);
    }
  });

  it("keeps physical names within AWS limits", () => {
    for (const queue of ofType(create, "aws:sqs/queue:Queue"))
      assert.ok(String(queue.inputs.name).length <= NAME_LIMITS.sqsQueue);
    for (const role of ofType(create, "aws:iam/role:Role")) {
      const { name, namePrefix } = role.inputs as { name?: string; namePrefix?: string };
      assert.ok(
        namePrefix === undefined ? name!.length <= NAME_LIMITS.iamRole : namePrefix.length <= NAME_LIMITS.iamRolePrefix,
      );
    }
  });
});

describe("image", () => {
  it("pushes to an ECR repository that scans on push and expires old images", () => {
    const repository = oneOfType(create, "aws:ecr/repository:Repository");
    assert.equal(repository.inputs.name, "sqs-eks-consumer-shared-consumer");
    assert.deepEqual(repository.inputs.imageScanningConfiguration, { scanOnPush: true });
    const lifecycle = oneOfType(create, "aws:ecr/lifecyclePolicy:LifecyclePolicy");
    assert.equal(lifecycle.inputs.repository, "sqs-eks-consumer-shared-consumer");
    assert.deepEqual(jsonInput(lifecycle, "policy"), {
      rules: [
        {
          rulePriority: 1,
          description: "Keep the 10 newest images",
          selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 10 },
          action: { type: "expire" },
        },
      ],
    });
  });

  it("builds consumer/Dockerfile from the repository root for the configured platform, stamped with the commit", () => {
    const image = oneOfType(create, "docker:index/image:Image");
    const build = image.inputs.build as {
      context: string;
      dockerfile: string;
      platform: string;
      args: Record<string, string>;
    };
    assert.equal(path.resolve(REPO_ROOT, build.context), REPO_ROOT);
    assert.equal(path.resolve(REPO_ROOT, build.dockerfile), path.join(REPO_ROOT, "consumer", "Dockerfile"));
    assert.equal(build.platform, "linux/amd64");
    assert.equal(image.inputs.buildOnPreview, false, "pulumi preview needs no Docker engine");
    const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
    const commitTime = execFileSync("git", ["log", "-1", "--format=%cI"], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
    assert.deepEqual(build.args, { GIT_COMMIT: commit, BUILD_TIME: commitTime });
    assert.equal(
      image.inputs.imageName,
      `123456789012.dkr.ecr.us-west-2.amazonaws.com/sqs-eks-consumer-shared-consumer:${commit.slice(0, 12)}`,
    );
  });

  it("pushes with short-lived ECR credentials from aws.ecr.getAuthorizationToken, the password kept secret", () => {
    const tokenCalls = create.invokes.filter(
      (call) => call.token === "aws:ecr/getAuthorizationToken:getAuthorizationToken",
    );
    // One for the image's push, one for the KEDA chart's pull from the account's mirror: both this account's registry.
    assert.deepEqual(
      tokenCalls.map((call) => call.inputs.registryId),
      ["123456789012", "123456789012"],
    );
    const image = oneOfType(create, "docker:index/image:Image");
    assert.deepEqual(image.inputs.registry, {
      server: "123456789012.dkr.ecr.us-west-2.amazonaws.com",
      username: "AWS",
      password: "mock-ecr-password",
    });
    assert.ok(image.secretInputPaths.includes("registry.password"));
  });

  it("deploys the pushed digest, never a tag", () => {
    const deployment = oneOfType(create, "kubernetes:apps/v1:Deployment");
    const container = (deployment.inputs.spec as { template: { spec: { containers: { image: string }[] } } }).template
      .spec.containers[0]!;
    assert.equal(container.image, create.outputs.image);
    assert.match(container.image, /@sha256:[0-9a-f]{64}$/);
  });

  it("builds for arm64 when the stack says so, on Graviton nodes with an arm64 AMI", async () => {
    const [arm] = await runPrograms([
      await scenario("arm", {
        nodeProvisioning: "node-group",
        imagePlatform: "linux/arm64",
        nodeInstanceType: "t4g.medium",
      }),
    ]);
    assertSucceeded(arm!);
    assert.equal(
      (oneOfType(arm!, "docker:index/image:Image").inputs.build as { platform: string }).platform,
      "linux/arm64",
    );
    assert.equal(oneOfType(arm!, "eks:index:ManagedNodeGroup").inputs.amiType, "AL2023_ARM_64_STANDARD");
  });
});

describe("the dev stack (Pulumi.dev.yaml as committed)", () => {
  it("deploys a two-node t3.medium cluster (room for five developers) and one consumer pod logging at debug", () => {
    assertSucceeded(dev);
    const nodes = oneOfType(dev, "eks:index:ManagedNodeGroup");
    assert.deepEqual(nodes.inputs.instanceTypes, ["t3.medium"]);
    assert.deepEqual(nodes.inputs.scalingConfig, { minSize: 2, desiredSize: 2, maxSize: 3 });
    const spec = oneOfType(dev, "kubernetes:apps/v1:Deployment").inputs.spec as {
      replicas: number;
      template: { spec: { containers: { env: { name: string; value?: string }[] }[] } };
    };
    assert.equal(spec.replicas, 1);
    assert.equal(spec.template.spec.containers[0]!.env.find((e) => e.name === "LOG_LEVEL")?.value, "debug");
  });
});

describe("borrow mode: two developer stacks borrowing one cluster", () => {
  it("creates no cluster, and finds the shared one by the name its stack gave it, reading none of that stack's state (only its own last outputs)", () => {
    for (const [run, stack] of [
      [alice, "alice"],
      [bob, LONG_STACK],
    ] as const) {
      assertSucceeded(run);
      for (const type of CLUSTER_TYPES)
        assert.deepEqual(ofType(run, type), [], `${type} should not exist in borrow mode`);
      assert.equal(ofType(run, "aws:iam/role:Role").length, 1, "only the consumer's role");
      // The one StackReference is the stack's own, read for its last createdWith (infra/lifecycle.ts).
      assert.deepEqual(
        ofType(run, "pulumi:pulumi:StackReference").map((r) => r.inputs.name),
        [`${ORGANIZATION}/sqs-eks-consumer/${stack}`],
      );
      assert.ok(
        run.invokes.some(
          (c) => c.token === "aws:eks/getCluster:getCluster" && c.inputs.name === create.outputs.clusterName,
        ),
      );
    }
  });

  it("deploys through a kubeconfig of its own (aws eks get-token) and trusts the shared cluster's OIDC provider", () => {
    for (const run of [alice, bob]) {
      const provider = oneOfType(run, "pulumi:providers:kubernetes");
      const kubeconfig = JSON.parse(String(provider.inputs.kubeconfig)) as {
        users: { user: { exec: { command: string; args: string[] } } }[];
      };
      assert.equal(kubeconfig.users[0]!.user.exec.command, "aws");
      assert.deepEqual(kubeconfig.users[0]!.user.exec.args.slice(0, 4), [
        "eks",
        "get-token",
        "--cluster-name",
        create.outputs.clusterName,
      ]);
      const statement = trustPolicyOf(run).Statement[0]!;
      assert.equal(statement.Principal.Federated, create.outputs.oidcProviderArn);
      const issuer = String(create.outputs.oidcProviderUrl).replace("https://", "");
      assert.deepEqual(Object.keys(statement.Condition.StringEquals).sort(), [`${issuer}:aud`, `${issuer}:sub`]);
      assert.equal(run.outputs.clusterName, create.outputs.clusterName);
    }
  });

  it("gives each stack its own queue, role, repository and namespace, scoped by its stack name", () => {
    const aliceNames = physicalNames(alice);
    const bobNames = physicalNames(bob);
    const sharedNames = physicalNames(create);
    assert.equal(aliceNames.length, 5, aliceNames.join(", "));
    assert.equal(bobNames.length, 5, bobNames.join(", "));
    assert.equal(alice.outputs.namespace, "sqs-eks-consumer-alice", "alice makes her namespace herself");
    assert.deepEqual(
      aliceNames.filter((name) => bobNames.includes(name) || sharedNames.includes(name)),
      [],
    );
    assert.deepEqual(
      bobNames.filter((name) => sharedNames.includes(name)),
      [],
    );
    for (const name of aliceNames) assert.match(name, /^sqs-eks-consumer-alice(-|$)/);
    for (const name of bobNames) assert.match(name, /^sqs-eks-consumer-bob-feature/);
  });

  it("keeps a long stack name's physical names within AWS and Kubernetes limits", () => {
    for (const role of ofType(bob, "aws:iam/role:Role"))
      assert.ok(String(role.inputs.name).length <= NAME_LIMITS.iamRole);
    for (const queue of ofType(bob, "aws:sqs/queue:Queue"))
      assert.ok(String(queue.inputs.name).length <= NAME_LIMITS.sqsQueue);
    const namespace = bobNamespace();
    assert.ok(namespace.length <= NAME_LIMITS.kubernetesNamespace);
    assert.match(namespace, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    const labels = (
      oneOfType(bob, "kubernetes:apps/v1:Deployment").inputs.metadata as { labels: Record<string, string> }
    ).labels;
    for (const value of Object.values(labels)) assert.ok(value.length <= 63, `label value ${value} is too long`);
  });

  it("fails clearly when the shared stack's cluster does not exist", () => {
    assert.ok(
      missingShared.errors.some((e) =>
        e.includes("reading EKS Cluster (sqs-eks-consumer-gone): couldn't find resource"),
      ),
      missingShared.errors.join("\n"),
    );
  });
});

describe("adopt mode", () => {
  it("adopts the cluster by name and finds its OIDC provider, creating no cluster", () => {
    assertSucceeded(existing);
    for (const type of CLUSTER_TYPES) assert.deepEqual(ofType(existing, type), []);
    const calls = existing.invokes.map((call) => [call.token, call.inputs.name ?? call.inputs.url]);
    const clusterCalls = calls.filter(
      ([token]) => String(token).startsWith("aws:eks/") || String(token).startsWith("aws:iam/"),
    );
    // The cluster is looked up first; the look-ups that follow from it run concurrently, in the event loop's order.
    assert.deepEqual(clusterCalls[0], ["aws:eks/getCluster:getCluster", "platform-prod"]);
    const byToken = (a: unknown[], b: unknown[]) => String(a[0]).localeCompare(String(b[0]));
    assert.deepEqual(
      [...clusterCalls].sort(byToken),
      [
        ["aws:eks/getCluster:getCluster", "platform-prod"],
        // Whether the identity running pulumi has an access entry on the cluster (infra/cluster-access.ts).
        ["aws:iam/getSessionContext:getSessionContext", undefined],
        ["aws:eks/getNodeGroups:getNodeGroups", undefined],
        ["aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider", EXISTING["platform-prod"].oidcIssuerUrl],
        ["aws:eks/getNodeGroup:getNodeGroup", undefined],
        ["aws:eks/getAccessEntry:getAccessEntry", undefined],
      ].sort(byToken),
    );
    assert.equal(existing.outputs.clusterName, "platform-prod");
    assert.equal(existing.outputs.oidcProviderArn, EXISTING["platform-prod"].oidcProviderArn);
    assert.equal(trustPolicyOf(existing).Statement[0]!.Principal.Federated, EXISTING["platform-prod"].oidcProviderArn);
  });

  it("reaches the cluster with a kubeconfig that runs `aws eks get-token` (no static credentials)", () => {
    const kubeconfig = JSON.parse(String(oneOfType(existing, "pulumi:providers:kubernetes").inputs.kubeconfig)) as {
      clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
      users: { user: { exec: { command: string; args: string[] } } }[];
    };
    assert.equal(kubeconfig.clusters[0]!.cluster.server, EXISTING["platform-prod"].endpoint);
    assert.equal(
      kubeconfig.clusters[0]!.cluster["certificate-authority-data"],
      EXISTING["platform-prod"].certificateAuthorityData,
    );
    assert.equal(kubeconfig.users[0]!.user.exec.command, "aws");
    assert.deepEqual(kubeconfig.users[0]!.user.exec.args, [
      "eks",
      "get-token",
      "--cluster-name",
      "platform-prod",
      "--region",
      "us-west-2",
      "--output",
      "json",
    ]);
  });

  it("fails clearly when the cluster does not exist", () => {
    assert.ok(
      existingMissing.errors.some((e) => e.includes("reading EKS Cluster (nowhere): couldn't find resource")),
      existingMissing.errors.join("\n"),
    );
  });
});

describe("stacks deployed by earlier versions", () => {
  it("a borrowing and an adopting stack keep the URN their Kubernetes provider had under a Cluster component", () => {
    // urn:pulumi:<stack>::<project>::<parent type>$<type>::<name>: pulumi/pulumi sdk/go/common/resource/urn (the URN type).
    for (const [run, stack] of [
      [alice, "alice"],
      [existing, "platform"],
    ] as const) {
      const provider = oneOfType(run, "pulumi:providers:kubernetes");
      const former = `urn:pulumi:${stack}::sqs-eks-consumer::sqs-eks-consumer:cluster:Cluster$pulumi:providers:kubernetes::cluster-k8s`;
      assert.ok(
        [provider.urn, ...provider.aliases].includes(former),
        `${stack}: ${provider.urn}, aliases ${provider.aliases.join(", ")}`,
      );
    }
  });
});

describe("a bad configuration", () => {
  it("fails before any resource is registered, naming every bad key", () => {
    const resources: RecordedResource[] = badConfig.resources.filter((r) => r.type !== "pulumi:pulumi:Stack");
    assert.deepEqual(resources, []);
    assert.equal(badConfig.errors.length, 1, badConfig.errors.join("\n"));
    const message = badConfig.errors[0]!;
    for (const key of [
      "sqs-eks-consumer:clusterStack: required",
      "sqs-eks-consumer:nodeInstanceType: applies only when clusterMode is create",
      "sqs-eks-consumer:replicas: must be a whole number",
      "sqs-eks-consumer:consumer.waitTimeSeconds: must be between 0 and 20",
      "sqs-eks-consumer:consumer.shutdownBudgetSecond: unknown setting",
    ]) {
      assert.ok(message.includes(key), `the error should say "${key}": ${message}`);
    }
  });
});
