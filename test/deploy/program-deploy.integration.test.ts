/**
 * What a first real deployment needs of the program, recorded under mocks: the CI roles get their cluster
 * access from the stack's config, and the identity running pulumi is checked for access at preview in every
 * cluster mode; the Kubernetes provider keeps unreachable objects in state unless an operator says the
 * cluster is gone; the add-ons are pinned or kept at their first version, with pulumi-eks's own newest-version
 * look-ups turned off (judged by the transcription of pulumi-eks's source, ci/permissions/components.ts); the
 * KEDA chart comes from the account's immutable mirror, checked at preview; every role carries the boundary.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { COMPONENT_RULES } from "../../ci/permissions";
import { kedaChartMirror } from "../../infra/keda";
import { ACCOUNT_ID, MOCK_DEFAULT_ADDON_VERSION, type ExistingCluster, type ProgramRun } from "../helpers/mocks";
import {
  ORGANIZATION,
  borrowing,
  named,
  ofType,
  oneOfType,
  runProgram,
  runPrograms,
  scenario,
} from "../helpers/program";
import { BOUNDARY, CI_DEPLOY_ROLE, CI_PREVIEW_ROLE } from "./matrix";

const DEPLOY_SESSION = `arn:aws:sts::${ACCOUNT_ID}:assumed-role/ci-sqs-eks-consumer-deploy/github`;
const STRANGER_SESSION = `arn:aws:sts::${ACCOUNT_ID}:assumed-role/someone/laptop`;
const PROD_VALUES = {
  nodeProvisioning: "node-group",
  ciDeployRoleArn: CI_DEPLOY_ROLE,
  ciPreviewRoleArn: CI_PREVIEW_ROLE,
  kubeProxyAddonVersion: "v1.34.1-eksbuild.2",
  rolePermissionsBoundary: BOUNDARY,
};
const cluster = (extra: Partial<ExistingCluster>): ExistingCluster => ({
  endpoint: "https://PROD.gr7.us-west-2.eks.amazonaws.com",
  certificateAuthorityData: "LS0tLS1CRUdJTi1DRVJUSUZJQ0FURS0tLS0t",
  oidcIssuerUrl: "https://oidc.eks.us-west-2.amazonaws.com/id/PROD0123456789ABCDEF0123456789AB",
  oidcProviderArn: `arn:aws:iam::${ACCOUNT_ID}:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/PROD0123456789ABCDEF0123456789AB`,
  nodeGroups: [{ name: "general", amiType: "AL2023_x86_64_STANDARD", instanceTypes: ["m7i.large"] }],
  ...extra,
});

let created: ProgramRun;
let updatedByDeploy: ProgramRun;
let updatedByStranger: ProgramRun;
let creatorListed: ProgramRun;
let adoptedWithoutEntry: ProgramRun;
let adoptedThroughConfigMap: ProgramRun;
let mirrorMissing: ProgramRun;
let mirrorMutable: ProgramRun;
let mirrorWithoutVersion: ProgramRun;
let borrowedWithoutEntry: ProgramRun;
let borrowedWithEntry: ProgramRun;
let goneCluster: ProgramRun;

before(async () => {
  const adopt = { clusterMode: "adopt", clusterName: "platform-prod" };
  [
    created,
    updatedByDeploy,
    updatedByStranger,
    creatorListed,
    adoptedWithoutEntry,
    adoptedThroughConfigMap,
    mirrorMissing,
    mirrorMutable,
    mirrorWithoutVersion,
  ] = (await runPrograms([
    await scenario("prod", PROD_VALUES),
    await scenario("prod", PROD_VALUES, {
      existingClusters: { "sqs-eks-consumer-prod": cluster({ accessEntries: [CI_DEPLOY_ROLE] }) },
      callerArn: DEPLOY_SESSION,
    }),
    await scenario("prod", PROD_VALUES, {
      existingClusters: { "sqs-eks-consumer-prod": cluster({ accessEntries: [CI_DEPLOY_ROLE] }) },
      callerArn: STRANGER_SESSION,
    }),
    await scenario("prod", { ...PROD_VALUES, ciDeployRoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/deployer` }),
    await scenario("platform", adopt, { existingClusters: { "platform-prod": cluster({ accessEntries: [] }) } }),
    await scenario("platform", adopt, {
      existingClusters: { "platform-prod": cluster({ accessEntries: [], authenticationMode: "API_AND_CONFIG_MAP" }) },
    }),
    await scenario("prod", PROD_VALUES, { chartMirror: "missing" }),
    await scenario("prod", PROD_VALUES, { chartMirror: { imageTagMutability: "MUTABLE", tags: ["2.20.2"] } }),
    await scenario("prod", PROD_VALUES, { chartMirror: { imageTagMutability: "IMMUTABLE", tags: ["2.19.0"] } }),
  ])) as [ProgramRun, ProgramRun, ProgramRun, ProgramRun, ProgramRun, ProgramRun, ProgramRun, ProgramRun, ProgramRun];

  const shared = await runProgram(
    await scenario("shared", { developers: ["alice=arn:aws:iam::123456789012:role/alice"] }),
  );
  const borrow = { clusterMode: "borrow", ephemeral: true, clusterStack: `${ORGANIZATION}/sqs-eks-consumer/shared` };
  /** Borrowing the shared cluster as `caller`, on a cluster whose access entries are `entries`. */
  const asCaller = (caller: string, entries: string[]) => {
    const found = borrowing(shared, caller);
    const [[name, existing]] = Object.entries(found.existingClusters!) as [[string, ExistingCluster]];
    return { ...found, existingClusters: { [name]: { ...existing, accessEntries: entries } } };
  };
  [borrowedWithoutEntry, borrowedWithEntry] = (await runPrograms([
    await scenario("alice", borrow, asCaller(STRANGER_SESSION, [])),
    await scenario(
      "alice",
      borrow,
      asCaller(`arn:aws:sts::${ACCOUNT_ID}:assumed-role/alice/laptop`, ["arn:aws:iam::123456789012:role/alice"]),
    ),
  ])) as [ProgramRun, ProgramRun];

  // An operator who knows the cluster is gone sets the provider's variable for one command.
  process.env.PULUMI_K8S_DELETE_UNREACHABLE = "true";
  try {
    goneCluster = await runProgram(
      await scenario(
        "alice",
        borrow,
        asCaller(`arn:aws:sts::${ACCOUNT_ID}:assumed-role/alice/laptop`, ["arn:aws:iam::123456789012:role/alice"]),
      ),
    );
  } finally {
    delete process.env.PULUMI_K8S_DELETE_UNREACHABLE;
  }
});

