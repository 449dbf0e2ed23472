/**
 * Developer stacks on a shared cluster, judged by an independent model of the cluster (test/rbac/): the
 * platform's recorded run sets up the access entries, RBAC and admission policy; each developer's recorded
 * run is replayed against it as the Kubernetes provider would send it, and every request is authorized by
 * EKS's access policies and Kubernetes RBAC as published upstream, and admitted by the recorded
 * ValidatingAdmissionPolicy evaluated with a CEL evaluator.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { ProgramRun } from "./helpers/mocks";
import { ORGANIZATION, assertSucceeded, borrowing, ofType, runPrograms, scenario } from "./helpers/program";
import { SimulatedCluster, describeDecision, objectRef, type Decision, type ObjectRef } from "./rbac/cluster";

const ACCOUNT = "123456789012";
const PLATFORM = `${ORGANIZATION}/sqs-eks-consumer/shared`;
/** Alice has a role of her own; Bob and Carol share an IAM Identity Center permission set's role. */
const ALICE_ROLE = `arn:aws:iam::${ACCOUNT}:role/alice`;
const SHARED_ROLE_NAME = "AWSReservedSSO_Developer_0123456789abcdef";
const SHARED_ROLE = `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/${SHARED_ROLE_NAME}`;
const CALLERS = {
  alice: `arn:aws:sts::${ACCOUNT}:assumed-role/alice/botocore-session-1712`,
  bob: `arn:aws:sts::${ACCOUNT}:assumed-role/${SHARED_ROLE_NAME}/bob@example.com`,
  carol: `arn:aws:sts::${ACCOUNT}:assumed-role/${SHARED_ROLE_NAME}/carol@example.com`,
  mallory: `arn:aws:sts::${ACCOUNT}:assumed-role/${SHARED_ROLE_NAME}/mallory@example.com`,
  /** Not listed: a session name that {{SessionName}} would have written as Bob's. */
  bobLookalike: `arn:aws:sts::${ACCOUNT}:assumed-role/${SHARED_ROLE_NAME}/bob-example.com`,
} as const;
/** The developer stacks' cleanup job's role (ci/roles.ts), and a session of it. */
const CLEANUP_ROLE = `arn:aws:iam::${ACCOUNT}:role/ci-sqs-eks-consumer-cleanup`;
const CLEANUP_CALLER = `arn:aws:sts::${ACCOUNT}:assumed-role/ci-sqs-eks-consumer-cleanup/developer-stacks-cleanup-42`;
const DEVELOPERS = [
  `alice=${ALICE_ROLE}`,
  `bob=${SHARED_ROLE} session=bob@example.com`,
  `carol=${SHARED_ROLE} session=carol@example.com`,
];
/** A developer stack with everything on that registers custom resources. */
const FULL = {
  clusterMode: "borrow",
  ephemeral: true,
  clusterStack: PLATFORM,
  autoscaling: "keda",
  maxReplicas: 2,
  prometheusOperator: true,
} as const;

let platform: ProgramRun;
let alice: ProgramRun;
let aliceSecond: ProgramRun;
let bob: ProgramRun;
let carol: ProgramRun;
let notHers: ProgramRun;
let unlisted: ProgramRun;
let overQuota: ProgramRun;
let carolPodIdentity: ProgramRun;
let cpuLimitOver: ProgramRun;

