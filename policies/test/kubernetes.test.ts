import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { K8S } from "../lib/types";
import {
  containerResourcesSet,
  namespaceEnforcesRestricted,
  noStaticAwsCredentials,
  pdbForReplicatedDeployments,
  selects,
} from "../rules/kubernetes";
import { edit, resourceViolations, stackViolations } from "./harness";
import { goodResources, goodStack, resource } from "./fixtures/good-stack";

// AWS's documented example key ID, split so that secret scanners do not flag this file.
const EXAMPLE_KEY_ID = ["AKIA", "IOSFODNN7EXAMPLE"].join("");
const P = "spec.template.spec";
const C = `${P}.containers[0]`;
const CONTAINER = `Deployment "consumer" container "consumer"`;
const IRSA = "let the pod get short-lived credentials from its IRSA service account";

describe("no-static-aws-credentials", () => {
  it("passes the program's Secret and Deployment (queue URL and region only)", async () => {
    const { secret, deployment } = goodResources();
    assert.deepEqual(await resourceViolations(noStaticAwsCredentials, secret), []);
    assert.deepEqual(await resourceViolations(noStaticAwsCredentials, deployment), []);
  });

  it("rejects credential env vars, by value or from a secret, and values that look like access keys", async () => {
    const deployment = edit(goodResources().deployment, {
      [`${P}.containers.0.env`]: [
        { name: "AWS_ACCESS_KEY_ID", value: EXAMPLE_KEY_ID },
        { name: "aws_secret_access_key", valueFrom: { secretKeyRef: { name: "keys", key: "secret" } } },
        { name: "UPSTREAM_TOKEN", value: `prefix-${EXAMPLE_KEY_ID}` },
        { name: "AWS_REGION", value: "eu-west-1" },
      ],
    });
    assert.deepEqual(await resourceViolations(noStaticAwsCredentials, deployment), [
      `${CONTAINER}: env "AWS_ACCESS_KEY_ID" (${C}.env[0]) is a static AWS credential; remove it and ${IRSA}.`,
      `${CONTAINER}: env "aws_secret_access_key" (${C}.env[1]) is a static AWS credential; remove it and ${IRSA}.`,
      `${CONTAINER}: env "UPSTREAM_TOKEN" (${C}.env[2]) holds what looks like an AWS access key ID; remove it and ${IRSA}.`,
    ]);
  });

  it("rejects credentials in Secret data (base64) and stringData, and in ConfigMaps, without echoing them", async () => {
    const secret = edit(goodResources().secret, {
      data: { credentials: Buffer.from(`[default]\naws_access_key_id = x\naws_secret_access_key = y\n`).toString("base64") },
      "stringData.AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      "stringData.AWS_SESSION_TOKEN": "token",
    });
    const found = await resourceViolations(noStaticAwsCredentials, secret);
    assert.deepEqual(found, [
      `Secret "consumer-queue": data key "credentials" holds an AWS credentials file; delete it and ${IRSA}.`,
      `Secret "consumer-queue": stringData key "AWS_SECRET_ACCESS_KEY" is a static AWS credential; delete it and ${IRSA}.`,
      `Secret "consumer-queue": stringData key "AWS_SESSION_TOKEN" is a static AWS credential; delete it and ${IRSA}.`,
    ]);
    const configMap = resource(K8S.configMap, "settings", { data: { upstream: EXAMPLE_KEY_ID } });
    assert.deepEqual(await resourceViolations(noStaticAwsCredentials, configMap), [
      `ConfigMap "settings": data key "upstream" holds what looks like an AWS access key ID; delete it and ${IRSA}.`,
    ]);
    assert.ok(!found.join(" ").includes("EXAMPLEKEY"));
  });
});

