/**
 * A second, independent set of weakenings, written against what each surface of docs/POLICY.md's table can
 * grant or expose rather than against the rules, plus changes an operator makes every day that weaken
 * nothing. Both run on the program's own recorded resources (independent.integration.test.ts): the
 * weakenings are scored, the harmless changes must raise no new finding of any rule, advisory ones included.
 * Helpers find targets by type and shape (targets.ts), never by name.
 */
import { isRecord, listOf } from "../../policies/lib/values";
import { KEDA } from "../../policies/rules/autoscaling";
import type { Mutation, Resources } from "./check";
import { NoTarget } from "./check";
import {
  addStatement,
  container,
  deadLetterQueue,
  deployment,
  designatedPolicy,
  editDocument,
  EXAMPLE_KEY_ID,
  EXAMPLE_SECRET,
  extraResource,
  find,
  namespaceOf,
  ofType,
  podSpec,
  props,
  sourceQueue,
  statementsOf,
  type Mutable,
} from "./targets";
import type { RecordedResource } from "../../policies/offline/evaluate";

const OTHER_ACCOUNT = "210987654321";
const T = {
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  policy: "aws:iam/policy:Policy",
  attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  exclusive: "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
  userPolicy: "aws:iam/userPolicy:UserPolicy",
  ssoAttachment: "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment",
  serviceAccount: "kubernetes:core/v1:ServiceAccount",
  pia: "aws:eks/podIdentityAssociation:PodIdentityAssociation",
  chart: "kubernetes:helm.sh/v4:Chart",
  release: "kubernetes:helm.sh/v3:Release",
  cluster: "eks:index:Cluster",
  accessEntry: "aws:eks/accessEntry:AccessEntry",
  clusterRole: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
  clusterRoleBinding: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
  vap: "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
  vapBinding: "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
  webhook: "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration",
  service: "kubernetes:core/v1:Service",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  nacl: "aws:ec2/networkAclRule:NetworkAclRule",
  topic: "aws:sns/topic:Topic",
  topicPolicy: "aws:sns/topicPolicy:TopicPolicy",
  key: "aws:kms/key:Key",
  repositoryPolicy: "aws:ecr/repositoryPolicy:RepositoryPolicy",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  namespace: "kubernetes:core/v1:Namespace",
  namespacePatch: "kubernetes:core/v1:NamespacePatch",
  deploymentPatch: "kubernetes:apps/v1:DeploymentPatch",
  cronJob: "kubernetes:batch/v1:CronJob",
  daemonSet: "kubernetes:apps/v1:DaemonSet",
  statefulSet: "kubernetes:apps/v1:StatefulSet",
  rollout: "kubernetes:argoproj.io/v1alpha1:Rollout",
  secret: "kubernetes:core/v1:Secret",
  configMap: "kubernetes:core/v1:ConfigMap",
  networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  subscription: "aws:sns/topicSubscription:TopicSubscription",
  queuePolicy: "aws:sqs/queuePolicy:QueuePolicy",
  queue: "aws:sqs/queue:Queue",
  roleBinding: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
  namespacedRole: "kubernetes:rbac.authorization.k8s.io/v1:Role",
  persistentVolume: "kubernetes:core/v1:PersistentVolume",
  persistentVolumeClaim: "kubernetes:core/v1:PersistentVolumeClaim",
  ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  prometheus: "kubernetes:monitoring.coreos.com/v1:Prometheus",
  tektonTask: "kubernetes:tekton.dev/v1:Task",
  layerPermission: "aws:lambda/layerVersionPermission:LayerVersionPermission",
  autoNodeClass: "kubernetes:eks.amazonaws.com/v1:NodeClass",
  ec2NodeClass: "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass",
  nodePool: "kubernetes:karpenter.sh/v1:NodePool",
} as const;

/** The role the consumer's pods run as: named by the service account's annotation or a Pod Identity association. */
function consumerRole(resources: Resources): RecordedResource {
  const named = resources.flatMap((r) => {
    if (r.type === T.serviceAccount) {
      const annotations = (r.props["metadata"] as Mutable | undefined)?.["annotations"] as Mutable | undefined;
      return annotations?.["eks.amazonaws.com/role-arn"] === undefined
        ? []
        : [annotations["eks.amazonaws.com/role-arn"]];
    }
    return r.type === T.pia ? [r.props["roleArn"]] : [];
  });
  return find(resources, "consumer role", (r) => r.type === T.role && named.includes(r.props["arn"]));
}

/** The role a TriggerAuthentication names. */
function scalerRole(resources: Resources): RecordedResource {
  const arn = (triggerAuthentication(resources).props["spec"] as Mutable)["podIdentity"] as Mutable;
  return find(resources, "scaler role", (r) => r.type === T.role && r.props["arn"] === arn["roleArn"]);
}

function nodeRole(resources: Resources): RecordedResource {
  return find(
    resources,
    "node role",
    (r) => r.type === T.role && String(r.props["assumeRolePolicy"]).includes("ec2.amazonaws.com"),
  );
}

function rolePolicyOf(resources: Resources, role: RecordedResource): RecordedResource {
  return find(resources, "role policy", (r) => r.type === T.rolePolicy && r.props["role"] === role.props["name"]);
}

function triggerAuthentication(resources: Resources): RecordedResource {
  return find(resources, "TriggerAuthentication", ofType(KEDA.triggerAuthentication));
}

function scaledObject(resources: Resources): RecordedResource {
  return find(resources, "ScaledObject", ofType(KEDA.scaledObject));
}

function firstTrigger(resources: Resources): Mutable {
  const trigger = listOf((scaledObject(resources).props["spec"] as Mutable)["triggers"]).find(isRecord);
  if (trigger === undefined) throw new NoTarget("no trigger");
  return trigger;
}

function cluster(resources: Resources): RecordedResource {
  return find(resources, "eks.Cluster", ofType(T.cluster));
}

/** The first developer's access entry: one that maps its principal to Kubernetes groups (RBAC decides the rest). */
function developerEntry(resources: Resources): Mutable {
  for (const entry of Object.values((props(cluster(resources))["accessEntries"] ?? {}) as Mutable)) {
    if (listOf((entry as Mutable)["kubernetesGroups"]).length > 0) return entry as Mutable;
  }
  throw new NoTarget("no developer access entry");
}

/** Gives the first developer's entry an access policy association of `policy` with `accessScope`. */
function associate(resources: Resources, policy: string, accessScope: Mutable): Resources {
  const entry = developerEntry(resources);
  entry["accessPolicies"] = {
    ...((entry["accessPolicies"] ?? {}) as Mutable),
    extra: { policyArn: `arn:aws:eks::aws:cluster-access-policy/${policy}`, accessScope },
  };
  return resources;
}

function dlqAlarm(resources: Resources): RecordedResource {
  const dlqName = deadLetterQueue(resources).props["name"];
  return find(
    resources,
    "DLQ alarm",
    (r) => r.type === T.alarm && (r.props["dimensions"] as Mutable | undefined)?.["QueueName"] === dlqName,
  );
}

function topicPolicy(resources: Resources): RecordedResource {
  return find(resources, "topic policy", ofType(T.topicPolicy));
}

function key(resources: Resources): RecordedResource {
  return find(resources, "KMS key", ofType(T.key));
}

function consumerNamespace(resources: Resources): RecordedResource {
  const name = namespaceOf(resources);
  return find(
    resources,
    "consumer namespace",
    (r) => r.type === T.namespace && (r.props["metadata"] as Mutable)["name"] === name,
  );
}

function labels(resource: RecordedResource): Mutable {
  return (resource.props["metadata"] as Mutable)["labels"] as Mutable;
}

/** A restricted-compliant pod spec running `image`. */
function restrictedPod(image: string): Mutable {
  return {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
    containers: [
      {
        name: "main",
        image,
        resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "16Mi" } },
        securityContext: {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
        },
      },
    ],
  };
}