before(async () => {
  [platform] = (await runPrograms([
    await scenario("shared", { developers: DEVELOPERS, developerCleanupPrincipalArn: CLEANUP_ROLE }),
  ])) as [ProgramRun];
  assertSucceeded(platform);
  const as = (caller: string) => ({
    ...borrowing(platform, caller),
    clusterAddons: { "sqs-eks-consumer-shared": { "eks-pod-identity-agent": "v1.3.8-eksbuild.2" } },
    // The platform's state as a StackReference would meet it: sealed by a KMS key the developer may not use.
    otherStacks: {
      [PLATFORM]: {
        outputs: platform.outputs,
        secretOutputNames: platform.secretOutputs,
        unreadable: 'constructing secrets manager of type "cloud": AccessDeniedException: kms:Decrypt',
      },
    },
  });
  [alice, aliceSecond, bob, carol, notHers, unlisted, overQuota, carolPodIdentity, cpuLimitOver] = (await runPrograms([
    await scenario("alice-feature", FULL, as(CALLERS.alice)),
    await scenario("alice", { clusterMode: "borrow", ephemeral: true, clusterStack: PLATFORM }, as(CALLERS.alice)),
    await scenario("bob", FULL, as(CALLERS.bob)),
    await scenario("carol-x", { clusterMode: "borrow", ephemeral: true, clusterStack: PLATFORM }, as(CALLERS.carol)),
    await scenario("bob-2", { clusterMode: "borrow", ephemeral: true, clusterStack: PLATFORM }, as(CALLERS.carol)),
    await scenario("mallory", { clusterMode: "borrow", ephemeral: true, clusterStack: PLATFORM }, as(CALLERS.mallory)),
    await scenario("alice-big", { ...FULL, maxReplicas: 10 }, as(CALLERS.alice)),
    await scenario(
      "carol-y",
      { clusterMode: "borrow", ephemeral: true, clusterStack: PLATFORM, identity: "pod-identity" },
      as(CALLERS.carol),
    ),
    await scenario(
      "carol-z",
      { clusterMode: "borrow", ephemeral: true, clusterStack: PLATFORM, cpuLimitMillicores: 1000 },
      as(CALLERS.carol),
    ),
  ])) as [ProgramRun, ProgramRun, ProgramRun, ProgramRun, ProgramRun, ProgramRun, ProgramRun, ProgramRun, ProgramRun];
});

const refused = (decisions: readonly Decision[]) => decisions.filter((d) => !d.allowed).map(describeDecision);

/** The namespace a run made for itself. */
function namespaceOf(run: ProgramRun): string {
  const [namespace] = ofType(run, "kubernetes:core/v1:Namespace");
  assert.ok(namespace, "the run made no namespace");
  return String((namespace.inputs.metadata as { name: string }).name);
}

describe("a developer stack with autoscaling and Prometheus on, on a shared cluster", () => {
  it("has every request it makes allowed by what the platform grants: up, a second up, and destroy", () => {
    for (const [run, caller] of [
      [alice, CALLERS.alice],
      [bob, CALLERS.bob],
    ] as const) {
      assertSucceeded(run);
      const cluster = SimulatedCluster.fromPlatform(platform);
      const up = cluster.replay(caller, run, "up");
      // The judgement covers the custom resources, not only what `edit` grants.
      const kinds = new Set(up.map((d) => `${d.request.apiGroup}/${d.request.resource}`));
      for (const kind of [
        "keda.sh/scaledobjects",
        "keda.sh/triggerauthentications",
        "monitoring.coreos.com/servicemonitors",
        "monitoring.coreos.com/prometheusrules",
      ]) {
        assert.ok(kinds.has(kind), `the replay never touched ${kind}`);
      }
      assert.deepEqual(refused(up), []);
      assert.deepEqual(refused(cluster.replay(caller, run, "up")), []);
      assert.deepEqual(refused(cluster.replay(caller, run, "destroy")), []);
    }
  });

  it("leaves nothing of itself in the cluster after destroy", () => {
    const cluster = SimulatedCluster.fromPlatform(platform);
    cluster.replay(CALLERS.alice, alice, "up");
    cluster.replay(CALLERS.alice, alice, "destroy");
    const left = alice.resources
      .filter((resource) => !resource.read)
      .map(objectRef)
      .filter((ref): ref is ObjectRef => ref !== undefined && cluster.has(ref));
    assert.deepEqual(left, []);
  });

  it("reads nothing of the platform stack's state: its cluster is found by name, its directory read from the cluster", () => {
    for (const [run, stack] of [
      [alice, "alice-feature"],
      [bob, "bob"],
      [carol, "carol-x"],
    ] as const) {
      // The one reference a stack makes is to itself: its own last update's createdWith (infra/lifecycle.ts).
      assert.deepEqual(
        ofType(run, "pulumi:pulumi:StackReference").map((reference) => reference.inputs.name),
        [`${ORGANIZATION}/sqs-eks-consumer/${stack}`],
      );
      assert.deepEqual(run.errors, []);
    }
    assert.ok(
      alice.invokes.some(
        (call) => call.token === "aws:eks/getCluster:getCluster" && call.inputs.name === "sqs-eks-consumer-shared",
      ),
    );
  });

  it("puts its ResourceQuota and LimitRange, the platform's, into its namespace, deleted with it", () => {
    const quota = ofType(alice, "kubernetes:core/v1:ResourceQuota");
    const limits = ofType(alice, "kubernetes:core/v1:LimitRange");
    assert.equal(quota.length, 1);
    assert.equal(limits.length, 1);
    const namespace = ofType(alice, "kubernetes:core/v1:Namespace")[0]!;
    for (const object of [...quota, ...limits]) {
      assert.equal((object.inputs.metadata as { namespace: string }).namespace, namespaceOf(alice));
      assert.equal(object.deletedWith, namespace.urn);
    }
  });
});

