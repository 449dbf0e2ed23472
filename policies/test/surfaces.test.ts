/**
 * The rules that judge the surfaces beyond the queue, the consumer's role and its pods: roles from outside
 * the stack, KEDA's credentials, the API endpoint, cluster access, RBAC, admission, exposure to the
 * internet, resource policies, alarm delivery, and the two calls for review. Each suite passes the program's
 * shape and rejects, by effect, what the surface can grant or expose.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { coverage } from "../lib/cidr";
import { isKnownType, renderSurfaceTable, surfaceOf, SURFACES } from "../lib/surfaces";
import { POLICIES } from "../pack";
import { KEDA } from "../rules/autoscaling";
import {
  addressesIn,
  admissionPolicyEnforced,
  clusterAccessScoped,
  clusterEndpointRestricted,
  rbacLeastPrivilege,
  workloadNotInternetFacing,
} from "../rules/cluster-access";
import { packagedObjectsVisible, unknownResourceReviewed } from "../rules/coverage";
import { alarmTopicDeliverable, resourcePolicyNotPublic } from "../rules/resource-policies";
import { kedaTriggerCredentials, workloadRoleInStack } from "../rules/workload-identity";
import { resourceViolations, stackViolations } from "./harness";
import { ACCOUNT, goodStack, NAMESPACE, REGION, resource, roleArn } from "./fixtures/good-stack";

const messages = async (policy: Parameters<typeof stackViolations>[0], extra: ReturnType<typeof resource>[]) =>
  (await stackViolations(policy, [...goodStack(), ...extra])).map((f) => f.message);

const CONSUMER_ROLE = roleArn("consumer-role-4d5e6f7");
const OTHER = "arn:aws:iam::210987654321:role/data-admin";

describe("workload-role-in-stack", () => {
  const sa = (arn: string) =>
    resource("kubernetes:core/v1:ServiceAccount", "consumer-sa-2", {
      metadata: { name: "consumer", namespace: "consumer-dev", annotations: { "eks.amazonaws.com/role-arn": arn } },
    });

  it("passes service accounts, associations and triggers bound to the stack's roles", async () => {
    const association = resource("aws:eks/podIdentityAssociation:PodIdentityAssociation", "pia", {
      roleArn: CONSUMER_ROLE,
    });
    assert.deepEqual(await messages(workloadRoleInStack, [sa(CONSUMER_ROLE), association]), []);
  });

  it("rejects a role the stack does not define, wherever a workload is bound to it", async () => {
    assert.deepEqual(await messages(workloadRoleInStack, [sa(OTHER)]), [
      `ServiceAccount "consumer-sa-2": .metadata.annotations.eks.amazonaws.com/role-arn binds a workload to role ${OTHER} which this stack does not define, so no rule of this pack judges who may assume it or what it allows; create the role in this stack (or list it in externalRoleArns deliberately).`,
    ]);
    const association = resource("aws:eks/podIdentityAssociation:PodIdentityAssociation", "pia", {
      roleArn: CONSUMER_ROLE,
      targetRoleArn: OTHER,
    });
    const trigger = resource(KEDA.triggerAuthentication, "auth", {
      spec: { podIdentity: { provider: "aws", roleArn: OTHER } },
    });
    const addon = resource("aws:eks/addon:Addon", "cni", { serviceAccountRoleArn: OTHER });
    const found = await messages(workloadRoleInStack, [association, trigger, addon]);
    assert.deepEqual(
      found.map((m) => m.split(":")[0]),
      ['PodIdentityAssociation "pia"', 'TriggerAuthentication "auth"', 'Addon "cni"'],
    );
  });

  it("accepts a deliberately listed external role", async () => {
    assert.deepEqual(
      (await stackViolations(workloadRoleInStack, [...goodStack(), sa(OTHER)], { externalRoleArns: [OTHER] })).length,
      0,
    );
  });
});

describe("keda-trigger-credentials", () => {
  const auth = (spec: Record<string, unknown>) =>
    resource(KEDA.triggerAuthentication, "auth", { metadata: { name: "sqs", namespace: "consumer-dev" }, spec });
  const scaled = (trigger: Record<string, unknown>) =>
    resource(KEDA.scaledObject, "scaled", {
      spec: { maxReplicaCount: 5, triggers: [{ type: "aws-sqs-queue", metadata: { queueURL: "q" }, ...trigger }] },
    });

  it("passes a trigger authenticated by a TriggerAuthentication with podIdentity", async () => {
    const found = await messages(kedaTriggerCredentials, [
      auth({ podIdentity: { provider: "aws", roleArn: CONSUMER_ROLE } }),
      scaled({ authenticationRef: { name: "sqs" } }),
    ]);
    assert.deepEqual(found, []);
  });

  it("rejects static keys from a Secret, and triggers that use the workload's credentials", async () => {
    assert.deepEqual(
      await messages(kedaTriggerCredentials, [
        auth({ secretTargetRef: [{ parameter: "awsSecretAccessKey", name: "keys", key: "secret" }] }),
      ]),
      [
        `TriggerAuthentication "auth": spec.secretTargetRef[0] supplies parameter "awsSecretAccessKey", a static AWS credential; use spec.podIdentity (provider aws, roleArn of this stack's scaler role) instead.`,
      ],
    );
    const found = await messages(kedaTriggerCredentials, [
      scaled({ metadata: { queueURL: "q", identityOwner: "pod" } }),
    ]);
    assert.equal(found.length, 2, found.join("\n"));
  });
});

describe("cluster-endpoint-restricted", () => {
  const cluster = (props: Record<string, unknown>) => resource("eks:index:Cluster", "cluster", props);

  it("passes a private endpoint, and a public one limited to an office", async () => {
    assert.deepEqual(await stackViolations(clusterEndpointRestricted, [cluster({ endpointPublicAccess: false })]), []);
    assert.deepEqual(
      await stackViolations(clusterEndpointRestricted, [cluster({ publicAccessCidrs: ["198.51.100.0/24"] })]),
      [],
    );
  });

  it("rejects the internet, however it is spelled, and a public endpoint without CIDRs", async () => {
    for (const publicAccessCidrs of [["0.0.0.0/0"], ["0.0.0.0/1", "128.0.0.0/1"], ["10.0.0.0/8"]]) {
      assert.equal((await stackViolations(clusterEndpointRestricted, [cluster({ publicAccessCidrs })])).length, 1);
    }
    assert.deepEqual(
      (await stackViolations(clusterEndpointRestricted, [cluster({})])).map((f) => f.message),
      [
        `Cluster "cluster": the API endpoint is public and lists no publicAccessCidrs, so EKS admits 0.0.0.0/0; list the CIDRs that need it, or set endpointPublicAccess: false.`,
      ],
    );
    const raw = resource("aws:eks/cluster:Cluster", "raw", { vpcConfig: { endpointPublicAccess: true } });
    assert.equal((await stackViolations(clusterEndpointRestricted, [raw])).length, 1);
    assert.equal(addressesIn("0.0.0.0/0"), 2 ** 32);
  });
});

describe("cluster-access-scoped", () => {
  const policy = (name: string) => `arn:aws:eks::aws:cluster-access-policy/${name}`;
  const cluster = (policyArn: string, accessScope: Record<string, unknown>) =>
    resource("eks:index:Cluster", "cluster", {
      endpointPublicAccess: false,
      accessEntries: { dev: { principalArn: roleArn("alice"), accessPolicies: { edit: { policyArn, accessScope } } } },
    });

  it("passes edit in a developer's own namespace, and cluster-wide admin and view", async () => {
    for (const c of [
      cluster(policy("AmazonEKSEditPolicy"), { type: "namespace", namespaces: ["alice"] }),
      cluster(policy("AmazonEKSClusterAdminPolicy"), { type: "cluster" }),
      cluster(policy("AmazonEKSViewPolicy"), { type: "namespace", namespaces: ["consumer-dev"] }),
    ])
      assert.deepEqual(await messages(clusterAccessScoped, [c]), []);
  });

  it("rejects edit for the whole cluster, in the namespace of a workload's role, or in kube-system", async () => {
    assert.equal(
      (await messages(clusterAccessScoped, [cluster(policy("AmazonEKSEditPolicy"), { type: "cluster" })])).length,
      1,
    );
    for (const namespaces of [["consumer-dev"], ["kube-system"], ["consumer-*"]]) {
      const found = await messages(clusterAccessScoped, [
        cluster(policy("AmazonEKSEditPolicy"), { type: "namespace", namespaces }),
      ]);
      assert.equal(found.length, 1, JSON.stringify(namespaces));
    }
    const masters = resource("aws:eks/accessEntry:AccessEntry", "entry", {
      principalArn: roleArn("x"),
      kubernetesGroups: ["system:masters"],
    });
    assert.equal((await messages(clusterAccessScoped, [masters])).length, 1);
  });
});

describe("rbac-least-privilege", () => {
  const rbac = (kind: string, props: Record<string, unknown>) =>
    resource(`kubernetes:rbac.authorization.k8s.io/v1:${kind}`, kind.toLowerCase(), props);

  it("passes named verbs on named resources, and bind limited by resourceNames", async () => {
    const role = rbac("ClusterRole", {
      rules: [
        { apiGroups: [""], resources: ["namespaces"], verbs: ["get", "create"] },
        {
          apiGroups: ["rbac.authorization.k8s.io"],
          resources: ["clusterroles"],
          verbs: ["bind"],
          resourceNames: ["edit"],
        },
      ],
    });
    const binding = rbac("RoleBinding", {
      roleRef: { kind: "ClusterRole", name: "edit" },
      subjects: [{ kind: "User", name: "alice" }],
    });
    assert.deepEqual(await stackViolations(rbacLeastPrivilege, [role, binding]), []);
  });

  it("rejects wildcards, escalation, cluster-wide Secrets, cluster-admin and everyone-bindings", async () => {
    const role = rbac("ClusterRole", {
      rules: [
        { apiGroups: ["*"], resources: ["*"], verbs: ["*"] },
        { apiGroups: [""], resources: ["secrets"], verbs: ["list"] },
        { apiGroups: [""], resources: ["serviceaccounts/token"], verbs: ["create"] },
      ],
    });
    const binding = rbac("ClusterRoleBinding", {
      roleRef: { kind: "ClusterRole", name: "cluster-admin" },
      subjects: [{ kind: "Group", name: "system:authenticated" }],
    });
    assert.equal((await stackViolations(rbacLeastPrivilege, [role, binding])).length, 5);
  });
});

describe("admission-policy-enforced", () => {
  const vap = resource("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy", "fence", {
    metadata: { name: "fence" },
    spec: { validations: [{ expression: "object.metadata.name.startsWith('team-')" }] },
  });
  const binding = (validationActions: string[]) =>
    resource("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding", "fence-binding", {
      spec: { policyName: "fence", validationActions },
    });

  it("passes a policy bound with Deny", async () => {
    assert.deepEqual(await stackViolations(admissionPolicyEnforced, [vap, binding(["Deny"])]), []);
  });

  it("rejects Warn or Audit only, failurePolicy Ignore, and an unbound policy", async () => {
    assert.deepEqual(
      (await stackViolations(admissionPolicyEnforced, [vap, binding(["Warn", "Audit"])])).map((f) => f.message),
      [
        `ValidatingAdmissionPolicyBinding "fence-binding": spec.validationActions is [Warn, Audit], so violations are only reported; include "Deny".`,
      ],
    );
    const ignoring = {
      ...vap,
      props: { metadata: { name: "fence" }, spec: { ...(vap.props["spec"] as object), failurePolicy: "Ignore" } },
    };
    assert.equal((await stackViolations(admissionPolicyEnforced, [ignoring, binding(["Deny"])])).length, 1);
    assert.equal((await stackViolations(admissionPolicyEnforced, [vap])).length, 1);
  });
});

describe("workload-not-internet-facing", () => {
  const service = (annotations: Record<string, string>, spec: Record<string, unknown>) =>
    resource("kubernetes:core/v1:Service", "svc", { metadata: { annotations }, spec });

  it("passes ClusterIP, internal load balancers and narrow security groups", async () => {
    const found = await stackViolations(workloadNotInternetFacing, [
      service({}, { type: "ClusterIP" }),
      service({ "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal" }, { type: "LoadBalancer" }),
      resource("aws:ec2/securityGroup:SecurityGroup", "sg", {
        ingress: [{ fromPort: 443, toPort: 443, cidrBlocks: ["10.0.0.0/16"] }],
      }),
    ]);
    assert.deepEqual(found, []);
  });

  it("rejects an internet-facing load balancer and ingress open to the internet", async () => {
    const found = await stackViolations(workloadNotInternetFacing, [
      service({}, { type: "LoadBalancer" }),
      resource("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "rule", {
        cidrIpv6: "::/0",
        fromPort: 22,
        toPort: 22,
      }),
    ]);
    assert.equal(found.length, 2);
  });
});

describe("resource-policy-not-public", () => {
  const topicPolicy = (statement: Record<string, unknown>) =>
    resource("aws:sns/topicPolicy:TopicPolicy", "tp", {
      arn: `arn:aws:sns:${REGION}:${ACCOUNT}:alarms`,
      policy: JSON.stringify({ Version: "2012-10-17", Statement: [statement] }),
    });

  it("passes the account's own principals and pinned service principals", async () => {
    assert.deepEqual(
      await messages(resourcePolicyNotPublic, [
        topicPolicy({
          Effect: "Allow",
          Principal: { Service: "cloudwatch.amazonaws.com" },
          Action: "sns:Publish",
          Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } },
        }),
        topicPolicy({ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "sns:Subscribe" }),
      ]),
      [],
    );
  });

  it("rejects everyone, another account, an unpinned service and a grant outside the account", async () => {
    for (const statement of [
      { Effect: "Allow", Principal: "*", Action: ["sns:Publish", "sns:Subscribe"] },
      { Effect: "Allow", Principal: { AWS: "arn:aws:iam::210987654321:root" }, Action: "sns:Publish" },
      { Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Action: "sns:Publish" },
      { Effect: "Allow", NotPrincipal: { AWS: "x" }, Action: "sns:Publish" },
    ])
      assert.equal(
        (await messages(resourcePolicyNotPublic, [topicPolicy(statement)])).length,
        1,
        JSON.stringify(statement),
      );
    const grant = resource("aws:kms/grant:Grant", "g", { granteePrincipal: OTHER, operations: ["Decrypt"] });
    assert.equal((await messages(resourcePolicyNotPublic, [grant])).length, 1);
  });
});

describe("alarm-topic-deliverable", () => {
  const topicArn = `arn:aws:sns:${REGION}:${ACCOUNT}:consumer-dev-alarms`;
  const keyArn = `arn:aws:kms:${REGION}:${ACCOUNT}:key/k1`;
  const keyPolicy = (actions: string[]) =>
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Action: actions, Resource: "*" },
      ],
    });
  const stack = (kmsMasterKeyId: string, actions: string[]) => [
    resource("aws:sns/topic:Topic", "topic", { arn: topicArn, kmsMasterKeyId }),
    resource("aws:kms/key:Key", "key", { arn: keyArn, policy: keyPolicy(actions) }),
  ];

  it("passes a topic whose key lets CloudWatch decrypt and generate data keys", async () => {
    assert.deepEqual(await messages(alarmTopicDeliverable, stack(keyArn, ["kms:Decrypt", "kms:GenerateDataKey*"])), []);
  });

  it("rejects a key CloudWatch cannot use, and the AWS managed key", async () => {
    assert.deepEqual(await messages(alarmTopicDeliverable, stack(keyArn, ["kms:Decrypt"])), [
      `MetricAlarm "alarms-dlq-messages" notifies topic "topic", but CloudWatch cannot deliver to it: key "key" policy does not allow cloudwatch.amazonaws.com kms:GenerateDataKey; the alarm would fire and tell no one.`,
    ]);
    assert.equal((await messages(alarmTopicDeliverable, stack("alias/aws/sns", []))).length, 1);
  });
});

describe("unknown-resource-reviewed", () => {
  it("names an unknown type carrying a pod template, a document, a network rule or webhooks", async () => {
    const rollout = resource("kubernetes:argoproj.io/v1alpha1:Rollout", "canary", {
      spec: { template: { spec: { containers: [{ name: "c", image: "x" }] } } },
    });
    assert.deepEqual(await resourceViolations(unknownResourceReviewed, rollout), [
      `Rollout "canary" (kubernetes:argoproj.io/v1alpha1:Rollout) carries a pod template, but no rule of this pack knows the type, so nothing judged what it grants or exposes; review it, and add the type to the pack's surface table (docs/POLICY.md) with a rule.`,
    ]);
    const acl = resource("aws:ec2/networkAclRule:NetworkAclRule", "acl", { cidrBlock: "0.0.0.0/0" });
    assert.equal((await resourceViolations(unknownResourceReviewed, acl)).length, 1);
  });

  it("is silent on known types and on unknown ones that carry nothing a rule judges", async () => {
    for (const r of goodStack()) assert.deepEqual(await resourceViolations(unknownResourceReviewed, r), [], r.type);
    const log = resource("aws:cloudwatch/logGroup:LogGroup", "logs", { retentionInDays: 30 });
    assert.deepEqual(await resourceViolations(unknownResourceReviewed, log), []);
  });
});

describe("packaged-objects-visible", () => {
  it("is silent on charts, whose objects are resources under pulumi preview", async () => {
    const chart = resource("kubernetes:helm.sh/v4:Chart", "keda", { chart: "keda", version: "2.20.2" });
    assert.deepEqual(await stackViolations(packagedObjectsVisible, [chart]), []);
  });

  it("names every helm.v3.Release", async () => {
    const release = resource("kubernetes:helm.sh/v3:Release", "extras", {});
    assert.deepEqual(
      (await stackViolations(packagedObjectsVisible, [release])).map((f) => f.message),
      [
        `Release "extras" installs its objects through Helm, never as resources of this stack, so no rule judges its pods, RBAC or webhooks; use helm.v4.Chart instead.`,
      ],
    );
  });
});

describe("workload-not-internet-facing: address counting", () => {
  const rule = (cidrBlocks: string[], ipv6CidrBlocks: string[] = []) =>
    resource("aws:ec2/securityGroupRule:SecurityGroupRule", "rule", {
      type: "ingress",
      cidrBlocks,
      ipv6CidrBlocks,
      fromPort: 443,
      toPort: 443,
    });

  it("counts what a list admits together, IPv4 and IPv6, private ranges aside", () => {
    // RFC 4632: two /1 halves cover 2^32 addresses; RFC 1918's 10/8 never routes on the internet.
    assert.equal(coverage(["0.0.0.0/1", "128.0.0.0/1"]).ipv4, 2n ** 32n);
    assert.equal(coverage(["0.0.0.0/1", "128.0.0.0/1"]).publicIpv4, coverage(["0.0.0.0/0"]).publicIpv4);
    assert.equal(coverage(["10.0.0.0/8", "10.1.0.0/16"]).publicIpv4, 0n);
    assert.equal(coverage(["203.0.113.0/24", "203.0.113.0/25"]).ipv4, 256n);
    assert.equal(coverage(["2001:db8::/48"]).ipv6, 2n ** 80n);
    assert.equal(coverage(["::ffff:192.0.2.0/120"]).ipv6, 256n);
    assert.deepEqual(coverage(["nonsense", "1.2.3.4/33"]).invalid, ["nonsense", "1.2.3.4/33"]);
  });

  it("rejects halves, quarters and a wide IPv6 prefix, passes the VPC and an office", async () => {
    const open = [
      rule(["0.0.0.0/1", "128.0.0.0/1"]),
      rule(["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"]),
      rule([], ["2000::/3"]),
    ];
    for (const r of open) assert.equal((await stackViolations(workloadNotInternetFacing, [r])).length, 1);
    assert.deepEqual(await stackViolations(workloadNotInternetFacing, [rule(["10.0.0.0/8", "203.0.113.0/24"])]), []);
    const lb = resource("kubernetes:core/v1:Service", "lb", {
      spec: { type: "LoadBalancer", loadBalancerSourceRanges: ["0.0.0.0/1", "128.0.0.0/1"] },
    });
    const alb = resource("kubernetes:networking.k8s.io/v1:Ingress", "alb", {
      metadata: {
        annotations: {
          "alb.ingress.kubernetes.io/scheme": "internet-facing",
          "alb.ingress.kubernetes.io/inbound-cidrs": "0.0.0.0/1, 128.0.0.0/1",
        },
      },
    });
    assert.equal((await stackViolations(workloadNotInternetFacing, [lb, alb])).length, 2);
  });

  it("rejects a Service's externalIPs", async () => {
    const svc = resource("kubernetes:core/v1:Service", "svc", {
      spec: { type: "ClusterIP", externalIPs: ["198.51.100.7"] },
    });
    assert.equal((await stackViolations(workloadNotInternetFacing, [svc])).length, 1);
  });
});

describe("rbac-least-privilege: by effect", () => {
  const rbac = (kind: string, name: string, props: Record<string, unknown>) =>
    resource(`kubernetes:rbac.authorization.k8s.io/v1:${kind}`, name, props);
  const inConsumer = { name: "x", namespace: NAMESPACE };

  it("rejects edit, admin or a stack role with pod or workload writes bound where the consumer's role is", async () => {
    const edit = rbac("RoleBinding", "edit", {
      metadata: inConsumer,
      roleRef: { kind: "ClusterRole", name: "edit" },
      subjects: [{ kind: "Group", name: "developers" }],
    });
    const patcher = rbac("ClusterRole", "patcher", {
      metadata: { name: "patcher" },
      rules: [{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["patch"] }],
    });
    const patcherBinding = rbac("RoleBinding", "patcher-binding", {
      metadata: inConsumer,
      roleRef: { kind: "ClusterRole", name: "patcher" },
      subjects: [{ kind: "ServiceAccount", name: "ci", namespace: "ci" }],
    });
    const podMaker = rbac("Role", "pods", {
      metadata: inConsumer,
      rules: [{ apiGroups: [""], resources: ["pods", "secrets"], verbs: ["create"] }],
    });
    const found = await messages(rbacLeastPrivilege, [edit, patcher, patcherBinding, podMaker]);
    assert.equal(found.filter((m) => m.startsWith('RoleBinding "edit"')).length, 2, found.join("\n"));
    assert.equal(found.filter((m) => m.startsWith('RoleBinding "patcher-binding"')).length, 1, found.join("\n"));
    assert.equal(found.filter((m) => m.startsWith('Role "pods"')).length, 2, found.join("\n"));
  });

  it("passes view there, edit elsewhere, and edit for one user in a developer's own namespace", async () => {
    const own = resource("kubernetes:core/v1:Namespace", "own", {
      metadata: { name: NAMESPACE, labels: { "sqs-eks-consumer/developer": "alice" } },
    });
    const view = rbac("RoleBinding", "view", {
      metadata: inConsumer,
      roleRef: { kind: "ClusterRole", name: "view" },
      subjects: [{ kind: "Group", name: "developers" }],
    });
    const elsewhere = rbac("RoleBinding", "elsewhere", {
      metadata: { name: "x", namespace: "team-b" },
      roleRef: { kind: "ClusterRole", name: "edit" },
      subjects: [{ kind: "Group", name: "developers" }],
    });
    const alice = rbac("RoleBinding", "alice", {
      metadata: inConsumer,
      roleRef: { kind: "ClusterRole", name: "edit" },
      subjects: [{ kind: "User", name: "sqs-eks-consumer:developer:alice" }],
    });
    assert.deepEqual(await messages(rbacLeastPrivilege, [view, elsewhere]), []);
    assert.deepEqual(await stackViolations(rbacLeastPrivilege, [...goodStack(), own, alice]), []);
  });

  it("rejects ephemeral containers, admission writes, certificate approval, PersistentVolumes and namespace service-account groups", async () => {
    const role = rbac("ClusterRole", "risky", {
      metadata: { name: "risky" },
      rules: [
        { apiGroups: [""], resources: ["pods/ephemeralcontainers"], verbs: ["update"] },
        {
          apiGroups: ["admissionregistration.k8s.io"],
          resources: ["validatingadmissionpolicybindings"],
          verbs: ["delete"],
        },
        { apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests/approval"], verbs: ["update"] },
        { apiGroups: ["certificates.k8s.io"], resources: ["signers"], verbs: ["approve"] },
        { apiGroups: [""], resources: ["persistentvolumes"], verbs: ["create"] },
      ],
    });
    const binding = rbac("ClusterRoleBinding", "sas", {
      roleRef: { kind: "ClusterRole", name: "view" },
      subjects: [{ kind: "Group", name: "system:serviceaccounts:kube-system" }],
    });
    assert.equal((await stackViolations(rbacLeastPrivilege, [role, binding])).length, 6);
  });
});

describe("rbac-least-privilege: a pinned chart's own RBAC", () => {
  const chartUrn = "urn:pulumi:dev::sqs-eks-consumer::kubernetes:helm.sh/v4:Chart::keda-chart";
  const operatorRole = resource("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "keda-operator", {
    metadata: { name: "keda-operator" },
    rules: [
      { apiGroups: ["batch"], resources: ["jobs"], verbs: ["create", "delete", "patch"] },
      { apiGroups: ["admissionregistration.k8s.io"], resources: ["validatingwebhookconfigurations"], verbs: ["patch"] },
    ],
  });
  const operatorBinding = resource("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", "keda-operator", {
    roleRef: { kind: "ClusterRole", name: "keda-operator" },
    subjects: [{ kind: "ServiceAccount", name: "keda-operator", namespace: "keda" }],
  });

  it("passes the operator's Jobs and webhook caBundle when the chart renders them, and rejects them otherwise", async () => {
    const chart = { ...resource("kubernetes:helm.sh/v4:Chart", "keda-chart", {}), urn: chartUrn };
    const rendered = [operatorRole, operatorBinding].map((r) => ({ ...r, parent: chartUrn }));
    assert.deepEqual(await messages(rbacLeastPrivilege, [chart, ...rendered]), []);
    const found = await messages(rbacLeastPrivilege, [operatorRole, operatorBinding]);
    assert.equal(found.length, 2, found.join("\n"));
  });
});

describe("admission-policy-enforced: by effect", () => {
  const policy = (spec: Record<string, unknown>) =>
    resource("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy", "fence", {
      metadata: { name: "fence" },
      spec,
    });
  const binding = (spec: Record<string, unknown>) =>
    resource("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding", "fence-binding", {
      spec: { policyName: "fence", validationActions: ["Deny"], ...spec },
    });
  const writer = resource("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "ns-writer", {
    metadata: { name: "ns-writer" },
    rules: [{ apiGroups: [""], resources: ["namespaces"], verbs: ["create"] }],
  });
  const namespaces = {
    resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], resources: ["namespaces"], operations: ["CREATE"] }],
  };
  const validates = [{ expression: "object.metadata.name != 'kube-system'" }];

  it("passes a policy matching what the stack's roles write, validating the request", async () => {
    const stack = [
      ...goodStack(),
      writer,
      policy({ matchConstraints: namespaces, validations: validates }),
      binding({}),
    ];
    assert.deepEqual(await stackViolations(admissionPolicyEnforced, stack), []);
    const selected = binding({ matchResources: { namespaceSelector: { matchLabels: { app: "consumer" } } } });
    const labelled = resource("kubernetes:core/v1:Namespace", "labelled", {
      metadata: { name: "team", labels: { app: "consumer" } },
    });
    const stack2 = [
      ...goodStack(),
      writer,
      labelled,
      policy({ matchConstraints: namespaces, validations: validates }),
      selected,
    ];
    assert.deepEqual(await stackViolations(admissionPolicyEnforced, stack2), []);
  });

  it("rejects constant validations, rules matching nothing written, a selector matching no namespace and an orphan binding", async () => {
    const judge = async (...extra: ReturnType<typeof resource>[]) =>
      (await stackViolations(admissionPolicyEnforced, [...goodStack(), writer, ...extra])).length;
    assert.equal(
      await judge(policy({ matchConstraints: namespaces, validations: [{ expression: "true" }] }), binding({})),
      1,
    );
    assert.equal(await judge(policy({ matchConstraints: namespaces }), binding({})), 1);
    const nothing = {
      resourceRules: [{ apiGroups: ["example.com"], resources: ["nothings"], operations: ["CREATE"] }],
    };
    assert.equal(await judge(policy({ matchConstraints: nothing, validations: validates }), binding({})), 1);
    const never = binding({ matchResources: { namespaceSelector: { matchLabels: { never: "true" } } } });
    assert.equal(await judge(policy({ matchConstraints: namespaces, validations: validates }), never), 1);
    const orphan = resource("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding", "orphan", {
      spec: { policyName: "elsewhere", validationActions: ["Deny"] },
    });
    assert.equal(await judge(policy({ matchConstraints: namespaces, validations: validates }), binding({}), orphan), 1);
  });
});

describe("unknown-resource-reviewed: containers and grants outside pod specs", () => {
  it("names singular containers, scripts, steps, node paths and grants to a principal", async () => {
    const carriers = [
      resource("kubernetes:argoproj.io/v1alpha1:WorkflowTemplate", "wf", {
        spec: {
          templates: [
            { name: "a", container: { image: "alpine" } },
            { name: "b", script: { image: "python" } },
          ],
        },
      }),
      resource("kubernetes:tekton.dev/v1:Task", "task", { spec: { steps: [{ name: "s", image: "alpine" }] } }),
      resource("kubernetes:example.com/v1:NodeDisk", "disk", { spec: { hostPath: { path: "/" } } }),
      resource("aws:lambda/permission:Permission", "invoke", { action: "lambda:InvokeFunction", principal: "*" }),
    ];
    for (const r of carriers) assert.equal((await resourceViolations(unknownResourceReviewed, r)).length, 1, r.type);
  });
});

describe("the surface table", () => {
  it("names only rules of the pack, and gives a reason where no rule judges a row", () => {
    const names = new Set(POLICIES.map((p) => p.name));
    for (const row of SURFACES) {
      for (const rule of row.rules) assert.ok(names.has(rule), `${row.shown}: ${rule}`);
      if (row.rules.length === 0) assert.ok(row.decision !== undefined, row.shown);
    }
  });

  it("knows every pod-bearing kind in every version, and each Patch variant", () => {
    for (const type of [
      "kubernetes:apps/v1beta1:Deployment",
      "kubernetes:apps/v1:DeploymentPatch",
      "kubernetes:batch/v1:CronJobPatch",
      "kubernetes:keda.sh/v1alpha1:ScaledJob",
    ])
      assert.ok(isKnownType(type), type);
    assert.equal(surfaceOf("kubernetes:argoproj.io/v1alpha1:Rollout"), undefined);
    assert.equal(isKnownType("aws:iam/userPolicy:UserPolicy"), false);
  });
});

describe("docs/POLICY.md", () => {
  it("prints the surface table as the pack has it", async () => {
    const doc = await readFile(join(__dirname, "..", "..", "docs", "POLICY.md"), "utf8");
    assert.ok(doc.includes(renderSurfaceTable()), "regenerate the table with renderSurfaceTable()");
  });
});
