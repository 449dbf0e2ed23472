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
const FIX = "let the workload get short-lived credentials from its IRSA or Pod Identity role";

describe("no-static-aws-credentials", () => {
  it("passes the program's Secret and Deployment (queue URL and region only), and every good resource", async () => {
    for (const good of goodStack())
      assert.deepEqual(await resourceViolations(noStaticAwsCredentials, good), [], good.name);
  });

  it("rejects credential env vars, by value or from a secret, and values that look like access keys, once per entry", async () => {
    const deployment = edit(goodResources().deployment, {
      [`${P}.containers.0.env`]: [
        { name: "AWS_ACCESS_KEY_ID", value: EXAMPLE_KEY_ID },
        { name: "aws_secret_access_key", valueFrom: { secretKeyRef: { name: "keys", key: "secret" } } },
        { name: "UPSTREAM_TOKEN", value: `prefix-${EXAMPLE_KEY_ID}` },
        { name: "AWS_REGION", value: "eu-west-1" },
      ],
    });
    assert.deepEqual(await resourceViolations(noStaticAwsCredentials, deployment), [
      `Deployment "consumer": ${C}.env[0] is named "AWS_ACCESS_KEY_ID", a static AWS credential; remove it and ${FIX}.`,
      `Deployment "consumer": ${C}.env[1] is named "aws_secret_access_key", a static AWS credential; remove it and ${FIX}.`,
      `Deployment "consumer": ${C}.env[2].value holds what looks like an AWS access key ID; remove it and ${FIX}.`,
    ]);
  });

  it("finds credentials wherever they hide: init and ephemeral containers, secretKeyRef keys, args, annotations, CronJob templates, JSON and base64 inside strings", async () => {
    const cronJob = resource("kubernetes:batch/v1beta1:CronJob", "nightly", {
      metadata: {
        annotations: {
          "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify({ env: { AWS_SESSION_TOKEN: "t" } }),
        },
      },
      spec: {
        jobTemplate: {
          spec: {
            template: {
              spec: {
                initContainers: [
                  {
                    name: "fetch",
                    env: [{ name: "KEY", valueFrom: { secretKeyRef: { name: "keys", key: "aws-secret-access-key" } } }],
                  },
                ],
                containers: [{ name: "run", args: ["sync", "--aws-secret-access-key", "abc"] }],
                ephemeralContainers: [
                  { name: "debug", command: ["sh", "-c", `export AWS_ACCESS_KEY_ID=${EXAMPLE_KEY_ID}`] },
                ],
              },
            },
          },
        },
      },
    });
    assert.deepEqual(await resourceViolations(noStaticAwsCredentials, cronJob), [
      `CronJob "nightly": metadata.annotations.kubectl.kubernetes.io/last-applied-configuration holds an AWS credential assignment (a credentials file, env file or flag); remove it and ${FIX}.`,
      `CronJob "nightly": spec.jobTemplate.spec.template.spec.initContainers[0].env[0].valueFrom.secretKeyRef is named "aws-secret-access-key", a static AWS credential; remove it and ${FIX}.`,
      `CronJob "nightly": spec.jobTemplate.spec.template.spec.containers[0].args[1] holds an AWS credential assignment (a credentials file, env file or flag); remove it and ${FIX}.`,
      `CronJob "nightly": spec.jobTemplate.spec.template.spec.ephemeralContainers[0].command[2] holds what looks like an AWS access key ID; remove it and ${FIX}.`,
    ]);
  });

  it("rejects credentials in Secret data (base64), stringData, ConfigMap binaryData, Helm values and IAM access keys, without echoing them", async () => {
    const secret = edit(goodResources().secret, {
      data: {
        credentials: Buffer.from(`[default]\naws_access_key_id = x\naws_secret_access_key = y\n`).toString("base64"),
      },
      "stringData.AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    });
    const found = await resourceViolations(noStaticAwsCredentials, secret);
    assert.deepEqual(found, [
      `Secret "consumer-queue": stringData.AWS_SECRET_ACCESS_KEY is a static AWS credential; remove it and ${FIX}.`,
      `Secret "consumer-queue": data.credentials (base64) holds an AWS credential assignment (a credentials file, env file or flag); remove it and ${FIX}.`,
    ]);
    assert.ok(!found.join(" ").includes("EXAMPLEKEY"));
    const configMap = resource(K8S.configMap, "settings", {
      binaryData: { upstream: Buffer.from(`id=${EXAMPLE_KEY_ID}`).toString("base64") },
    });
    assert.deepEqual(await resourceViolations(noStaticAwsCredentials, configMap), [
      `ConfigMap "settings": binaryData.upstream (base64) holds what looks like an AWS access key ID; remove it and ${FIX}.`,
    ]);
    const chart = resource("kubernetes:helm.sh/v3:Release", "keda", { values: { aws: { secretAccessKey: "x" } } });
    assert.deepEqual(await resourceViolations(noStaticAwsCredentials, chart), [
      `Release "keda": values.aws.secretAccessKey is a static AWS credential; remove it and ${FIX}.`,
    ]);
    const accessKey = resource("aws:iam/accessKey:AccessKey", "ci", { user: "ci" });
    assert.deepEqual(await resourceViolations(noStaticAwsCredentials, accessKey), [
      `AccessKey "ci" creates a long-lived IAM access key; delete it and ${FIX}.`,
    ]);
  });
});

describe("no-static-aws-credentials: Prometheus Operator key pairs", () => {
  it("rejects sigv4 and ec2SDConfigs access and secret keys, and passes sigv4 with a role", async () => {
    const alertmanager = resource("kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig", "sns", {
      spec: {
        receivers: [
          {
            name: "sns",
            snsConfigs: [{ sigv4: { accessKey: { name: "a", key: "id" }, secretKey: { name: "a", key: "s" } } }],
          },
        ],
      },
    });
    assert.equal((await resourceViolations(noStaticAwsCredentials, alertmanager)).length, 2);
    const scrape = resource("kubernetes:monitoring.coreos.com/v1alpha1:ScrapeConfig", "ec2", {
      spec: { ec2SDConfigs: [{ region: "us-west-2", accessKey: { name: "a", key: "id" } }] },
    });
    assert.equal((await resourceViolations(noStaticAwsCredentials, scrape)).length, 1);
    const role = resource("kubernetes:monitoring.coreos.com/v1:Prometheus", "amp", {
      spec: {
        remoteWrite: [{ url: "https://example", sigv4: { region: "us-west-2", roleArn: "arn:aws:iam::1:role/r" } }],
      },
    });
    assert.deepEqual(await resourceViolations(noStaticAwsCredentials, role), []);
  });
});

describe("namespace-enforces-restricted", () => {
  it("passes a namespace labelled enforce=restricted", async () => {
    assert.deepEqual(await resourceViolations(namespaceEnforcesRestricted, goodResources().namespace), []);
  });

  it("rejects a namespace enforcing less, or nothing", async () => {
    const baseline = edit(goodResources().namespace, {
      "metadata.labels": { "pod-security.kubernetes.io/enforce": "baseline" },
    });
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
    assert.deepEqual(
      await stackViolations(pdbForReplicatedDeployments, Object.values({ ...good, pdb: elsewhere })),
      expected,
    );
  });

  it("ignores single-replica Deployments, below the configured threshold", async () => {
    const good = goodResources();
    const { pdb: _pdb, ...withoutPdb } = good;
    assert.deepEqual(
      await stackViolations(pdbForReplicatedDeployments, Object.values(withoutPdb), { minReplicas: 3 }),
      [],
    );
    const single = edit(good.deployment, { "spec.replicas": undefined });
    assert.deepEqual(
      await stackViolations(pdbForReplicatedDeployments, Object.values({ ...withoutPdb, deployment: single })),
      [],
    );
  });

  it("matches label selectors as Kubernetes does", () => {
    const labels = { app: "consumer", tier: "worker" };
    assert.equal(selects({ matchLabels: { app: "consumer" } }, labels), true);
    assert.equal(selects({ matchLabels: { app: "other" } }, labels), false);
    assert.equal(selects({ matchExpressions: [{ key: "tier", operator: "In", values: ["worker"] }] }, labels), true);
    assert.equal(
      selects({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["worker"] }] }, labels),
      false,
    );
    assert.equal(selects({ matchExpressions: [{ key: "zone", operator: "DoesNotExist" }] }, labels), true);
    assert.equal(selects({ matchExpressions: [{ key: "zone", operator: "Exists" }] }, labels), false);
    assert.equal(selects({}, labels), true);
  });
});