describe("self-service", () => {
  it("lets a developer add a stack without any change to the platform", () => {
    assertSucceeded(aliceSecond);
    const cluster = SimulatedCluster.fromPlatform(platform);
    assert.deepEqual(refused(cluster.replay(CALLERS.alice, alice, "up")), []);
    assert.deepEqual(refused(cluster.replay(CALLERS.alice, aliceSecond, "up")), []);
  });

  it("refuses at preview a stack whose name is another person's, naming the names that would do", () => {
    assert.ok(
      notHers.errors.some((e) =>
        e.includes(
          "deploys into namespace sqs-eks-consumer-bob-2, which is not carol's: name the stack carol or carol-<anything>",
        ),
      ),
      notHers.errors.join("\n"),
    );
  });

  it("refuses at preview a caller the platform does not list, naming the entry to ask for", () => {
    assert.ok(
      unlisted.errors.some(
        (e) =>
          e.includes(`${CALLERS.mallory} is not among the developers of ${PLATFORM}`) &&
          e.includes(`<person>=arn:aws:iam::${ACCOUNT}:role/<path>/${SHARED_ROLE_NAME} session=mallory@example.com`),
      ),
      unlisted.errors.join("\n"),
    );
  });

  it("refuses at preview a stack whose pods would not fit the platform's quota, naming what to lower", () => {
    assert.ok(
      overQuota.errors.some((e) => e.includes("11 pods (replicas or maxReplicas, plus one a rollout adds) > 4")),
      overQuota.errors.join("\n"),
    );
  });

  it("refuses at preview a CPU limit above what the namespace's LimitRange lets a container have", () => {
    assert.ok(
      cpuLimitOver.errors.some((e) => e.includes("cpuLimitMillicores 1000m > 500m")),
      cpuLimitOver.errors.join("\n"),
    );
  });

  it("works in pod-identity mode too", () => {
    assertSucceeded(carolPodIdentity);
    const cluster = SimulatedCluster.fromPlatform(platform);
    assert.deepEqual(refused(cluster.replay(CALLERS.carol, carolPodIdentity, "up")), []);
  });
});