describe("Kubernetes access for the identities that run pulumi", () => {
  it("gives the CI deploy role cluster admin and the CI preview role view, through entries of the stack", () => {
    const entries = oneOfType(created, "eks:index:Cluster").inputs.accessEntries as Record<
      string,
      { principalArn: string; accessPolicies: Record<string, { policyArn: string; accessScope: { type: string } }> }
    >;
    const byPrincipal = new Map(
      Object.values(entries).map((entry) => [entry.principalArn, Object.values(entry.accessPolicies)]),
    );
    assert.deepEqual(byPrincipal.get(CI_DEPLOY_ROLE), [
      {
        policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
        accessScope: { type: "cluster" },
      },
    ]);
    assert.deepEqual(byPrincipal.get(CI_PREVIEW_ROLE), [
      { policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy", accessScope: { type: "cluster" } },
    ]);
  });

  it("lets the deploy role update the existing cluster it has an entry on", () => {
    assert.deepEqual(updatedByDeploy.errors, []);
    assert.ok(
      updatedByDeploy.invokes.some(
        (call) => call.token === "aws:eks/getAccessEntry:getAccessEntry" && call.inputs.principalArn === CI_DEPLOY_ROLE,
      ),
    );
  });

  it("fails the preview of an existing cluster for an identity without an entry, naming it and the keys that give one", () => {
    const error = updatedByStranger.errors.join("\n");
    assert.match(
      error,
      /arn:aws:iam::123456789012:role\/someone, the identity running pulumi, has no access entry on EKS cluster sqs-eks-consumer-prod/,
    );
    assert.match(error, /ciDeployRoleArn.*ciPreviewRoleArn.*clusterAdminPrincipalArns/);
  });

  it("refuses to list the identity creating the cluster, which EKS makes admin itself", () => {
    assert.match(creatorListed.errors.join("\n"), /deployer is the identity creating the cluster.*ciDeployRoleArn/);
  });

  it("checks a borrowed cluster for the developer's entry, naming the platform stack's developers", () => {
    assert.match(
      borrowedWithoutEntry.errors.join("\n"),
      /has no access entry on EKS cluster sqs-eks-consumer-shared.*adds "<person>=<this IAM role or user ARN>" to its developers/,
    );
    assert.deepEqual(borrowedWithEntry.errors, []);
  });

  it("checks an adopted cluster under API authentication, and only warns where the aws-auth ConfigMap may grant access", () => {
    assert.match(
      adoptedWithoutEntry.errors.join("\n"),
      /no access entry on EKS cluster platform-prod, .*: the administrators of platform-prod give it an access entry/,
    );
    assert.deepEqual(adoptedThroughConfigMap.errors, []);
    assert.ok(adoptedThroughConfigMap.warnings?.some((warning) => warning.includes("aws-auth ConfigMap")));
  });
});

describe("state that survives an unreachable cluster", () => {
  it("never sets deleteUnreachable on the Kubernetes provider, in any cluster mode", () => {
    for (const run of [created, borrowedWithEntry, adoptedThroughConfigMap]) {
      const provider = oneOfType(run, "pulumi:providers:kubernetes");
      assert.equal(provider.inputs.deleteUnreachable, undefined, JSON.stringify(provider.inputs));
    }
  });

  it("lets an operator forget a gone cluster's objects for one command, with PULUMI_K8S_DELETE_UNREACHABLE", () => {
    assert.equal(oneOfType(goneCluster, "pulumi:providers:kubernetes").inputs.deleteUnreachable, "true");
  });
});

describe("add-ons that an unrelated pulumi up does not upgrade", () => {
  it("manages vpc-cni, kube-proxy and coredns itself, after the nodes: pinned, or EKS's default at creation and then kept", () => {
    const addons = new Map(ofType(created, "aws:eks/addon:Addon").map((addon) => [addon.inputs.addonName, addon]));
    const nodes = named(created, "cluster-nodes");
    for (const name of ["vpc-cni", "kube-proxy", "coredns"]) {
      const addon = addons.get(name);
      assert.ok(addon, name);
      assert.ok(addon.dependencies.includes(nodes.urn), `${name} waits for the nodes`);
      assert.equal(addon.inputs.resolveConflictsOnCreate, "OVERWRITE", `${name} takes over the self-managed one`);
    }
    assert.equal(addons.get("kube-proxy")!.inputs.addonVersion, "v1.34.1-eksbuild.2");
    assert.deepEqual(addons.get("kube-proxy")!.ignoreChanges, []);
    for (const name of ["vpc-cni", "coredns"]) {
      assert.equal(addons.get(name)!.inputs.addonVersion, MOCK_DEFAULT_ADDON_VERSION);
      assert.deepEqual(addons.get(name)!.ignoreChanges, ["addonVersion"], `${name} keeps its first version`);
    }
    const lookups = created.invokes.filter((call) => call.token === "aws:eks/getAddonVersion:getAddonVersion");
    assert.deepEqual(lookups.map((call) => [call.inputs.addonName, call.inputs.mostRecent]).sort(), [
      ["coredns", false],
      ["vpc-cni", false],
    ]);
  });

  it("leaves pulumi-eks no add-on of its own, and so none of its newest-version look-ups", () => {
    const component = oneOfType(created, "eks:index:Cluster");
    const expansion = COMPONENT_RULES["eks:index:Cluster"]!.expand(
      { type: component.type, name: component.name, inputs: component.inputs, state: component.state },
      { account: ACCOUNT_ID, region: "us-west-2", partition: "aws" },
      created.resources.map((r) => ({ type: r.type, name: r.name, inputs: r.inputs, state: r.state })),
    );
    assert.deepEqual(
      expansion.resources.filter((r) => r.type === "aws:eks/addon:Addon"),
      [],
    );
    assert.deepEqual(
      expansion.invokes.filter((call) => call.token === "aws:eks/getAddonVersion:getAddonVersion"),
      [],
    );
  });
});

describe("the KEDA chart from the account's mirror", () => {
  const fix = /npm run keda-chart:mirror -- --region us-west-2/;
  it("fails the preview when the mirror is missing, has mutable tags, or lacks the version, naming the mirror command", () => {
    assert.match(
      mirrorMissing.errors.join("\n"),
      new RegExp(`ECR repository ${kedaChartMirror("sqs-eks-consumer")}, does not exist`),
    );
    assert.match(mirrorMutable.errors.join("\n"), /has MUTABLE tags, so chart 2\.20\.2 could change content/);
    assert.match(mirrorWithoutVersion.errors.join("\n"), /holds no chart 2\.20\.2/);
    for (const run of [mirrorMissing, mirrorMutable, mirrorWithoutVersion]) assert.match(run.errors.join("\n"), fix);
  });
});

describe("the permissions boundary", () => {
  it("is on every role the stack creates: the cluster's, the nodes', the consumer's, KEDA's operator's", () => {
    const roles = ofType(created, "aws:iam/role:Role");
    assert.ok(roles.length >= 4);
    for (const role of roles) assert.equal(role.inputs.permissionsBoundary, BOUNDARY, role.name);
    for (const role of ofType(borrowedWithEntry, "aws:iam/role:Role"))
      assert.equal(role.inputs.permissionsBoundary, undefined, role.name);
  });
});