describe("namespace-enforces-restricted", () => {
  it("passes a namespace labelled enforce=restricted", async () => {
    assert.deepEqual(await resourceViolations(namespaceEnforcesRestricted, goodResources().namespace), []);
  });

  it("rejects a namespace enforcing less, or nothing", async () => {
    const baseline = edit(goodResources().namespace, { "metadata.labels": { "pod-security.kubernetes.io/enforce": "baseline" } });
    assert.deepEqual(await resourceViolations(namespaceEnforcesRestricted, baseline), [
      `Namespace "consumer-ns": label pod-security.kubernetes.io/enforce is "baseline"; set it to "restricted" so the API server rejects pods that break the profile.`,
    ]);
    const unlabelled = edit(goodResources().namespace, { "metadata.labels": undefined });
    assert.deepEqual(await resourceViolations(namespaceEnforcesRestricted, unlabelled), [
      `Namespace "consumer-ns": label pod-security.kubernetes.io/enforce is not set; set it to "restricted" so the API server rejects pods that break the profile.`,
    ]);
  });
});

describe("container-resources-set", () => {
  it("passes containers with CPU and memory requests and a memory limit", async () => {
    assert.deepEqual(await resourceViolations(containerResourcesSet, goodResources().deployment), []);
  });

  it("reports each missing request and limit", async () => {
    const bare = edit(goodResources().deployment, { [`${P}.containers.0.resources`]: undefined });
    assert.deepEqual(await resourceViolations(containerResourcesSet, bare), [
      `${CONTAINER}: ${C}.resources.requests.cpu is not set; set it so the scheduler reserves room for it.`,
      `${CONTAINER}: ${C}.resources.requests.memory is not set; set it so the scheduler reserves room for it.`,
      `${CONTAINER}: ${C}.resources.limits.memory is not set; set it so one container cannot starve its node.`,
    ]);
  });

  it("follows the configured lists", async () => {
    const config = { requests: ["memory"], limits: ["cpu", "memory"] };
    assert.deepEqual(await resourceViolations(containerResourcesSet, goodResources().deployment, config), [
      `${CONTAINER}: ${C}.resources.limits.cpu is not set; set it so one container cannot starve its node.`,
    ]);
  });
});

describe("pdb-for-replicated-deployments", () => {
  it("passes a multi-replica Deployment with a matching PodDisruptionBudget", async () => {
    assert.deepEqual(await stackViolations(pdbForReplicatedDeployments, goodStack()), []);
  });

  it("reports a multi-replica Deployment without one, or with one in another namespace", async () => {
    const good = goodResources();
    const expected = [
      {
        message: `Deployment "consumer" runs 2 replicas but no PodDisruptionBudget in namespace "consumer-dev" selects its pods; add one (for example maxUnavailable: 1) so node drains keep replicas serving.`,
        urn: good.deployment.urn,
      },
    ];
    const { pdb: _pdb, ...withoutPdb } = good;
    assert.deepEqual(await stackViolations(pdbForReplicatedDeployments, Object.values(withoutPdb)), expected);
    const elsewhere = edit(good.pdb, { "metadata.namespace": "other" });
    assert.deepEqual(await stackViolations(pdbForReplicatedDeployments, Object.values({ ...good, pdb: elsewhere })), expected);
  });

  it("ignores single-replica Deployments, below the configured threshold", async () => {
    const good = goodResources();
    const { pdb: _pdb, ...withoutPdb } = good;
    assert.deepEqual(await stackViolations(pdbForReplicatedDeployments, Object.values(withoutPdb), { minReplicas: 3 }), []);
    const single = edit(good.deployment, { "spec.replicas": undefined });
    assert.deepEqual(await stackViolations(pdbForReplicatedDeployments, Object.values({ ...withoutPdb, deployment: single })), []);
  });

  it("matches label selectors as Kubernetes does", () => {
    const labels = { app: "consumer", tier: "worker" };
    assert.equal(selects({ matchLabels: { app: "consumer" } }, labels), true);
    assert.equal(selects({ matchLabels: { app: "other" } }, labels), false);
    assert.equal(selects({ matchExpressions: [{ key: "tier", operator: "In", values: ["worker"] }] }, labels), true);
    assert.equal(selects({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["worker"] }] }, labels), false);
    assert.equal(selects({ matchExpressions: [{ key: "zone", operator: "DoesNotExist" }] }, labels), true);
    assert.equal(selects({ matchExpressions: [{ key: "zone", operator: "Exists" }] }, labels), false);
    assert.equal(selects({}, labels), true);
  });
});