/** Every write and read one caller could try on another's namespace, with the strongest objects. */
function attemptsOn(cluster: SimulatedCluster, caller: string, namespace: string, self: string): Decision[] {
  const decisions: Decision[] = [];
  const kinds: [string, string, string, string][] = [
    ["", "v1", "Secret", "secrets"],
    ["", "v1", "ConfigMap", "configmaps"],
    ["", "v1", "Pod", "pods"],
    ["", "v1", "ServiceAccount", "serviceaccounts"],
    ["", "v1", "Service", "services"],
    ["apps", "v1", "Deployment", "deployments"],
    ["policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets"],
    ["keda.sh", "v1alpha1", "ScaledObject", "scaledobjects"],
    ["keda.sh", "v1alpha1", "TriggerAuthentication", "triggerauthentications"],
    ["monitoring.coreos.com", "v1", "ServiceMonitor", "servicemonitors"],
    ["", "v1", "ResourceQuota", "resourcequotas"],
    ["", "v1", "LimitRange", "limitranges"],
    ["rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings"],
  ];
  for (const [apiGroup, version, kind, resource] of kinds) {
    for (const verb of ["get", "list", "watch"]) {
      decisions.push(
        cluster.authorize(caller, `${kind} in ${namespace}`, { verb, apiGroup, resource, namespace, name: "" }),
      );
      decisions.push(
        cluster.authorize(caller, `${kind} in ${namespace}`, {
          verb,
          apiGroup,
          resource,
          namespace,
          name: "sqs-consumer-queue",
        }),
      );
    }
    const ref: ObjectRef = { apiGroup, version, kind, resource, namespace, name: "sqs-eks-consumer-developer-edit" };
    const object = {
      apiVersion: `${apiGroup ? `${apiGroup}/` : ""}${version}`,
      kind,
      metadata: { name: ref.name, namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
      subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: self }],
    };
    for (const verb of ["create", "patch", "update", "delete"] as const) {
      decisions.push(cluster.write(caller, `${kind} in ${namespace}`, ref, verb, verb === "delete" ? null : object));
    }
  }
  const namespaceRef: ObjectRef = {
    apiGroup: "",
    version: "v1",
    kind: "Namespace",
    resource: "namespaces",
    namespace: "",
    name: namespace,
  };
  for (const verb of ["patch", "update", "delete"] as const) {
    decisions.push(
      cluster.write(
        caller,
        `namespace ${namespace}`,
        namespaceRef,
        verb,
        verb === "delete" ? null : { metadata: { name: namespace, labels: {} } },
      ),
    );
  }
  return decisions;
}