function consumerImage(resources: Resources): string {
  return String(container(resources).fields["image"]);
}

const add = (resources: Resources, type: string, name: string, p: Mutable): Resources => [
  ...resources,
  extraResource(resources, type, name, p),
];

const role = (account: string, name: string) => `arn:aws:iam::${account}:role/${name}`;

const RBAC = "rbac.authorization.k8s.io";

/** The stack's admission policy and its binding: the fence around developers' writes. */
function admissionPolicy(resources: Resources): RecordedResource {
  return find(resources, "ValidatingAdmissionPolicy", ofType(T.vap));
}
function admissionBinding(resources: Resources): RecordedResource {
  return find(resources, "ValidatingAdmissionPolicyBinding", ofType(T.vapBinding));
}

/** A Service of the stack, whatever its purpose. */
function service(resources: Resources): RecordedResource {
  return find(resources, "Service", ofType(T.service));
}

export const WEAKENINGS: readonly Mutation[] = [
  // IAM, spelled every way AWS lets a policy reach a role.
  {
    surface: "access",
    name: "exclusive-attachments-sqs-full-access",
    expectedPolicy: "role-least-privilege",
    description: "AmazonSQSFullAccess reaches the consumer's role through RolePolicyAttachmentsExclusive",
    apply: (r) =>
      add(r, T.exclusive, "consumer-exclusive", {
        roleName: consumerRole(r).props["name"],
        policyArns: ["arn:aws:iam::aws:policy/AmazonSQSFullAccess"],
      }),
  },
  {
    surface: "access",
    name: "role-managed-policy-arns",
    expectedPolicy: "role-least-privilege",
    description: "the consumer's Role lists AmazonS3ReadOnlyAccess in managedPolicyArns",
    apply: (r) => {
      props(consumerRole(r))["managedPolicyArns"] = ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"];
      return r;
    },
  },
  {
    surface: "access",
    name: "role-inline-send-message",
    expectedPolicy: "role-least-privilege",
    description: "the consumer's Role gains an inlinePolicies entry allowing sqs:SendMessage on its queue",
    apply: (r) => {
      props(consumerRole(r))["inlinePolicies"] = [
        {
          name: "send",
          policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "sqs:SendMessage", Resource: sourceQueue(r).props["arn"] }],
          }),
        },
      ];
      return r;
    },
  },
  {
    surface: "access",
    name: "customer-policy-sqs-star",
    expectedPolicy: "role-least-privilege",
    description: "an aws.iam.Policy allowing sqs:* on the queue is attached to the consumer's role by ARN",
    apply: (r) => {
      const arn = `arn:aws:iam::123456789012:policy/consumer-extra`;
      const withPolicy = add(r, T.policy, "consumer-extra", {
        arn,
        name: "consumer-extra",
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "sqs:*", Resource: sourceQueue(r).props["arn"] }],
        }),
      });
      return add(withPolicy, T.attachment, "consumer-extra-attach", {
        role: consumerRole(r).props["name"],
        policyArn: arn,
      });
    },
  },
  {
    surface: "access",
    name: "region-wildcard-resource",
    expectedPolicy: "role-least-privilege",
    description: "the consumer's role policy names its queue with a region wildcard",
    apply: (r) => {
      editDocument(rolePolicyOf(r, consumerRole(r)), "policy", (d) => {
        for (const s of statementsOf(d)) s["Resource"] = String(s["Resource"]).replace(/:sqs:[^:]+:/, ":sqs:*:");
      });
      return r;
    },
  },
  {
    surface: "access",
    name: "node-role-ec2-full-access",
    expectedPolicy: "role-least-privilege",
    description: "the node role gets AmazonEC2FullAccess, which every pod on the node could use",
    apply: (r) =>
      add(r, T.attachment, "node-ec2", {
        role: nodeRole(r).props["name"],
        policyArn: "arn:aws:iam::aws:policy/AmazonEC2FullAccess",
      }),
  },
  {
    surface: "access",
    name: "scaler-receives-messages",
    expectedPolicy: "scaler-role-reads-queue-attributes-only",
    description: "the scaler's role policy also allows sqs:ReceiveMessage",
    apply: (r) => {
      editDocument(rolePolicyOf(r, scalerRole(r)), "policy", (d) => {
        for (const s of statementsOf(d)) s["Action"] = [...listOf(s["Action"]), "sqs:ReceiveMessage"];
      });
      return r;
    },
  },
  {
    surface: "access",
    name: "user-policy-admin",
    expectedPolicy: "unknown-resource-reviewed",
    description: "an aws.iam.UserPolicy gives a user AdministratorAccess-like rights",
    apply: (r) =>
      add(r, T.userPolicy, "ops-user", {
        user: "ops",
        policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }),
      }),
  },
  {
    surface: "access",
    name: "sso-managed-policy-attachment",
    expectedPolicy: "unknown-resource-reviewed",
    description: "an Identity Center permission set gets AdministratorAccess (ssoadmin.ManagedPolicyAttachment)",
    apply: (r) =>
      add(r, T.ssoAttachment, "admins", {
        instanceArn: "arn:aws:sso:::instance/ssoins-1",
        permissionSetArn: "arn:aws:sso:::permissionSet/ssoins-1/ps-1",
        managedPolicyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
      }),
  },
  // Trust.
  {
    surface: "trust",
    name: "irsa-sub-string-like-namespace",
    expectedPolicy: "role-trust-pinned",
    description: "the consumer role's :sub becomes StringLike system:serviceaccount:<ns>:*",
    apply: (r) => {
      editDocument(consumerRole(r), "assumeRolePolicy", (d) => {
        for (const s of statementsOf(d)) {
          const equals = (s["Condition"] as Mutable | undefined)?.["StringEquals"] as Mutable | undefined;
          const sub = Object.keys(equals ?? {}).find((k) => k.endsWith(":sub"));
          if (equals === undefined || sub === undefined) throw new NoTarget("no IRSA :sub");
          const value = String(equals[sub]).replace(/:[^:]+$/, ":*");
          delete equals[sub];
          (s["Condition"] as Mutable)["StringLike"] = { [sub]: value };
        }
      });
      return r;
    },
  },
  {
    surface: "trust",
    name: "trust-own-account-root",
    expectedPolicy: "role-trust-pinned",
    description: "the consumer role also trusts its own account's root",
    apply: (r) => {
      editDocument(consumerRole(r), "assumeRolePolicy", (d) =>
        addStatement(d, {
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::123456789012:root" },
          Action: "sts:AssumeRole",
        }),
      );
      return r;
    },
  },
  {
    surface: "trust",
    name: "pod-identity-any-cluster",
    expectedPolicy: "role-trust-pinned",
    description: "the Pod Identity trust drops its eks-cluster-arn pin, so any cluster's association can use it",
    apply: (r) => {
      editDocument(consumerRole(r), "assumeRolePolicy", (d) => {
        for (const s of statementsOf(d)) {
          const equals = (s["Condition"] as Mutable | undefined)?.["StringEquals"] as Mutable | undefined;
          if (equals?.["aws:RequestTag/eks-cluster-arn"] === undefined) throw new NoTarget("no Pod Identity trust");
          delete equals["aws:RequestTag/eks-cluster-arn"];
        }
      });
      return r;
    },
  },
  // Roles from outside the stack.
  {
    surface: "identity",
    name: "service-account-foreign-role",
    expectedPolicy: "workload-role-in-stack",
    description: "the consumer's service account is annotated with another account's role",
    apply: (r) => {
      const sa = find(r, "annotated service account", (x) => x.type === T.serviceAccount);
      const metadata = props(sa)["metadata"] as Mutable;
      metadata["annotations"] = { "eks.amazonaws.com/role-arn": role(OTHER_ACCOUNT, "data-admin") };
      return r;
    },
  },
  {
    surface: "identity",
    name: "pod-identity-foreign-role",
    expectedPolicy: "workload-role-in-stack",
    description: "the Pod Identity association names a role the stack does not define",
    apply: (r) => {
      props(find(r, "Pod Identity association", ofType(T.pia)))["roleArn"] = role("123456789012", "platform-admin");
      return r;
    },
  },
  {
    surface: "identity",
    name: "pod-identity-target-role",
    expectedPolicy: "workload-role-in-stack",
    description: "the Pod Identity association chains into another account's role with targetRoleArn",
    apply: (r) => {
      props(find(r, "Pod Identity association", ofType(T.pia)))["targetRoleArn"] = role(OTHER_ACCOUNT, "reader");
      return r;
    },
  },
  {
    surface: "identity",
    name: "trigger-authentication-foreign-role",
    expectedPolicy: "workload-role-in-stack",
    description: "the TriggerAuthentication's roleArn names a role outside the stack",
    apply: (r) => {
      ((props(triggerAuthentication(r))["spec"] as Mutable)["podIdentity"] as Mutable)["roleArn"] = role(
        "123456789012",
        "keda-everything",
      );
      return r;
    },
  },
  {
    surface: "identity",
    name: "env-aws-role-arn",
    expectedPolicy: "workload-role-in-stack",
    description: "the consumer container sets AWS_ROLE_ARN to another role",
    apply: (r) => {
      const { fields } = container(r);
      fields["env"] = [...listOf(fields["env"]), { name: "AWS_ROLE_ARN", value: role(OTHER_ACCOUNT, "x") }];
      return r;
    },
  },
  {
    surface: "identity",
    name: "chart-values-foreign-operator-role",
    expectedPolicy: "workload-role-in-stack",
    description: "KEDA's chart values give the operator a role the stack does not define",
    apply: (r) => {
      const values = props(find(r, "chart", ofType(T.chart)))["values"] as Mutable;
      values["podIdentity"] = { aws: { irsa: { enabled: true, roleArn: role("123456789012", "keda-admin") } } };
      return r;
    },
  },
  // KEDA.
  {
    surface: "autoscaling",
    name: "trigger-authentication-secret-keys",
    expectedPolicy: "keda-trigger-credentials",
    description:
      "the TriggerAuthentication reads awsAccessKeyID/awsSecretAccessKey from a Secret instead of podIdentity",
    apply: (r) => {
      props(triggerAuthentication(r))["spec"] = {
        secretTargetRef: [
          { parameter: "awsAccessKeyID", name: "keda-aws", key: "id" },
          { parameter: "awsSecretAccessKey", name: "keda-aws", key: "secret" },
        ],
      };
      return r;
    },
  },
  {
    surface: "autoscaling",
    name: "trigger-authentication-env-secret",
    expectedPolicy: "keda-trigger-credentials",
    description: "the TriggerAuthentication maps awsSecretAccessKey from the workload's env",
    apply: (r) => {
      const spec = props(triggerAuthentication(r))["spec"] as Mutable;
      spec["env"] = [{ parameter: "awsSecretAccessKey", name: "SECRET", containerName: "consumer" }];
      return r;
    },
  },
  {
    surface: "autoscaling",
    name: "trigger-identity-owner-pod",
    expectedPolicy: "keda-trigger-credentials",
    description: "the SQS trigger's metadata sets identityOwner: pod",
    apply: (r) => {
      (firstTrigger(r)["metadata"] as Mutable)["identityOwner"] = "pod";
      return r;
    },
  },
  {
    surface: "autoscaling",
    name: "trigger-without-authentication",
    expectedPolicy: "keda-trigger-credentials",
    description: "the SQS trigger loses its authenticationRef",
    apply: (r) => {
      delete firstTrigger(r)["authenticationRef"];
      return r;
    },
  },
  {
    surface: "autoscaling",
    name: "trigger-keys-from-env",
    expectedPolicy: "keda-trigger-credentials",
    description: "the SQS trigger's metadata reads awsAccessKeyIDFromEnv",
    apply: (r) => {
      (firstTrigger(r)["metadata"] as Mutable)["awsAccessKeyIDFromEnv"] = "AWS_ACCESS_KEY_ID";
      return r;
    },
  },
  {
    surface: "autoscaling",
    name: "scaled-object-unbounded",
    expectedPolicy: "scaled-object-bounded-max",
    description: "the ScaledObject's maxReplicaCount is removed",
    apply: (r) => {
      delete (props(scaledObject(r))["spec"] as Mutable)["maxReplicaCount"];
      return r;
    },
  },
  // The cluster: endpoint, access entries, RBAC, admission.
  {
    surface: "cluster",
    name: "endpoint-open-to-internet",
    expectedPolicy: "cluster-endpoint-restricted",
    description: "the API endpoint's publicAccessCidrs become 0.0.0.0/0",
    apply: (r) => {
      Object.assign(props(cluster(r)), { endpointPublicAccess: true, publicAccessCidrs: ["0.0.0.0/0"] });
      return r;
    },
  },
  {
    surface: "cluster",
    name: "endpoint-two-halves",
    expectedPolicy: "cluster-endpoint-restricted",
    description: "the endpoint admits 0.0.0.0/1 and 128.0.0.0/1",
    apply: (r) => {
      Object.assign(props(cluster(r)), { endpointPublicAccess: true, publicAccessCidrs: ["0.0.0.0/1", "128.0.0.0/1"] });
      return r;
    },
  },
  {
    surface: "cluster",
    name: "endpoint-public-default-cidrs",
    expectedPolicy: "cluster-endpoint-restricted",
    description: "the endpoint is public and the CIDR list is dropped (EKS then admits everyone)",
    apply: (r) => {
      const c = props(cluster(r));
      c["endpointPublicAccess"] = true;
      delete c["publicAccessCidrs"];
      return r;
    },
  },
  {
    surface: "cluster",
    name: "developer-access-cluster-wide",
    expectedPolicy: "cluster-access-scoped",
    description: "a developer's entry gains AmazonEKSEditPolicy for the whole cluster",
    apply: (r) => associate(r, "AmazonEKSEditPolicy", { type: "cluster" }),
  },
  {
    surface: "cluster",
    name: "developer-access-kube-system",
    expectedPolicy: "cluster-access-scoped",
    description: "a developer's entry gains AmazonEKSEditPolicy in kube-system",
    apply: (r) => associate(r, "AmazonEKSEditPolicy", { type: "namespace", namespaces: ["kube-system"] }),
  },
  {
    surface: "cluster",
    name: "developer-access-project-prefix",
    expectedPolicy: "cluster-access-scoped",
    description:
      "a developer's entry gains AmazonEKSEditPolicy on a prefix pattern that also matches the platform's consumer namespace",
    apply: (r) =>
      associate(r, "AmazonEKSEditPolicy", {
        type: "namespace",
        namespaces: [`${String(namespaceOf(r)).split("-").slice(0, -1).join("-")}-*`],
      }),
  },
  {
    surface: "cluster",
    name: "access-entry-system-masters",
    expectedPolicy: "cluster-access-scoped",
    description: "a new AccessEntry puts a role in system:masters",
    apply: (r) =>
      add(r, T.accessEntry, "break-glass", {
        clusterName: props(cluster(r))["name"],
        principalArn: role("123456789012", "support"),
        kubernetesGroups: ["system:masters"],
      }),
  },
  {
    surface: "cluster",
    name: "cluster-admin-binding",
    expectedPolicy: "rbac-least-privilege",
    description: "a ClusterRoleBinding binds a group to cluster-admin",
    apply: (r) =>
      add(r, T.clusterRoleBinding, "support-admin", {
        metadata: { name: "support-admin" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
        subjects: [{ kind: "Group", name: "support", apiGroup: "rbac.authorization.k8s.io" }],
      }),
  },
  {
    surface: "cluster",
    name: "cluster-role-reads-secrets",
    expectedPolicy: "rbac-least-privilege",
    description: "a ClusterRole lists and reads Secrets everywhere",
    apply: (r) =>
      add(r, T.clusterRole, "secret-reader", {
        metadata: { name: "secret-reader" },
        rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list"] }],
      }),
  },
  {
    surface: "cluster",
    name: "developer-fence-warn-only",
    expectedPolicy: "admission-policy-enforced",
    description: "the developers' ValidatingAdmissionPolicyBinding only warns (validationActions [Warn])",
    apply: (r) => {
      const binding = find(r, "admission policy binding", ofType(T.vapBinding));
      (props(binding)["spec"] as Mutable)["validationActions"] = ["Warn"];
      return r;
    },
  },
  {
    surface: "cluster",
    name: "developer-fence-fails-open",
    expectedPolicy: "admission-policy-enforced",
    description: "the developers' ValidatingAdmissionPolicy sets failurePolicy Ignore",
    apply: (r) => {
      (props(find(r, "admission policy", ofType(T.vap)))["spec"] as Mutable)["failurePolicy"] = "Ignore";
      return r;
    },
  },
  {
    surface: "cluster",
    name: "developer-bind-any-role",
    expectedPolicy: "rbac-least-privilege",
    description: "the developers' ClusterRole may bind any ClusterRole (bind without resourceNames)",
    apply: (r) => {
      const role = find(
        r,
        "ClusterRole with a bind rule",
        (x) => x.type === T.clusterRole && JSON.stringify(x.props["rules"] ?? []).includes('"bind"'),
      );
      for (const rule of listOf(props(role)["rules"]).filter(isRecord))
        if (listOf(rule["verbs"]).includes("bind")) delete (rule as Mutable)["resourceNames"];
      return r;
    },
  },
  {
    surface: "cluster",
    name: "developer-group-system-masters",
    expectedPolicy: "cluster-access-scoped",
    description: "the developer's entry also maps to system:masters",
    apply: (r) => {
      const entry = developerEntry(r);
      entry["kubernetesGroups"] = [...listOf(entry["kubernetesGroups"]), "system:masters"];
      return r;
    },
  },
  {
    surface: "cluster",
    name: "admission-binding-audit-only",
    expectedPolicy: "admission-policy-enforced",
    description: "a ValidatingAdmissionPolicy is bound with validationActions [Audit]",
    apply: (r) =>
      add(
        add(r, T.vap, "fence", {
          metadata: { name: "fence" },
          spec: { validations: [{ expression: "true" }] },
        }),
        T.vapBinding,
        "fence",
        { metadata: { name: "fence" }, spec: { policyName: "fence", validationActions: ["Audit"] } },
      ),
  },
  // Network.
  {
    surface: "network",
    name: "metrics-service-load-balancer",
    expectedPolicy: "workload-not-internet-facing",
    description: "the metrics Service becomes type LoadBalancer",
    apply: (r) => {
      const spec = props(find(r, "Service", ofType(T.service)))["spec"] as Mutable;
      spec["type"] = "LoadBalancer";
      return r;
    },
  },
  {
    surface: "network",
    name: "security-group-https-anywhere",
    expectedPolicy: "workload-not-internet-facing",
    description: "a security group admits 0.0.0.0/0 on 443",
    apply: (r) =>
      add(r, T.securityGroup, "open", {
        ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }],
      }),
  },
  {
    surface: "network",
    name: "network-acl-rule-anywhere",
    expectedPolicy: "unknown-resource-reviewed",
    description: "a network ACL rule admits 0.0.0.0/0",
    apply: (r) =>
      add(r, T.nacl, "open", {
        networkAclId: "acl-1",
        ruleNumber: 100,
        egress: false,
        protocol: "-1",
        ruleAction: "allow",
        cidrBlock: "0.0.0.0/0",
      }),
  },
  // SNS, KMS, ECR, S3.
  {
    surface: "topics",
    name: "topic-anyone-publishes-subscribes",
    expectedPolicy: "resource-policy-not-public",
    description: "the alarm topic's policy lets * publish and subscribe",
    apply: (r) => {
      editDocument(topicPolicy(r), "policy", (d) =>
        addStatement(d, {
          Effect: "Allow",
          Principal: { AWS: "*" },
          Action: ["sns:Publish", "sns:Subscribe"],
          Resource: "*",
        }),
      );
      return r;
    },
  },
  {
    surface: "topics",
    name: "topic-cloudwatch-unconditioned",
    expectedPolicy: "resource-policy-not-public",
    description: "the topic's CloudWatch statement loses its source conditions (any account's alarms may publish)",
    apply: (r) => {
      editDocument(topicPolicy(r), "policy", (d) => {
        for (const s of statementsOf(d)) if (s["Effect"] === "Allow") delete s["Condition"];
      });
      return r;
    },
  },
  {
    surface: "topics",
    name: "key-policy-drops-cloudwatch",
    expectedPolicy: "alarm-topic-deliverable",
    description: "the alarm key's policy no longer lets CloudWatch use the key",
    apply: (r) => {
      editDocument(key(r), "policy", (d) => {
        d["Statement"] = statementsOf(d).filter((s) => !JSON.stringify(s["Principal"]).includes("cloudwatch"));
      });
      return r;
    },
  },
  {
    surface: "topics",
    name: "key-policy-decrypt-only",
    expectedPolicy: "alarm-topic-deliverable",
    description: "the alarm key lets CloudWatch decrypt but not generate data keys",
    apply: (r) => {
      editDocument(key(r), "policy", (d) => {
        for (const s of statementsOf(d))
          if (JSON.stringify(s["Principal"]).includes("cloudwatch")) s["Action"] = "kms:Decrypt";
      });
      return r;
    },
  },
  {
    surface: "topics",
    name: "topic-aws-managed-key",
    expectedPolicy: "alarm-topic-deliverable",
    description: "the alarm topic is encrypted with alias/aws/sns",
    apply: (r) => {
      props(find(r, "topic", ofType(T.topic)))["kmsMasterKeyId"] = "alias/aws/sns";
      return r;
    },
  },
  {
    surface: "topics",
    name: "topic-policy-drops-cloudwatch",
    expectedPolicy: "alarm-topic-deliverable",
    description: "the topic policy keeps only its TLS deny, so CloudWatch may no longer publish",
    apply: (r) => {
      editDocument(topicPolicy(r), "policy", (d) => {
        d["Statement"] = statementsOf(d).filter((s) => s["Effect"] === "Deny");
      });
      return r;
    },
  },
  {
    surface: "topics",
    name: "key-policy-other-account",
    expectedPolicy: "resource-policy-not-public",
    description: "the alarm key's policy lets another account decrypt",
    apply: (r) => {
      editDocument(key(r), "policy", (d) =>
        addStatement(d, {
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${OTHER_ACCOUNT}:root` },
          Action: "kms:Decrypt",
          Resource: "*",
        }),
      );
      return r;
    },
  },
  {
    surface: "images",
    name: "ecr-repository-policy-public-pull",
    expectedPolicy: "resource-policy-not-public",
    description: "a RepositoryPolicy lets * pull the consumer's image",
    apply: (r) =>
      add(r, T.repositoryPolicy, "public-pull", {
        repository: find(r, "ECR repository", ofType("aws:ecr/repository:Repository")).props["name"],
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: "*", Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"] }],
        }),
      }),
  },
  {
    surface: "images",
    name: "image-from-other-account-ecr",
    expectedPolicy: "image-from-allowed-registry",
    description: "the consumer runs an image (by digest) from another account's ECR",
    apply: (r) => {
      const { fields } = container(r);
      fields["image"] = consumerImage(r).replace(/^\d{12}\./, `${OTHER_ACCOUNT}.`);
      return r;
    },
  },
  {
    surface: "images",
    name: "cron-job-docker-hub-tag",
    expectedPolicy: "image-pinned-by-digest",
    description: "a CronJob runs busybox:latest",
    apply: (r) =>
      add(r, T.cronJob, "cleanup", {
        metadata: { name: "cleanup", namespace: namespaceOf(r) },
        spec: { schedule: "0 * * * *", jobTemplate: { spec: { template: { spec: restrictedPod("busybox:latest") } } } },
      }),
  },
  // Alarms.
  {
    surface: "alarms",
    name: "dlq-alarm-sample-count",
    expectedPolicy: "dlq-alarmed",
    description: "the DLQ alarm's statistic becomes SampleCount (a datapoint count, the same for an empty DLQ)",
    apply: (r) => {
      props(dlqAlarm(r))["statistic"] = "SampleCount";
      return r;
    },
  },
  {
    surface: "alarms",
    name: "dlq-alarm-threshold-five",
    expectedPolicy: "dlq-alarmed",
    description: "the DLQ alarm fires only above 5 messages",
    apply: (r) => {
      props(dlqAlarm(r))["threshold"] = 5;
      return r;
    },
  },
  {
    surface: "alarms",
    name: "dlq-alarm-a-day-late",
    expectedPolicy: "dlq-alarmed",
    description: "the DLQ alarm needs 1440 one-minute periods",
    apply: (r) => {
      Object.assign(props(dlqAlarm(r)), { evaluationPeriods: 1440, datapointsToAlarm: 1440 });
      return r;
    },
  },
  {
    surface: "alarms",
    name: "dlq-alarm-missing-breaching",
    expectedPolicy: "dlq-alarmed",
    description: "the DLQ alarm treats missing data as breaching (stuck in ALARM on an idle queue)",
    apply: (r) => {
      props(dlqAlarm(r))["treatMissingData"] = "breaching";
      return r;
    },
  },
  {
    surface: "alarms",
    name: "dlq-alarm-ok-actions-only",
    expectedPolicy: "dlq-alarmed",
    description: "the DLQ alarm keeps its okActions but loses its alarmActions",
    apply: (r) => {
      props(dlqAlarm(r))["alarmActions"] = [];
      return r;
    },
  },
  {
    surface: "alarms",
    name: "dlq-alarm-less-than",
    expectedPolicy: "dlq-alarmed",
    description: "the DLQ alarm's operator flips to LessThanOrEqualToThreshold 0",
    apply: (r) => {
      props(dlqAlarm(r))["comparisonOperator"] = "LessThanOrEqualToThreshold";
      return r;
    },
  },
  // Pods and namespaces.
  {
    surface: "pods",
    name: "namespace-enforce-version-old",
    expectedPolicy: "namespace-enforces-restricted",
    description: "the consumer namespace pins pod-security enforce-version v1.22",
    apply: (r) => {
      labels(consumerNamespace(r))["pod-security.kubernetes.io/enforce-version"] = "v1.22";
      return r;
    },
  },
  {
    surface: "pods",
    name: "namespace-patch-privileged",
    expectedPolicy: "namespace-enforces-restricted",
    description: "a NamespacePatch sets the consumer namespace's enforce label to privileged",
    apply: (r) =>
      add(r, T.namespacePatch, "relax", {
        metadata: { name: namespaceOf(r), labels: { "pod-security.kubernetes.io/enforce": "privileged" } },
      }),
  },
  {
    surface: "pods",
    name: "deployment-patch-host-network",
    expectedPolicy: "pod-security-restricted",
    description: "a DeploymentPatch turns on hostNetwork for the consumer",
    apply: (r) =>
      add(r, T.deploymentPatch, "host-net", {
        metadata: { name: (deployment(r).props["metadata"] as Mutable)["name"], namespace: namespaceOf(r) },
        spec: { template: { spec: { hostNetwork: true } } },
      }),
  },
  {
    surface: "pods",
    name: "daemon-set-host-path",
    expectedPolicy: "pod-security-restricted",
    description: "a DaemonSet mounts the node's / with hostPath",
    apply: (r) => {
      const spec = restrictedPod(consumerImage(r));
      spec["volumes"] = [{ name: "root", hostPath: { path: "/" } }];
      return add(r, T.daemonSet, "node-agent", {
        metadata: { name: "node-agent", namespace: namespaceOf(r) },
        spec: { template: { spec } },
      });
    },
  },
  {
    surface: "pods",
    name: "stateful-set-writable-root",
    expectedPolicy: "container-read-only-root-filesystem",
    description: "a StatefulSet's container has a writable root filesystem",
    apply: (r) => {
      const spec = restrictedPod(consumerImage(r));
      ((listOf(spec["containers"])[0] as Mutable)["securityContext"] as Mutable)["readOnlyRootFilesystem"] = false;
      return add(r, T.statefulSet, "cache", {
        metadata: { name: "cache", namespace: namespaceOf(r) },
        spec: { template: { spec } },
      });
    },
  },
  {
    surface: "pods",
    name: "rollout-privileged",
    expectedPolicy: "unknown-resource-reviewed",
    description: "an Argo Rollout (a kind the pack does not know) runs a privileged pod",
    apply: (r) => {
      const spec = restrictedPod(consumerImage(r));
      ((listOf(spec["containers"])[0] as Mutable)["securityContext"] as Mutable)["privileged"] = true;
      return add(r, T.rollout, "canary", {
        metadata: { name: "canary", namespace: namespaceOf(r) },
        spec: { template: { spec } },
      });
    },
  },
  {
    surface: "pods",
    name: "mutating-webhook",
    expectedPolicy: "unknown-resource-reviewed",
    description: "a MutatingWebhookConfiguration could rewrite every pod after the pack judged it",
    apply: (r) =>
      add(r, T.webhook, "injector", {
        metadata: { name: "injector" },
        webhooks: [
          {
            name: "inject.example.com",
            clientConfig: { url: "https://example.com" },
            rules: [{ operations: ["CREATE"], resources: ["pods"] }],
          },
        ],
      }),
  },
  {
    surface: "pods",
    name: "helm-release",
    expectedPolicy: "packaged-objects-visible",
    description: "a helm.v3.Release installs a chart whose objects the pack never sees",
    apply: (r) =>
      add(r, T.release, "extras", { chart: "oci://example.com/charts/extras", version: "1.0.0", namespace: "extras" }),
  },
  // Queues and credentials.
  {
    surface: "queues",
    name: "queue-policy-account-allow",
    expectedPolicy: "queue-policy-grants-nothing",
    description: "the source queue's policy allows * SendMessage under an aws:SourceAccount condition",
    apply: (r) => {
      const q = sourceQueue(r);
      editDocument(designatedPolicy(r, q), "policy", (d) =>
        addStatement(d, {
          Effect: "Allow",
          Principal: "*",
          Action: "sqs:SendMessage",
          Resource: q.props["arn"],
          Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } },
        }),
      );
      return r;
    },
  },
  {
    surface: "queues",
    name: "dlq-encryption-off",
    expectedPolicy: "queue-encrypted",
    description: "the DLQ turns SQS-managed encryption off",
    apply: (r) => {
      props(deadLetterQueue(r))["sqsManagedSseEnabled"] = false;
      return r;
    },
  },
  {
    surface: "credentials",
    name: "chart-values-access-key",
    expectedPolicy: "no-static-aws-credentials",
    description: "KEDA's chart values carry an access key pair for the operator",
    apply: (r) => {
      const values = props(find(r, "chart", ofType(T.chart)))["values"] as Mutable;
      values["env"] = [
        { name: "AWS_ACCESS_KEY_ID", value: EXAMPLE_KEY_ID },
        { name: "AWS_SECRET_ACCESS_KEY", value: EXAMPLE_SECRET },
      ];
      return r;
    },
  },
  {
    surface: "unknown",
    name: "bucket-policy-public",
    expectedPolicy: "resource-policy-not-public",
    description: "an S3 BucketPolicy lets * read the bucket",
    apply: (r) =>
      add(r, T.bucketPolicy, "exports", {
        bucket: "exports",
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::exports/*" }],
        }),
      }),
  },
  // Spellings that admit the internet without writing 0.0.0.0/0, hosts reached through objects, roles by effect.
  {
    surface: "network",
    name: "ingress-rule-ipv4-quarters",
    expectedPolicy: "workload-not-internet-facing",
    description: "a security group ingress rule admits 0.0.0.0/2, 64.0.0.0/2, 128.0.0.0/2 and 192.0.0.0/2 on 443",
    apply: (r) =>
      add(r, T.securityGroup, "quarters", {
        vpcId: "vpc-1",
        ingress: [
          {
            protocol: "tcp",
            fromPort: 443,
            toPort: 443,
            cidrBlocks: ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"],
          },
        ],
      }),
  },
  {
    surface: "network",
    name: "ingress-rule-ipv6-global-unicast",
    expectedPolicy: "workload-not-internet-facing",
    description: "an ingress rule resource admits 2000::/3, every global IPv6 address, without writing ::/0",
    apply: (r) =>
      add(r, T.ingressRule, "ipv6-global", {
        securityGroupId: "sg-1",
        cidrIpv6: "2000::/3",
        fromPort: 8080,
        toPort: 8080,
        ipProtocol: "tcp",
      }),
  },
  {
    surface: "network",
    name: "load-balancer-source-range-slash-4",
    expectedPolicy: "workload-not-internet-facing",
    description: "a Service becomes a LoadBalancer whose source range is 64.0.0.0/4",
    apply: (r) => {
      const spec = props(service(r))["spec"] as Mutable;
      spec["type"] = "LoadBalancer";
      spec["loadBalancerSourceRanges"] = ["64.0.0.0/4"];
      return r;
    },
  },
  {
    surface: "network",
    name: "service-external-ip",
    expectedPolicy: "workload-not-internet-facing",
    description: "a ClusterIP Service claims an external IP, which every node then forwards to its pods",
    apply: (r) => {
      (props(service(r))["spec"] as Mutable)["externalIPs"] = ["198.51.100.7"];
      return r;
    },
  },
  {
    surface: "pods",
    name: "local-persistent-volume-claimed",
    expectedPolicy: "pod-security-restricted",
    description: "a local PersistentVolume on the kubelet's directory is claimed and mounted by the consumer",
    apply: (r) => {
      const ns = namespaceOf(r);
      const spec = podSpec(r);
      spec["volumes"] = [...listOf(spec["volumes"]), { name: "node", persistentVolumeClaim: { claimName: "node" } }];
      const withVolume = add(r, T.persistentVolume, "node-disk", {
        metadata: { name: "node-disk" },
        spec: {
          capacity: { storage: "10Gi" },
          accessModes: ["ReadWriteOnce"],
          local: { path: "/var/lib/kubelet" },
          claimRef: { namespace: ns, name: "node" },
        },
      });
      return add(withVolume, T.persistentVolumeClaim, "node", {
        metadata: { name: "node", namespace: ns },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } }, volumeName: "node-disk" },
      });
    },
  },
  {
    surface: "cluster",
    name: "admin-for-foreign-service-account",
    expectedPolicy: "rbac-least-privilege",
    description:
      "a RoleBinding in the consumer's namespace gives ClusterRole admin to a service account of another namespace",
    apply: (r) =>
      add(r, T.roleBinding, "ci-admin", {
        metadata: { name: "ci-admin", namespace: namespaceOf(r) },
        roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: "admin" },
        subjects: [{ kind: "ServiceAccount", name: "runner", namespace: "ci" }],
      }),
  },
  {
    surface: "cluster",
    name: "role-runs-jobs-in-consumer-namespace",
    expectedPolicy: "rbac-least-privilege",
    description: "a Role in the consumer's namespace may create Jobs, which run as any service account there",
    apply: (r) =>
      add(r, T.namespacedRole, "job-runner", {
        metadata: { name: "job-runner", namespace: namespaceOf(r) },
        rules: [{ apiGroups: ["batch"], resources: ["jobs"], verbs: ["create", "get", "list"] }],
      }),
  },
  {
    surface: "cluster",
    name: "stack-clusterrole-bound-in-consumer-namespace",
    expectedPolicy: "rbac-least-privilege",
    description: "a ClusterRole of the stack that patches StatefulSets is bound to a group in the consumer's namespace",
    apply: (r) => {
      const withRole = add(r, T.clusterRole, "rollout", {
        metadata: { name: "rollout" },
        rules: [{ apiGroups: ["apps"], resources: ["statefulsets"], verbs: ["get", "patch"] }],
      });
      return add(withRole, T.roleBinding, "rollout", {
        metadata: { name: "rollout", namespace: namespaceOf(r) },
        roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: "rollout" },
        subjects: [{ kind: "Group", name: "release-managers", apiGroup: RBAC }],
      });
    },
  },
  {
    surface: "cluster",
    name: "mutating-webhook-writer",
    expectedPolicy: "rbac-least-privilege",
    description: "a ClusterRole may create MutatingWebhookConfigurations",
    apply: (r) =>
      add(r, T.clusterRole, "webhook-writer", {
        metadata: { name: "webhook-writer" },
        rules: [
          {
            apiGroups: ["admissionregistration.k8s.io"],
            resources: ["mutatingwebhookconfigurations"],
            verbs: ["create"],
          },
        ],
      }),
  },
  {
    surface: "cluster",
    name: "signer-approver",
    expectedPolicy: "rbac-least-privilege",
    description: "a ClusterRole may approve for the kube-apiserver-client signer",
    apply: (r) =>
      add(r, T.clusterRole, "signer", {
        metadata: { name: "signer" },
        rules: [
          {
            apiGroups: ["certificates.k8s.io"],
            resources: ["signers"],
            resourceNames: ["kubernetes.io/kube-apiserver-client"],
            verbs: ["approve"],
          },
        ],
      }),
  },
  {
    surface: "cluster",
    name: "default-namespace-service-accounts-bound",
    expectedPolicy: "rbac-least-privilege",
    description: "a ClusterRoleBinding names the group of every service account in namespace default",
    apply: (r) =>
      add(r, T.clusterRoleBinding, "default-sas", {
        metadata: { name: "default-sas" },
        roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: "view" },
        subjects: [{ kind: "Group", name: "system:serviceaccounts:default", apiGroup: RBAC }],
      }),
  },
  {
    surface: "cluster",
    name: "admission-validation-constant",
    expectedPolicy: "admission-policy-enforced",
    description: "the developers' admission policy's validations become one that reads nothing of the request",
    apply: (r) => {
      (props(admissionPolicy(r))["spec"] as Mutable)["validations"] = [{ expression: "1 == 1" }];
      return r;
    },
  },
  {
    surface: "cluster",
    name: "admission-binding-selects-no-namespace",
    expectedPolicy: "admission-policy-enforced",
    description: "the admission binding narrows to namespaces carrying a label no namespace of the stack has",
    apply: (r) => {
      (props(admissionBinding(r))["spec"] as Mutable)["matchResources"] = {
        namespaceSelector: { matchExpressions: [{ key: "fenced", operator: "Exists" }] },
      };
      return r;
    },
  },
  {
    surface: "cluster",
    name: "admission-binding-orphan",
    expectedPolicy: "admission-policy-enforced",
    description: "a second admission binding names a policy the stack does not define",
    apply: (r) =>
      add(r, T.vapBinding, "orphan", {
        metadata: { name: "orphan" },
        spec: { policyName: "somewhere-else", validationActions: ["Deny"] },
      }),
  },
  {
    surface: "credentials",
    name: "prometheus-remote-write-sigv4-keys",
    expectedPolicy: "no-static-aws-credentials",
    description: "a Prometheus object remote-writes with sigv4 access and secret keys from a Secret",
    apply: (r) =>
      add(r, T.prometheus, "amp", {
        metadata: { name: "amp", namespace: namespaceOf(r) },
        spec: {
          remoteWrite: [
            {
              url: "https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1/api/v1/remote_write",
              sigv4: {
                region: "us-west-2",
                accessKey: { name: "amp", key: "a" },
                secretKey: { name: "amp", key: "s" },
              },
            },
          ],
        },
      }),
  },
  {
    surface: "unknown",
    name: "tekton-task-steps",
    expectedPolicy: "unknown-resource-reviewed",
    description: "a Tekton Task runs a privileged step",
    apply: (r) =>
      add(r, T.tektonTask, "build", {
        metadata: { name: "build", namespace: namespaceOf(r) },
        spec: {
          steps: [{ name: "b", image: "gcr.io/kaniko-project/executor", securityContext: { privileged: true } }],
        },
      }),
  },
  {
    surface: "unknown",
    name: "lambda-layer-public",
    expectedPolicy: "unknown-resource-reviewed",
    description: "a Lambda layer version is shared with every account",
    apply: (r) =>
      add(r, T.layerPermission, "layer", {
        layerName: "shared",
        versionNumber: 1,
        action: "lambda:GetLayerVersion",
        principal: "*",
        statementId: "all",
      }),
  },
  {
    surface: "cluster",
    name: "node-class-public-ip",
    expectedPolicy: "node-class-hardened",
    description: "an Auto Mode NodeClass gives its nodes public IP addresses",
    apply: (r) =>
      add(r, T.autoNodeClass, "public", {
        metadata: { name: "public" },
        spec: { role: nodeRole(r).props["name"], advancedNetworking: { associatePublicIPAddress: true } },
      }),
  },
  {
    surface: "cluster",
    name: "ec2-node-class-hop-limit-2",
    expectedPolicy: "node-class-hardened",
    description: "a Karpenter EC2NodeClass raises the metadata hop limit to 2",
    apply: (r) =>
      add(r, T.ec2NodeClass, "hop", {
        metadata: { name: "hop" },
        spec: {
          role: nodeRole(r).props["name"],
          metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 },
        },
      }),
  },
  {
    surface: "cluster",
    name: "node-pool-foreign-node-class",
    expectedPolicy: "node-class-hardened",
    description: "a NodePool launches nodes from a NodeClass the stack does not define",
    apply: (r) =>
      add(r, T.nodePool, "gpu", {
        metadata: { name: "gpu" },
        spec: { template: { spec: { nodeClassRef: { group: "eks.amazonaws.com", kind: "NodeClass", name: "gpu" } } } },
      }),
  },
  // Weakenings the pack does not catch (ACCEPTED_MISSES says why each is accepted).
  {
    surface: "images",
    name: "pull-through-cache-docker-hub",
    expectedPolicy: "image-from-allowed-registry",
    description:
      "an ECR pull-through cache serves Docker Hub under the account's own registry host, and a pod runs from it",
    apply: (r) => {
      const host = consumerImage(r).split("/")[0];
      container(r).fields["image"] = `${host}/docker-hub/library/busybox@sha256:${"c3".repeat(32)}`;
      return add(r, "aws:ecr/pullThroughCacheRule:PullThroughCacheRule", "docker-hub", {
        ecrRepositoryPrefix: "docker-hub",
        upstreamRegistryUrl: "registry-1.docker.io",
      });
    },
  },
  {
    surface: "cluster",
    name: "developer-made-cluster-admin",
    expectedPolicy: "cluster-access-scoped",
    description: "a developer's entry gets AmazonEKSClusterAdminPolicy for the whole cluster",
    apply: (r) => associate(r, "AmazonEKSClusterAdminPolicy", { type: "cluster" }),
  },
  {
    surface: "topics",
    name: "alarm-topic-outside-https",
    expectedPolicy: "resource-policy-not-public",
    description: "the alarm topic gains an https subscription to a third party's endpoint",
    apply: (r) =>
      add(r, T.subscription, "alarms-vendor", {
        topic: find(r, "topic", ofType(T.topic)).props["arn"],
        protocol: "https",
        endpoint: "https://hooks.example.net/alarms",
      }),
  },
];

/** A change that must leave the pack's findings as they were. */
export interface HarmlessChange {
  readonly name: string;
  readonly description: string;
  readonly apply: (resources: Resources) => Resources;
}

export const HARMLESS: readonly HarmlessChange[] = [
  {
    name: "second-admin",
    description: "a second platform administrator gets a cluster-admin access entry",
    apply: (r) => {
      (props(cluster(r))["accessEntries"] as Mutable)["admin-second"] = {
        principalArn: role("123456789012", "platform-oncall"),
        accessPolicies: {
          admin: {
            policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
            accessScope: { type: "cluster" },
          },
        },
      };
      return r;
    },
  },
  {
    name: "preview-view-in-consumer-namespace",
    description: "the CI preview role's view access is narrowed to the consumer's namespace",
    apply: (r) => {
      (props(cluster(r))["accessEntries"] as Mutable)["viewer"] = {
        principalArn: role("123456789012", "auditor"),
        accessPolicies: {
          view: {
            policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
            accessScope: { type: "namespace", namespaces: [namespaceOf(r)] },
          },
        },
      };
      return r;
    },
  },
  {
    name: "developer-second-namespace",
    description: "a developer's entry gains AmazonEKSEditPolicy in a namespace of their own",
    apply: (r) =>
      associate(r, "AmazonEKSEditPolicy", { type: "namespace", namespaces: ["sqs-eks-consumer-alice-feature"] }),
  },
  {
    name: "endpoint-one-office",
    description: "the API endpoint admits one office /24 and one VPN /32",
    apply: (r) => {
      Object.assign(props(cluster(r)), {
        endpointPublicAccess: true,
        publicAccessCidrs: ["198.51.100.0/24", "203.0.113.7/32"],
      });
      return r;
    },
  },
  {
    name: "endpoint-private",
    description: "the API endpoint becomes private",
    apply: (r) => {
      const c = props(cluster(r));
      c["endpointPublicAccess"] = false;
      delete c["publicAccessCidrs"];
      return r;
    },
  },
  {
    name: "dlq-alarm-five-minute-period",
    description: "the DLQ alarm uses 5-minute periods, Sum",
    apply: (r) => {
      Object.assign(props(dlqAlarm(r)), { period: 300, statistic: "Sum" });
      return r;
    },
  },
  {
    name: "dlq-alarm-two-of-three",
    description: "the DLQ alarm fires on 1 of 3 datapoints, threshold >= 1, Average",
    apply: (r) => {
      Object.assign(props(dlqAlarm(r)), {
        evaluationPeriods: 3,
        datapointsToAlarm: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: 1,
        statistic: "Average",
      });
      return r;
    },
  },
  {
    name: "second-email",
    description: "a second email subscription to the alarm topic",
    apply: (r) =>
      add(r, T.subscription, "alarms-email-second", {
        topic: find(r, "topic", ofType(T.topic)).props["arn"],
        protocol: "email",
        endpoint: "oncall@example.com",
      }),
  },
  {
    name: "key-policy-own-role-describe",
    description: "the alarm key's policy lets an operator role of the account describe the key",
    apply: (r) => {
      editDocument(key(r), "policy", (d) =>
        addStatement(d, {
          Effect: "Allow",
          Principal: { AWS: role("123456789012", "operator") },
          Action: "kms:DescribeKey",
          Resource: "*",
        }),
      );
      return r;
    },
  },
  {
    name: "topic-policy-own-account-subscribe",
    description: "the topic policy lets the account's own roles subscribe",
    apply: (r) => {
      editDocument(topicPolicy(r), "policy", (d) =>
        addStatement(d, {
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::123456789012:root" },
          Action: "sns:Subscribe",
          Resource: find(r, "topic", ofType(T.topic)).props["arn"],
        }),
      );
      return r;
    },
  },
  {
    name: "consumer-policy-split",
    description: "the consumer's role policy is split into two statements, actions in lower case",
    apply: (r) => {
      editDocument(rolePolicyOf(r, consumerRole(r)), "policy", (d) => {
        const [first] = statementsOf(d);
        if (first === undefined) throw new NoTarget("no statement");
        const actions = listOf(first["Action"]).map((a) => String(a).toLowerCase());
        d["Statement"] = [
          { ...first, Sid: "Receive", Action: actions.slice(0, 2) },
          { ...first, Sid: "Settle", Action: actions.slice(2) },
        ];
      });
      return r;
    },
  },
  {
    name: "replicas-and-resources",
    description: "more replicas, larger requests and limits",
    apply: (r) => {
      const spec = deployment(r).props["spec"] as Mutable;
      spec["replicas"] = 3;
      container(r).fields["resources"] = { requests: { cpu: "500m", memory: "512Mi" }, limits: { memory: "512Mi" } };
      return r;
    },
  },
  {
    name: "enforce-version-pinned-recent",
    description: "the consumer namespace pins enforce-version v1.33 and gains a team label",
    apply: (r) => {
      const l = labels(consumerNamespace(r));
      l["pod-security.kubernetes.io/enforce-version"] = "v1.33";
      l["team"] = "payments";
      return r;
    },
  },
  {
    name: "scaled-object-tuned",
    description: "the ScaledObject scales to fewer replicas and polls every 30 s",
    apply: (r) => {
      Object.assign(props(scaledObject(r))["spec"] as Mutable, { maxReplicaCount: 3, pollingInterval: 30 });
      return r;
    },
  },
  {
    name: "network-policy",
    description: "a NetworkPolicy limits the consumer's ingress to the metrics port",
    apply: (r) =>
      add(r, T.networkPolicy, "consumer-ingress", {
        metadata: { name: "consumer-ingress", namespace: namespaceOf(r) },
        spec: {
          podSelector: {},
          ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/16" } }], ports: [{ port: 9464 }] }],
          policyTypes: ["Ingress"],
        },
      }),
  },
  {
    name: "plain-config-map",
    description: "a ConfigMap with feature flags",
    apply: (r) =>
      add(r, T.configMap, "flags", {
        metadata: { name: "flags", namespace: namespaceOf(r) },
        data: { FEATURE_X: "on" },
      }),
  },
  {
    name: "read-only-cluster-role",
    description: "a ClusterRole reading named ConfigMaps, bound in one namespace to a group",
    apply: (r) =>
      add(
        add(r, T.clusterRole, "flags-reader", {
          metadata: { name: "flags-reader" },
          rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"], resourceNames: ["flags"] }],
        }),
        T.roleBinding,
        "flags-reader",
        {
          metadata: { name: "flags-reader", namespace: namespaceOf(r) },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "flags-reader" },
          subjects: [{ kind: "Group", name: "payments", apiGroup: "rbac.authorization.k8s.io" }],
        },
      ),
  },
  {
    name: "admission-policy-deny",
    description: "a ValidatingAdmissionPolicy bound with Deny and Audit",
    apply: (r) =>
      add(
        add(r, T.vap, "fence", {
          metadata: { name: "fence" },
          spec: {
            failurePolicy: "Fail",
            matchConstraints: {
              resourceRules: [
                { apiGroups: [""], apiVersions: ["v1"], resources: ["namespaces"], operations: ["CREATE", "UPDATE"] },
              ],
            },
            validations: [{ expression: "!object.metadata.name.startsWith('kube-')" }],
          },
        }),
        T.vapBinding,
        "fence",
        { metadata: { name: "fence" }, spec: { policyName: "fence", validationActions: ["Deny", "Audit"] } },
      ),
  },
  {
    name: "internal-load-balancer",
    description: "the metrics Service becomes an internal LoadBalancer",
    apply: (r) => {
      const service = props(find(r, "Service", ofType(T.service)));
      (service["spec"] as Mutable)["type"] = "LoadBalancer";
      const metadata = service["metadata"] as Mutable;
      metadata["annotations"] = { "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal" };
      return r;
    },
  },
  {
    name: "security-group-from-vpc",
    description: "a security group admits the VPC's CIDR on 443",
    apply: (r) =>
      add(r, T.securityGroup, "internal", {
        ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["10.0.0.0/16"] }],
      }),
  },
  {
    name: "repository-policy-own-role",
    description: "a RepositoryPolicy lets a role of the account pull",
    apply: (r) =>
      add(r, T.repositoryPolicy, "ci-pull", {
        repository: find(r, "ECR repository", ofType("aws:ecr/repository:Repository")).props["name"],
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Principal: { AWS: role("123456789012", "ci") }, Action: ["ecr:BatchGetImage"] },
          ],
        }),
      }),
  },
  {
    name: "new-image-digest",
    description: "the consumer rolls out a new digest of its image",
    apply: (r) => {
      const { fields } = container(r);
      fields["image"] = consumerImage(r).replace(/@sha256:[0-9a-f]{64}$/, `@sha256:${"b2".repeat(32)}`);
      return r;
    },
  },
  {
    name: "dlq-longer-retention",
    description: "the DLQ keeps messages 14 days and the queue 7",
    apply: (r) => {
      props(deadLetterQueue(r))["messageRetentionSeconds"] = 1_209_600;
      props(sourceQueue(r))["messageRetentionSeconds"] = 604_800;
      return r;
    },
  },
  {
    name: "trigger-identity-owner-keda",
    description: "the TriggerAuthentication states identityOwner: keda (KEDA's default)",
    apply: (r) => {
      ((props(triggerAuthentication(r))["spec"] as Mutable)["podIdentity"] as Mutable)["identityOwner"] = "keda";
      return r;
    },
  },
  {
    name: "extra-pod-template-annotation",
    description: "the Deployment's pod template gains an annotation and its pod spec a termination grace period",
    apply: (r) => {
      podSpec(r)["terminationGracePeriodSeconds"] = 60;
      return r;
    },
  },
  {
    name: "consumer-reads-dlq-depth",
    description: "the consumer's role may read the DLQ's attributes (its depth), nothing of its messages",
    apply: (r) => {
      editDocument(rolePolicyOf(r, consumerRole(r)), "policy", (d) =>
        addStatement(d, {
          Effect: "Allow",
          Action: ["SQS:getqueueattributes"],
          Resource: [deadLetterQueue(r).props["arn"]],
        }),
      );
      return r;
    },
  },
  {
    name: "ingress-from-vpc-and-office",
    description: "a security group admits the VPC's private range and one office /24 on 443",
    apply: (r) =>
      add(r, T.securityGroup, "office", {
        vpcId: "vpc-1",
        ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["10.0.0.0/8", "203.0.113.0/24"] }],
      }),
  },
  {
    name: "service-account-reads-own-namespace",
    description: "a RoleBinding gives a service account of the consumer's namespace ClusterRole view there",
    apply: (r) =>
      add(r, T.roleBinding, "reader", {
        metadata: { name: "reader", namespace: namespaceOf(r) },
        roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: "view" },
        subjects: [{ kind: "ServiceAccount", name: "reader", namespace: namespaceOf(r) }],
      }),
  },
  {
    name: "node-class-private-bigger-disk",
    description: "an Auto Mode NodeClass on the stack's node role with more ephemeral storage, and a NodePool on it",
    apply: (r) => {
      const withClass = add(r, T.autoNodeClass, "big-disk", {
        metadata: { name: "big-disk" },
        spec: { role: nodeRole(r).props["name"], ephemeralStorage: { size: "160Gi" } },
      });
      return add(withClass, T.nodePool, "big-disk", {
        metadata: { name: "big-disk" },
        spec: {
          template: { spec: { nodeClassRef: { group: "eks.amazonaws.com", kind: "NodeClass", name: "big-disk" } } },
        },
      });
    },
  },
];

/** Weakenings the pack does not catch, by name, each with why docs/POLICY.md accepts it. */
export const ACCEPTED_MISSES: readonly string[] = [
  "pull-through-cache-docker-hub",
  "developer-made-cluster-admin",
  "alarm-topic-outside-https",
];
