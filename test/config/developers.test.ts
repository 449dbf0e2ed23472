/**
 * Who may run developer stacks on a created cluster (infra/config/developers.ts), each such stack's quota,
 * and whether the nodes hold every listed developer's share (infra/config/cross-checks.ts, with the max-pods
 * data of infra/config/instance-types.ts), checked at preview.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { instanceCapacity, nodeAllocatable } from "../../infra/config/instance-types";
import { stackFileValues } from "../helpers/program";
import { k, parse, problems, valid } from "./helpers";

const ALICE = "arn:aws:iam::123456789012:role/alice";
const ADMIN = "arn:aws:iam::123456789012:role/platform";
const SHARED =
  "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Developer_0123456789abcdef";

describe("parseStackConfig: developers", () => {
  it("reads people with a principal of their own, and people who share a role by session name", () => {
    const config = valid({
      [k("clusterAdminPrincipalArns")]: JSON.stringify([ADMIN]),
      [k("developers")]: JSON.stringify([
        ` alice=${ALICE} `,
        `bob=${SHARED} session=bob@example.com`,
        `carol=${SHARED} session=carol@example.com`,
        "dave=arn:aws:iam::123456789012:user/dave",
      ]),
    });
    assert.ok(config.cluster.mode === "create");
    assert.deepEqual(config.cluster.developers, [
      { person: "alice", principalArn: ALICE, sessionName: undefined },
      { person: "bob", principalArn: SHARED, sessionName: "bob@example.com" },
      { person: "carol", principalArn: SHARED, sessionName: "carol@example.com" },
      { person: "dave", principalArn: "arn:aws:iam::123456789012:user/dave", sessionName: undefined },
    ]);
  });

  it("rejects every bad entry in one problem, naming each", () => {
    const reason = problems({
      [k("clusterAdminPrincipalArns")]: JSON.stringify([ADMIN]),
      [k("developers")]: JSON.stringify([
        "alice",
        `Alice-2=${ALICE}`,
        `bob=${SHARED} session=bob@example.com`,
        `bob=${ALICE}`,
        `carol=${ADMIN}`,
        "dan=arn:aws:sts::123456789012:assumed-role/x/y",
        "erin=arn:aws:iam::123456789012:user/erin session=erin",
        `frank=${SHARED}`,
        `gina=${SHARED} session=bob@example.com`,
        "dev=arn:aws:iam::123456789012:role/dev",
      ]),
    }).get(k("developers"))!;
    assert.match(reason, /"alice" is not <person>=<IAM role or user ARN>/);
    assert.match(
      reason,
      /"Alice-2" is not a person name: lower-case letters and digits, starting with a letter, up to 20, no hyphen/,
    );
    assert.match(reason, /"bob" is listed twice/);
    assert.match(reason, /role\/platform \(for "carol"\) is in clusterAdminPrincipalArns/);
    assert.match(reason, /"dan=arn:aws:sts::123456789012:assumed-role\/x\/y" is not/);
    assert.match(reason, /user\/erin \(for "erin"\) is a user; only a role has sessions/);
    assert.match(
      reason,
      /is listed for "frank" and for "bob"; a shared role needs session=<session name> on every entry/,
    );
    assert.match(
      reason,
      /"gina" and "bob" have the same session name on .*AWSReservedSSO.*, so they would be one Kubernetes user/,
    );
    assert.match(reason, /"dev" would own this stack's own namespace sqs-eks-consumer-dev; choose another person name/);
  });

  it("keeps apart session names that differ only in @ and -, which become different Kubernetes users", () => {
    const config = valid({
      [k("developers")]: JSON.stringify([
        `bob=${SHARED} session=bob@example.com`,
        `hank=${SHARED} session=bob-example.com`,
      ]),
    });
    assert.ok(config.cluster.mode === "create");
    assert.deepEqual(
      config.cluster.developers.map((d) => d.person),
      ["bob", "hank"],
    );
  });

  it("takes the cleanup job's role, and refuses one that is an admin, a developer's, or not a role", () => {
    const cleanup = "arn:aws:iam::123456789012:role/ci-sqs-eks-consumer-cleanup";
    const config = valid({
      [k("developers")]: JSON.stringify([`alice=${ALICE}`]),
      [k("developerCleanupPrincipalArn")]: cleanup,
    });
    assert.ok(config.cluster.mode === "create");
    assert.equal(config.cluster.developerCleanupPrincipalArn, cleanup);
    for (const [arn, reason] of [
      [ADMIN, /is in clusterAdminPrincipalArns; the cleanup job needs its own, narrower access entry/],
      [ALICE, /is a developer's principal/],
      ["arn:aws:iam::123456789012:user/cleanup", /is not an IAM role ARN/],
    ] as const) {
      const found = problems({
        [k("clusterAdminPrincipalArns")]: JSON.stringify([ADMIN]),
        [k("developers")]: JSON.stringify([`alice=${ALICE}`]),
        [k("developerCleanupPrincipalArn")]: arn,
      }).get(k("developerCleanupPrincipalArn"));
      assert.match(found ?? "", reason);
    }
  });

  it("tells a stack file that still sets developerStacks what replaced it", () => {
    assert.match(
      problems({ [k("developerStacks")]: JSON.stringify([`alice=${ALICE}`]) }).get(k("developerStacks"))!,
      /^replaced by developers, which lists people \(<person>=<IAM role or user ARN>\), not stacks: developer stacks now make their own namespaces/,
    );
  });

  it("reads each developer stack's quota", () => {
    const config = valid({
      [k("developerPods")]: "6",
      [k("developerCpuMillicores")]: "750",
      [k("developerMemoryMiB")]: "1536",
    });
    assert.ok(config.cluster.mode === "create");
    assert.deepEqual(config.cluster.developerQuota, { pods: 6, cpuMillicores: 750, memoryMiB: 1536 });
  });
});

describe("node capacity for the listed developers, at preview", () => {
  const people = (n: number) =>
    JSON.stringify(Array.from({ length: n }, (_, i) => `p${i}=arn:aws:iam::123456789012:role/p${i}`));

  it("takes max pods per instance type from the published data, and allocatable from the EKS AMI's reservations", () => {
    assert.deepEqual(instanceCapacity("t3.small"), { maxPods: 11, vcpus: 2, memoryMiB: 2048 });
    assert.deepEqual(instanceCapacity("t3a.small"), { maxPods: 8, vcpus: 2, memoryMiB: 2048 });
    assert.deepEqual(instanceCapacity("m7g.large"), { maxPods: 29, vcpus: 2, memoryMiB: 8192 });
    assert.equal(instanceCapacity("m5.metal"), undefined);
    // t3.medium: 2000m less 60m (6% of the first core) and 10m (1% of the second); 4096 MiB less 11 x 17 + 255
    // MiB kube-reserved and 100 MiB eviction.
    assert.deepEqual(nodeAllocatable(instanceCapacity("t3.medium")!), { cpuMillicores: 1930, memoryMiB: 3554 });
  });

  it("refuses the former dev node, one t3.small, for even one developer, naming what falls short", () => {
    const reason = problems({
      [k("nodeProvisioning")]: "node-group",
      [k("nodeInstanceType")]: "t3.small",
      [k("nodeDesiredCount")]: "1",
      [k("replicas")]: "1",
      [k("developers")]: people(1),
    }).get(k("developers"))!;
    assert.match(
      reason,
      /^1 x t3\.small hold 9 pods, \d+m CPU, \d+ MiB for pods; the cluster needs 11 pods, .*1 developer x \(4 pods, 500m, 1024 MiB\)\. Short of pods and/,
    );
  });

  it("the committed dev stack holds five developers at the default quota, and refuses a sixth", async () => {
    const dev = Object.fromEntries(
      Object.entries(await stackFileValues("dev")).map(([key, value]) => [
        key,
        typeof value === "object" ? JSON.stringify(value) : String(value),
      ]),
    );
    const five = parse({ ...dev, [k("developers")]: people(5) });
    assert.ok(five.ok, five.ok ? "" : JSON.stringify(five.problems));
    assert.match(problems({ ...dev, [k("developers")]: people(6) }).get(k("developers"))!, /6 developers x/);
  });

  it("counts the Pod Identity agent's pod on every node in pod-identity mode", () => {
    const values = {
      [k("nodeProvisioning")]: "node-group",
      [k("nodeInstanceType")]: "t3.medium",
      [k("nodeDesiredCount")]: "1",
      [k("replicas")]: "1",
      [k("developers")]: people(2),
      [k("developerPods")]: "4",
    };
    // 17 - 2 = 15 pods for pods: 5 system + 2 consumer + 8 developers fits; one more agent pod does not.
    assert.ok(parse(values).ok);
    assert.match(problems({ ...values, [k("identity")]: "pod-identity" }).get(k("developers"))!, /hold 14 pods/);
  });

  it("warns that it cannot check an instance type the table does not list", () => {
    const result = parse({ [k("nodeProvisioning")]: "node-group", [k("nodeInstanceType")]: "m5.metal" });
    assert.ok(result.ok);
    assert.ok(result.warnings.some((w) => w.key === k("nodeInstanceType") && w.message.includes("not checked")));
  });

  it("under EKS Auto Mode checks no node capacity: nodes are launched for the developers' pods", () => {
    assert.ok(parse({ [k("developers")]: people(20) }).ok);
  });
});