describe("isolation between developers", () => {
  /** The cluster with Alice's, Bob's and Carol's stacks up. */
  function withEveryoneUp(): SimulatedCluster {
    const cluster = SimulatedCluster.fromPlatform(platform);
    for (const [run, caller] of [
      [alice, CALLERS.alice],
      [bob, CALLERS.bob],
      [carol, CALLERS.carol],
    ] as const) {
      assert.deepEqual(refused(cluster.replay(caller, run, "up")), []);
    }
    return cluster;
  }

  it("gives two people on one IAM role distinct Kubernetes users", () => {
    const cluster = SimulatedCluster.fromPlatform(platform);
    assert.notEqual(cluster.userOf(CALLERS.bob)?.username, cluster.userOf(CALLERS.carol)?.username);
  });

  it("never makes an unlisted session Bob, even one named as {{SessionName}} would write his", () => {
    const cluster = withEveryoneUp();
    const lookalike = cluster.userOf(CALLERS.bobLookalike);
    assert.ok(lookalike);
    assert.notEqual(lookalike.username, cluster.userOf(CALLERS.bob)?.username);
    const allowed = attemptsOn(cluster, CALLERS.bobLookalike, namespaceOf(bob), lookalike.username).filter(
      (d) => d.allowed,
    );
    assert.deepEqual(allowed.map(describeDecision), []);
  });

  it("gives a developer no right in another's namespace, even when they share an IAM role", () => {
    const cluster = withEveryoneUp();
    for (const [caller, victim] of [
      [CALLERS.carol, bob],
      [CALLERS.bob, carol],
      [CALLERS.alice, bob],
      [CALLERS.carol, alice],
    ] as const) {
      const self = cluster.userOf(caller)!.username;
      const allowed = attemptsOn(cluster, caller, namespaceOf(victim), self).filter((d) => d.allowed);
      assert.deepEqual(allowed.map(describeDecision), []);
    }
  });

  it("grants nothing cluster-wide beyond namespaces of one's own", () => {
    const cluster = withEveryoneUp();
    const caller = CALLERS.carol;
    const self = cluster.userOf(caller)!.username;
    const any = (verb: string, apiGroup: string, resource: string, name = "") =>
      cluster.authorize(caller, `${verb} ${resource}`, { verb, apiGroup, resource, namespace: "", name });
    const clusterWide = [
      any("list", "", "secrets"),
      any("get", "", "nodes"),
      any("create", "rbac.authorization.k8s.io", "clusterrolebindings"),
      any("create", "rbac.authorization.k8s.io", "clusterroles"),
      any("bind", "rbac.authorization.k8s.io", "clusterroles", "cluster-admin"),
      any("escalate", "rbac.authorization.k8s.io", "clusterroles", "edit"),
      any(
        "delete",
        "admissionregistration.k8s.io",
        "validatingadmissionpolicies",
        "sqs-eks-consumer-developer-namespaces",
      ),
      any("list", "apiextensions.k8s.io", "customresourcedefinitions"),
    ];
    assert.deepEqual(clusterWide.filter((d) => d.allowed).map(describeDecision), []);

    const namespace = (name: string, labels: Record<string, string>) => ({ metadata: { name, labels } });
    const ref = (name: string): ObjectRef => ({
      apiGroup: "",
      version: "v1",
      kind: "Namespace",
      resource: "namespaces",
      namespace: "",
      name,
    });
    const restricted = (cluster.userOf(caller) && {
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/enforce-version": "latest",
      "pod-security.kubernetes.io/audit": "restricted",
      "pod-security.kubernetes.io/audit-version": "latest",
      "pod-security.kubernetes.io/warn": "restricted",
      "pod-security.kubernetes.io/warn-version": "latest",
    })!;
    const writes = [
      cluster.write(
        caller,
        "another's name",
        ref("sqs-eks-consumer-bob-evil"),
        "patch",
        namespace("sqs-eks-consumer-bob-evil", restricted),
      ),
      cluster.write(caller, "the platform's own", ref("sqs-eks-consumer-shared"), "delete", null),
      cluster.write(caller, "KEDA's", ref("keda"), "delete", null),
      cluster.write(
        caller,
        "own, privileged",
        ref("sqs-eks-consumer-carol-z"),
        "patch",
        namespace("sqs-eks-consumer-carol-z", {
          ...restricted,
          "pod-security.kubernetes.io/enforce": "privileged",
        }),
      ),
    ];
    assert.deepEqual(writes.filter((d) => d.allowed).map(describeDecision), []);

    const own = namespaceOf(carol);
    const quotaRef: ObjectRef = {
      apiGroup: "",
      version: "v1",
      kind: "ResourceQuota",
      resource: "resourcequotas",
      namespace: own,
      name: "sqs-eks-consumer-developer",
    };
    const ownBindingRef: ObjectRef = {
      apiGroup: "rbac.authorization.k8s.io",
      version: "v1",
      kind: "RoleBinding",
      resource: "rolebindings",
      namespace: own,
      name: "sqs-eks-consumer-developer-edit",
    };
    const inOwn = [
      cluster.write(caller, "own quota", quotaRef, "delete", null),
      cluster.write(caller, "own quota raised", quotaRef, "patch", {
        metadata: { name: quotaRef.name, namespace: own },
        spec: { hard: { pods: "100", "requests.cpu": "64", "requests.memory": "256Gi", "limits.memory": "256Gi" } },
      }),
      cluster.write(caller, "own binding to admin", ownBindingRef, "patch", {
        metadata: { name: ownBindingRef.name, namespace: own },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "admin" },
        subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: self }],
      }),
      cluster.write(caller, "own binding for Bob", ownBindingRef, "patch", {
        metadata: { name: ownBindingRef.name, namespace: own },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
        subjects: [
          { kind: "User", apiGroup: "rbac.authorization.k8s.io", name: cluster.userOf(CALLERS.bob)!.username },
        ],
      }),
    ];
    assert.deepEqual(inOwn.filter((d) => d.allowed).map(describeDecision), []);
  });
});

/** A reference to a namespaced or cluster-scoped core object. */
const core = (kind: string, resource: string, namespace: string, name: string): ObjectRef => ({
  apiGroup: "",
  version: "v1",
  kind,
  resource,
  namespace,
  name,
});

/** The restricted Pod Security labels every developer namespace carries (infra/namespace.ts). */
const RESTRICTED = {
  "pod-security.kubernetes.io/enforce": "restricted",
  "pod-security.kubernetes.io/enforce-version": "latest",
  "pod-security.kubernetes.io/audit": "restricted",
  "pod-security.kubernetes.io/audit-version": "latest",
  "pod-security.kubernetes.io/warn": "restricted",
  "pod-security.kubernetes.io/warn-version": "latest",
};
const PERSON = "sqs-eks-consumer/developer";

/** The ReplicaSet controller, which creates a Deployment's pods (not the developer). */
const REPLICASET_CONTROLLER = {
  username: "system:serviceaccount:kube-system:replicaset-controller",
  groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
};
const POD = { metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "busybox" }] } };

describe("the quota of a developer namespace", () => {
  it("cannot be sidestepped: no pod starts in a developer namespace without the platform's quota", () => {
    const cluster = SimulatedCluster.fromPlatform(platform);
    assert.deepEqual(refused(cluster.replay(CALLERS.alice, alice, "up")), []);
    // With the quota, the controller's pod is admitted.
    assert.deepEqual(cluster.admit(REPLICASET_CONTROLLER, core("Pod", "pods", namespaceOf(alice), "p"), POD), []);
    // A namespace of her own, made without a quota: the namespace is admitted, its pods are not.
    const bare = "sqs-eks-consumer-alice-bare";
    const made = cluster.write(CALLERS.alice, "bare namespace", core("Namespace", "namespaces", "", bare), "create", {
      metadata: { name: bare, labels: { ...RESTRICTED, [PERSON]: "alice" } },
    });
    assert.ok(made.allowed, describeDecision(made));
    const denials = cluster.admit(REPLICASET_CONTROLLER, core("Pod", "pods", bare, "p"), POD);
    assert.equal(denials.length, 1);
    assert.match(
      denials[0]!,
      /sqs-eks-consumer-developer-quota: no ResourceQuota sqs-eks-consumer-developer in the namespace/,
    );
    // The platform's own namespace carries no person: the policy leaves it alone.
    assert.deepEqual(cluster.admit(REPLICASET_CONTROLLER, core("Pod", "pods", "kube-system", "p"), POD), []);
  });

  it("refuses a quota with scopes or a scope selector, which would count nothing", () => {
    const cluster = SimulatedCluster.fromPlatform(platform);
    cluster.replay(CALLERS.alice, alice, "up");
    const own = namespaceOf(alice);
    const hard = (ofType(alice, "kubernetes:core/v1:ResourceQuota")[0]!.inputs.spec as { hard: unknown }).hard;
    const ref = core("ResourceQuota", "resourcequotas", own, "sqs-eks-consumer-developer");
    for (const extra of [
      { scopes: ["BestEffort"] },
      { scopeSelector: { matchExpressions: [{ scopeName: "PriorityClass", operator: "In", values: ["none"] }] } },
    ]) {
      const decision = cluster.write(CALLERS.alice, "scoped quota", ref, "patch", {
        metadata: { name: ref.name, namespace: own },
        spec: { hard, ...extra },
      });
      assert.ok(!decision.allowed, JSON.stringify(extra));
    }
  });
});

describe("what a developer may put into their own namespace", () => {
  function withAliceUp() {
    const cluster = SimulatedCluster.fromPlatform(platform);
    assert.deepEqual(refused(cluster.replay(CALLERS.alice, alice, "up")), []);
    return cluster;
  }

  it("admits only ClusterIP Services without externalIPs", () => {
    const cluster = withAliceUp();
    const own = namespaceOf(alice);
    const service = (name: string, spec: Record<string, unknown>) =>
      cluster.write(CALLERS.alice, `service ${name}`, core("Service", "services", own, name), "create", {
        metadata: { name, namespace: own },
        spec: { ports: [{ port: 80 }], ...spec },
      });
    assert.ok(service("plain", {}).allowed);
    assert.ok(service("cluster-ip", { type: "ClusterIP" }).allowed);
    const refusedServices = [
      service("load-balancer", { type: "LoadBalancer" }),
      service("node-port", { type: "NodePort" }),
      service("external-ips", { type: "ClusterIP", externalIPs: ["10.0.0.10"] }),
    ];
    assert.deepEqual(refusedServices.filter((d) => d.allowed).map(describeDecision), []);
  });

  it("admits a TriggerAuthentication only for a role of the person's own stacks", () => {
    const cluster = withAliceUp();
    const own = namespaceOf(alice);
    const auth = (name: string, roleArn: string) =>
      cluster.write(
        CALLERS.alice,
        `trigger authentication ${name}`,
        {
          apiGroup: "keda.sh",
          version: "v1alpha1",
          kind: "TriggerAuthentication",
          resource: "triggerauthentications",
          namespace: own,
          name,
        },
        "create",
        { metadata: { name, namespace: own }, spec: { podIdentity: { provider: "aws", roleArn } } },
      );
    assert.ok(auth("own", `arn:aws:iam::${ACCOUNT}:role/sqs-eks-consumer-alice-x-keda-scaler`).allowed);
    assert.ok(!auth("bobs", `arn:aws:iam::${ACCOUNT}:role/sqs-eks-consumer-bob-keda-scaler`).allowed);
    assert.ok(!auth("platform", `arn:aws:iam::${ACCOUNT}:role/sqs-eks-consumer-shared-keda-scaler`).allowed);
  });

  it("labels a namespace with its own person only, and keeps the label", () => {
    const cluster = withAliceUp();
    const own = namespaceOf(alice);
    const labelled = (name: string, person: string | undefined, verb: "create" | "patch") =>
      cluster.write(CALLERS.alice, `namespace ${name}`, core("Namespace", "namespaces", "", name), verb, {
        metadata: { name, labels: { ...RESTRICTED, ...(person === undefined ? {} : { [PERSON]: person }) } },
      });
    assert.ok(!labelled("sqs-eks-consumer-alice-y", "bob", "create").allowed);
    assert.ok(!labelled("sqs-eks-consumer-alice-z", undefined, "create").allowed);
    assert.ok(!labelled(own, "bob", "patch").allowed);
    assert.ok(!labelled(own, undefined, "patch").allowed);
  });
});

describe("the cleanup job's access to the cluster", () => {
  it("deletes developer namespaces, and nothing else: it is no cluster admin", () => {
    const cluster = SimulatedCluster.fromPlatform(platform);
    for (const [run, caller] of [
      [alice, CALLERS.alice],
      [bob, CALLERS.bob],
    ] as const)
      assert.deepEqual(refused(cluster.replay(caller, run, "up")), []);
    const user = cluster.userOf(CLEANUP_CALLER);
    assert.ok(user, "the cleanup role has an access entry");
    const ns = (name: string) => core("Namespace", "namespaces", "", name);
    const forbidden = [
      cluster.write(CLEANUP_CALLER, "the platform's namespace", ns("sqs-eks-consumer-shared"), "delete", null),
      cluster.write(CLEANUP_CALLER, "KEDA's namespace", ns("keda"), "delete", null),
      cluster.write(CLEANUP_CALLER, "kube-system", ns("kube-system"), "delete", null),
      cluster.authorize(CLEANUP_CALLER, "secrets", {
        verb: "get",
        apiGroup: "",
        resource: "secrets",
        namespace: namespaceOf(alice),
        name: "",
      }),
      cluster.authorize(CLEANUP_CALLER, "create", {
        verb: "create",
        apiGroup: "",
        resource: "namespaces",
        namespace: "",
        name: "",
      }),
      cluster.authorize(CLEANUP_CALLER, "bind", {
        verb: "bind",
        apiGroup: "rbac.authorization.k8s.io",
        resource: "clusterroles",
        namespace: "",
        name: "cluster-admin",
      }),
      cluster.authorize(CLEANUP_CALLER, "delete policy", {
        verb: "delete",
        apiGroup: "admissionregistration.k8s.io",
        resource: "validatingadmissionpolicies",
        namespace: "",
        name: "sqs-eks-consumer-developer-namespaces",
      }),
    ];
    assert.deepEqual(forbidden.filter((d) => d.allowed).map(describeDecision), []);
    const reads = cluster.authorize(CLEANUP_CALLER, "directory", {
      verb: "get",
      apiGroup: "",
      resource: "configmaps",
      namespace: "kube-public",
      name: "sqs-eks-consumer-developers",
    });
    assert.ok(reads.allowed, describeDecision(reads));
    for (const run of [alice, bob]) {
      const decision = cluster.write(
        CLEANUP_CALLER,
        "an expired stack's namespace",
        ns(namespaceOf(run)),
        "delete",
        null,
      );
      assert.ok(decision.allowed, describeDecision(decision));
    }
  });
});
