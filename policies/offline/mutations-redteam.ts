/**
 * Red-team variants, written by a reviewer who is not the pack's author, after reading its design
 * (docs/POLICY.md) but not its rule bodies: each weakens one thing a different way than the author's
 * variants do, to find the places a value can hide. Every one must be caught by the rule it names.
 */
import { AWS, K8S } from "../lib/types";
import { KEDA } from "../rules/autoscaling";
import { isRecord, listOf } from "../lib/values";
import {
  container,
  deadLetterQueue,
  designatedPolicy,
  EXAMPLE_KEY_ID,
  editDocument,
  editGrant,
  editTrust,
  extraResource,
  find,
  NoTarget,
  podSpec,
  props,
  sourceQueue,
  workloadRole,
  type Mutable,
  type Mutation,
  type Resources,
} from "./mutation-kit";

// AWS's documented example secret key, split so that secret scanners do not flag this file.
const EXAMPLE_SECRET = ["wJalrXUtnFEMI/K7MDENG/", "bPxRfiCYEXAMPLEKEY"].join("");

function addStatement(document: Mutable, statement: Mutable): void {
  document["Statement"] = [...listOf(document["Statement"]).filter(isRecord), statement];
}

function addTrust(statement: Mutable): (resources: Resources) => Resources {
  return (resources) => {
    editDocument(workloadRole(resources), "assumeRolePolicy", (document) => addStatement(document, statement));
    return resources;
  };
}

function addGrantStatement(statement: Mutable): (resources: Resources) => Resources {
  return (resources) => {
    editGrant(resources, () => undefined);
    const role = workloadRole(resources);
    const holder =
      resources.find(
        (r) => r.type === AWS.rolePolicy && JSON.stringify(r.props["role"]).includes(String(role.props["name"])),
      ) ?? resources.find((r) => r.type === AWS.policy);
    if (holder === undefined) return resources;
    editDocument(holder, "policy", (document) => addStatement(document, statement));
    return resources;
  };
}

function sourceQueueArn(resources: Resources): string {
  return String(props(sourceQueue(resources))["arn"]);
}

function addQueueStatement(
  which: "source" | "dlq",
  statement: (arn: string) => Mutable,
): (resources: Resources) => Resources {
  return (resources) => {
    const queue = which === "source" ? sourceQueue(resources) : deadLetterQueue(resources);
    editDocument(designatedPolicy(resources, queue), "policy", (document) =>
      addStatement(document, statement(String(props(queue)["arn"]))),
    );
    return resources;
  };
}

function podBearing(resources: Resources) {
  return find(resources, "Deployment", (r) => r.type === K8S.deployment);
}

function accountOf(resources: Resources): string {
  return /:(\d{12}):/.exec(sourceQueueArn(resources))?.[1] ?? "123456789012";
}

/** The OIDC provider ARN and issuer of the workload role's web-identity trust. */
function oidcOf(resources: Resources): { providerArn: string; issuer: string } {
  let found: { providerArn: string; issuer: string } | undefined;
  editDocument(workloadRole(resources), "assumeRolePolicy", (document) => {
    for (const statement of listOf(document["Statement"]).filter(isRecord)) {
      const principal = statement["Principal"];
      const federated = isRecord(principal) ? listOf(principal["Federated"]).map(String) : [];
      const providerArn = federated.find((arn) => arn.includes(":oidc-provider/"));
      if (providerArn !== undefined) found = { providerArn, issuer: providerArn.split(":oidc-provider/")[1] ?? "" };
    }
  });
  if (found === undefined) throw new NoTarget("no OIDC provider in the workload role's trust");
  return found;
}

function namespaceOf(resources: Resources): unknown {
  return (podBearing(resources).props["metadata"] as Mutable | undefined)?.["namespace"];
}

function addScaledObject(spec: Mutable): (resources: Resources) => Resources {
  return (resources) => {
    resources.push(
      extraResource(resources, KEDA.scaledObject, "consumer-scaler", {
        metadata: { name: "consumer", namespace: namespaceOf(resources) },
        spec: {
          scaleTargetRef: { name: "consumer" },
          minReplicaCount: 0,
          triggers: [
            { type: "aws-sqs-queue", metadata: { queueURL: props(sourceQueue(resources))["url"], queueLength: "100" } },
          ],
          ...spec,
        },
      }),
    );
    return resources;
  };
}

export const REDTEAM_MUTATIONS: readonly Mutation[] = [
  // Trust: other ways in.
  {
    name: "rt-trust-principal-star-string",
    expectedPolicy: "role-trust-pinned",
    description: 'trust gains {Allow, Principal "*" (string form), sts:AssumeRole}',
    apply: addTrust({ Effect: "Allow", Principal: "*", Action: "sts:AssumeRole" }),
  },
  {
    name: "rt-trust-not-principal",
    expectedPolicy: "role-trust-pinned",
    description: "trust gains {Allow, NotPrincipal: a made-up role, sts:AssumeRole}: everyone else may assume it",
    apply: (resources) =>
      addTrust({
        Effect: "Allow",
        NotPrincipal: { AWS: `arn:aws:iam::${accountOf(resources)}:role/nobody` },
        Action: "sts:AssumeRole",
      })(resources),
  },
  {
    name: "rt-trust-account-root",
    expectedPolicy: "role-trust-pinned",
    description:
      "trust gains the account root as an AWS principal (any IAM identity of the account with sts:AssumeRole)",
    apply: (resources) =>
      addTrust({
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${accountOf(resources)}:root` },
        Action: "sts:AssumeRole",
      })(resources),
  },
  {
    name: "rt-trust-ec2-service",
    expectedPolicy: "role-trust-pinned",
    description: "trust gains the EC2 service: any instance profile made from it hands the consumer's rights to a host",
    apply: addTrust({ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }),
  },
  {
    name: "rt-trust-not-action",
    expectedPolicy: "role-trust-pinned",
    description: "the web-identity statement's Action becomes NotAction sts:AssumeRole (allows every other sts action)",
    apply: (resources) => {
      editDocument(workloadRole(resources), "assumeRolePolicy", (document) => {
        for (const statement of listOf(document["Statement"]).filter(isRecord) as Mutable[]) {
          if (statement["Action"] === "sts:AssumeRoleWithWebIdentity") {
            delete statement["Action"];
            statement["NotAction"] = "sts:AssumeRole";
          }
        }
      });
      return resources;
    },
  },
  {
    name: "rt-trust-second-subject",
    expectedPolicy: "role-trust-pinned",
    description: ":sub accepts a list: the consumer's service account and one in another namespace",
    apply: (resources) => {
      editTrust(resources, (stringEquals, issuer) => {
        stringEquals[`${issuer}:sub`] = [
          ...listOf(stringEquals[`${issuer}:sub`]),
          "system:serviceaccount:default:default",
        ];
      });
      return resources;
    },
  },
  {
    name: "rt-trust-aud-stringlike-star",
    expectedPolicy: "role-trust-pinned",
    description: ':aud moves from StringEquals to StringLike "*"',
    apply: (resources) => {
      editDocument(workloadRole(resources), "assumeRolePolicy", (document) => {
        for (const statement of listOf(document["Statement"]).filter(isRecord) as Mutable[]) {
          const condition = statement["Condition"];
          if (!isRecord(condition) || !isRecord(condition["StringEquals"])) continue;
          const equals = condition["StringEquals"] as Mutable;
          const audKey = Object.keys(equals).find((k) => k.endsWith(":aud"));
          if (audKey === undefined) continue;
          delete equals[audKey];
          (condition as Mutable)["StringLike"] = { [audKey]: "*" };
        }
      });
      return resources;
    },
  },
  {
    name: "rt-trust-other-oidc-provider",
    expectedPolicy: "role-trust-pinned",
    description: "trust gains a second web-identity statement for another cluster's OIDC provider, without conditions",
    apply: (resources) =>
      addTrust({
        Effect: "Allow",
        Principal: {
          Federated: `arn:aws:iam::${accountOf(resources)}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/OTHERCLUSTER`,
        },
        Action: "sts:AssumeRoleWithWebIdentity",
      })(resources),
  },
  {
    name: "rt-trust-sts-star",
    expectedPolicy: "role-trust-pinned",
    description: "the web-identity statement's action becomes sts:* (keeps its conditions)",
    apply: (resources) => {
      editDocument(workloadRole(resources), "assumeRolePolicy", (document) => {
        for (const statement of listOf(document["Statement"]).filter(isRecord) as Mutable[]) {
          if (statement["Action"] === "sts:AssumeRoleWithWebIdentity") statement["Action"] = "sts:*";
        }
      });
      return resources;
    },
  },
  // Access: other shapes of too much.
  {
    name: "rt-grant-send-message",
    expectedPolicy: "role-least-privilege",
    description: "the consumer's grant gains sqs:SendMessage on its own queue (it never sends)",
    apply: (resources) => {
      editGrant(resources, (statement) => {
        statement["Action"] = [...listOf(statement["Action"]), "sqs:SendMessage"];
      });
      return resources;
    },
  },
  {
    name: "rt-grant-not-action",
    expectedPolicy: "role-least-privilege",
    description: "a statement {Allow, NotAction iam:*, Resource *}: everything but IAM",
    apply: addGrantStatement({ Effect: "Allow", NotAction: "iam:*", Resource: "*" }),
  },
  {
    name: "rt-grant-not-resource",
    expectedPolicy: "role-least-privilege",
    description: "the grant's Resource becomes NotResource of a made-up queue: the same actions on every other queue",
    apply: (resources) => {
      editGrant(resources, (statement) => {
        delete statement["Resource"];
        statement["NotResource"] = `arn:aws:sqs:us-east-1:${accountOf(resources)}:nothing`;
      });
      return resources;
    },
  },
  {
    name: "rt-grant-dlq-receive",
    expectedPolicy: "role-least-privilege",
    description: "the grant's resources gain the DLQ: the consumer could drain its own dead letters",
    apply: (resources) => {
      const dlqArn = String(props(deadLetterQueue(resources))["arn"]);
      editGrant(resources, (statement) => {
        statement["Resource"] = [...listOf(statement["Resource"]), dlqArn];
      });
      return resources;
    },
  },
  {
    name: "rt-grant-action-prefix-wildcard",
    expectedPolicy: "role-least-privilege",
    description: "the grant's actions become sqs:*Message* (matches SendMessage, PurgeQueue-free but still too much)",
    apply: (resources) => {
      editGrant(resources, (statement) => {
        statement["Action"] = "sqs:*Message*";
      });
      return resources;
    },
  },
  {
    name: "rt-grant-mixed-case-star-resource",
    expectedPolicy: "role-least-privilege",
    description: "a statement {Allow, SQS:ReceiveMessage (upper case service), Resource arn:aws:sqs:*:*:*}",
    apply: addGrantStatement({ Effect: "Allow", Action: "SQS:ReceiveMessage", Resource: "arn:aws:sqs:*:*:*" }),
  },
  {
    name: "rt-grant-pass-role",
    expectedPolicy: "role-least-privilege",
    description: "a statement {Allow, iam:PassRole, Resource the node role}",
    apply: (resources) => {
      const other = find(resources, "second role", (r) => r.type === AWS.role && r !== workloadRole(resources));
      return addGrantStatement({ Effect: "Allow", Action: "iam:PassRole", Resource: String(other.props["arn"]) })(
        resources,
      );
    },
  },
  {
    name: "rt-attached-customer-policy",
    expectedPolicy: "role-least-privilege",
    description:
      "a new customer-managed Policy with s3:GetObject on * attached to the workload role by a RolePolicyAttachment",
    apply: (resources) => {
      const role = workloadRole(resources);
      const arn = `arn:aws:iam::${accountOf(resources)}:policy/extra-read`;
      resources.push(
        extraResource(resources, AWS.policy, "extra-read", {
          name: "extra-read",
          arn,
          id: arn,
          policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
          }),
        }),
        extraResource(resources, AWS.rolePolicyAttachment, "extra-read-attach", {
          role: role.props["name"],
          policyArn: arn,
        }),
      );
      return resources;
    },
  },
  {
    name: "rt-managed-policy-arns-readonly",
    expectedPolicy: "role-least-privilege",
    description: "the workload role's managedPolicyArns gains AWS's ReadOnlyAccess",
    apply: (resources) => {
      const role = workloadRole(resources);
      props(role)["managedPolicyArns"] = [
        ...listOf(props(role)["managedPolicyArns"]),
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
      ];
      return resources;
    },
  },
  {
    name: "rt-policy-attachment-admin",
    expectedPolicy: "role-least-privilege",
    description:
      "an aws.iam.PolicyAttachment (the exclusive kind) attaches AdministratorAccess to a list of roles including the workload's",
    apply: (resources) => {
      const role = workloadRole(resources);
      resources.push(
        extraResource(resources, AWS.policyAttachment, "admins", {
          name: "admins",
          roles: ["someone-else", role.props["name"]],
          policyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
        }),
      );
      return resources;
    },
  },
  {
    name: "rt-inline-policies-on-role",
    expectedPolicy: "role-least-privilege",
    description: "the workload role's own inlinePolicies property gains kms:Decrypt on *",
    apply: (resources) => {
      const role = workloadRole(resources);
      props(role)["inlinePolicies"] = [
        ...listOf(props(role)["inlinePolicies"]),
        {
          name: "decrypt",
          policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "kms:Decrypt", Resource: "*" }],
          }),
        },
      ];
      return resources;
    },
  },
  {
    name: "rt-node-role-reads-queues",
    expectedPolicy: "role-least-privilege",
    description:
      "the node role (ec2 trust) gains an inline RolePolicy with sqs:ReceiveMessage on *: every pod on the node could drain queues",
    apply: (resources) => {
      const node = find(
        resources,
        "node role",
        (r) => r.type === AWS.role && JSON.stringify(r.props["assumeRolePolicy"]).includes("ec2.amazonaws.com"),
      );
      resources.push(
        extraResource(resources, AWS.rolePolicy, "node-extra", {
          role: node.props["name"],
          policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "sqs:ReceiveMessage", Resource: "*" }],
          }),
        }),
      );
      return resources;
    },
  },
  // Queue policies: what they allow, on every queue, however attached.
  {
    name: "rt-queue-cross-account-send",
    expectedPolicy: "queue-policy-grants-nothing",
    description: "the queue's policy lets another account send (and so inject) messages",
    apply: addQueueStatement("source", (arn) => ({
      Effect: "Allow",
      Principal: { AWS: "arn:aws:iam::999999999999:root" },
      Action: "sqs:SendMessage",
      Resource: arn,
    })),
  },
  {
    name: "rt-dlq-policy-allows-everyone",
    expectedPolicy: "queue-policy-grants-nothing",
    description: "the DLQ's policy (not the source queue's) gains {Allow, Principal *, sqs:ReceiveMessage}",
    apply: addQueueStatement("dlq", (arn) => ({
      Effect: "Allow",
      Principal: "*",
      Action: "sqs:ReceiveMessage",
      Resource: arn,
    })),
  },
  {
    name: "rt-queue-policy-property",
    expectedPolicy: "queue-policy-grants-nothing",
    description: "the source Queue's own `policy` property (a second way a policy reaches a queue) allows everyone",
    apply: (resources) => {
      const queue = sourceQueue(resources);
      props(queue)["policy"] = JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { AWS: "*" }, Action: "sqs:*", Resource: String(props(queue)["arn"]) },
        ],
      });
      return resources;
    },
  },
  {
    name: "rt-queue-second-policy-resource",
    expectedPolicy: "queue-policy-grants-nothing",
    description: "a second QueuePolicy on the source queue allows everyone to receive",
    apply: (resources) => {
      const queue = sourceQueue(resources);
      resources.push(
        extraResource(resources, AWS.queuePolicy, "queue-open", {
          queueUrl: props(queue)["url"],
          policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              { Effect: "Allow", Principal: "*", Action: "sqs:ReceiveMessage", Resource: String(props(queue)["arn"]) },
            ],
          }),
        }),
      );
      return resources;
    },
  },
  {
    name: "rt-queue-tls-deny-inverted",
    expectedPolicy: "queue-denies-insecure-transport",
    description: 'the TLS deny\'s condition flips to aws:SecureTransport "true": it denies HTTPS, not HTTP',
    apply: (resources) => {
      editDocument(designatedPolicy(resources, sourceQueue(resources)), "policy", (document) => {
        for (const statement of listOf(document["Statement"]).filter(isRecord) as Mutable[]) {
          if (statement["Effect"] === "Deny") statement["Condition"] = { Bool: { "aws:SecureTransport": "true" } };
        }
      });
      return resources;
    },
  },
  {
    name: "rt-queue-tls-deny-narrowed",
    expectedPolicy: "queue-denies-insecure-transport",
    description: "the TLS deny covers only sqs:SendMessage: receives over plain HTTP pass",
    apply: (resources) => {
      editDocument(designatedPolicy(resources, sourceQueue(resources)), "policy", (document) => {
        for (const statement of listOf(document["Statement"]).filter(isRecord) as Mutable[]) {
          if (statement["Effect"] === "Deny") statement["Action"] = "sqs:SendMessage";
        }
      });
      return resources;
    },
  },
  // Static credentials: other places a key can hide.
  {
    name: "rt-secret-key-in-init-container",
    expectedPolicy: "no-static-aws-credentials",
    description: "an initContainer's env carries AWS_SECRET_ACCESS_KEY",
    apply: (resources) => {
      const spec = podSpec(resources);
      const { fields } = container(resources);
      spec["initContainers"] = [
        {
          name: "setup",
          image: fields["image"],
          env: [{ name: "AWS_SECRET_ACCESS_KEY", value: EXAMPLE_SECRET }],
          securityContext: fields["securityContext"],
        },
      ];
      return resources;
    },
  },
  {
    name: "rt-key-id-under-other-name",
    expectedPolicy: "no-static-aws-credentials",
    description: "an env var with an innocent name (UPSTREAM_TOKEN) holds an access key id",
    apply: (resources) => {
      const { fields } = container(resources);
      fields["env"] = [...listOf(fields["env"]), { name: "UPSTREAM_TOKEN", value: EXAMPLE_KEY_ID }];
      return resources;
    },
  },
  {
    name: "rt-credentials-file-in-configmap",
    expectedPolicy: "no-static-aws-credentials",
    description: "a ConfigMap carries an AWS shared credentials file",
    apply: (resources) => {
      const namespace = (podBearing(resources).props["metadata"] as Mutable | undefined)?.["namespace"];
      resources.push(
        extraResource(resources, K8S.configMap, "aws-credentials", {
          metadata: { name: "aws-credentials", namespace },
          data: {
            credentials: `[default]\naws_access_key_id = ${EXAMPLE_KEY_ID}\naws_secret_access_key = ${EXAMPLE_SECRET}\n`,
          },
        }),
      );
      return resources;
    },
  },
  {
    name: "rt-key-in-base64-secret-data",
    expectedPolicy: "no-static-aws-credentials",
    description: "a Secret's base64 `data` (not stringData) carries AWS_ACCESS_KEY_ID",
    apply: (resources) => {
      const namespace = (podBearing(resources).props["metadata"] as Mutable | undefined)?.["namespace"];
      resources.push(
        extraResource(resources, K8S.secret, "aws-keys", {
          metadata: { name: "aws-keys", namespace },
          data: {
            AWS_ACCESS_KEY_ID: Buffer.from(EXAMPLE_KEY_ID).toString("base64"),
            AWS_SECRET_ACCESS_KEY: Buffer.from(EXAMPLE_SECRET).toString("base64"),
          },
        }),
      );
      return resources;
    },
  },
  {
    name: "rt-key-in-container-args",
    expectedPolicy: "no-static-aws-credentials",
    description: "the container's args pass an access key id on the command line",
    apply: (resources) => {
      const { fields } = container(resources);
      fields["args"] = [...listOf(fields["args"]), "--aws-access-key-id", EXAMPLE_KEY_ID];
      return resources;
    },
  },
  // Pod security: other places and other knobs.
  {
    name: "rt-init-container-privileged",
    expectedPolicy: "pod-security-restricted",
    description: "an initContainer runs privileged (the app container stays clean)",
    apply: (resources) => {
      const spec = podSpec(resources);
      const { fields } = container(resources);
      spec["initContainers"] = [{ name: "setup", image: fields["image"], securityContext: { privileged: true } }];
      return resources;
    },
  },
  {
    name: "rt-pod-host-pid",
    expectedPolicy: "pod-security-restricted",
    description: "the pod shares the host's PID namespace",
    apply: (resources) => {
      podSpec(resources)["hostPID"] = true;
      return resources;
    },
  },
  {
    name: "rt-container-adds-net-raw",
    expectedPolicy: "pod-security-restricted",
    description: "the container drops ALL but adds NET_RAW back",
    apply: (resources) => {
      const { securityContext } = container(resources);
      securityContext["capabilities"] = { drop: ["ALL"], add: ["NET_RAW"] };
      return resources;
    },
  },
  {
    name: "rt-container-host-port",
    expectedPolicy: "pod-security-restricted",
    description: "the container's port binds a hostPort",
    apply: (resources) => {
      const { fields } = container(resources);
      fields["ports"] = listOf(fields["ports"])
        .filter(isRecord)
        .map((p) => ({ ...p, hostPort: 8080 }));
      return resources;
    },
  },
  {
    name: "rt-cronjob-root",
    expectedPolicy: "pod-security-restricted",
    description: "a CronJob (another pod-bearing kind) beside the Deployment runs as root",
    apply: (resources) => {
      const { fields } = container(resources);
      const namespace = (podBearing(resources).props["metadata"] as Mutable | undefined)?.["namespace"];
      resources.push(
        extraResource(resources, K8S.cronJob, "sweeper", {
          metadata: { name: "sweeper", namespace },
          spec: {
            schedule: "*/5 * * * *",
            jobTemplate: {
              spec: {
                template: {
                  spec: {
                    restartPolicy: "Never",
                    containers: [
                      { name: "sweep", image: fields["image"], securityContext: { runAsUser: 0, runAsNonRoot: false } },
                    ],
                  },
                },
              },
            },
          },
        }),
      );
      return resources;
    },
  },
  {
    name: "rt-apparmor-unconfined",
    expectedPolicy: "pod-security-restricted",
    description: "the container's appArmorProfile is Unconfined",
    apply: (resources) => {
      container(resources).securityContext["appArmorProfile"] = { type: "Unconfined" };
      return resources;
    },
  },
  {
    name: "rt-init-container-image-by-tag",
    expectedPolicy: "image-pinned-by-digest",
    description: "an initContainer's image is referenced by tag",
    apply: (resources) => {
      const spec = podSpec(resources);
      const { fields, securityContext } = container(resources);
      const repository = String(fields["image"]).split("@")[0];
      spec["initContainers"] = [{ name: "setup", image: `${repository}:latest`, securityContext }];
      return resources;
    },
  },
  // Autoscaling: KEDA objects and the scaler's role.
  {
    name: "rt-scaled-object-unbounded",
    expectedPolicy: "scaled-object-bounded-max",
    description: "a ScaledObject without maxReplicaCount (KEDA then allows 100 pods)",
    apply: addScaledObject({}),
  },
  {
    name: "rt-scaled-object-max-over-ceiling",
    expectedPolicy: "scaled-object-bounded-max",
    description: "a ScaledObject asking for up to 1,000 pods",
    apply: addScaledObject({ maxReplicaCount: 1000 }),
  },
  {
    name: "rt-trigger-auth-workload-owner-capitalised",
    expectedPolicy: "trigger-authentication-keda-identity",
    description:
      'a TriggerAuthentication with podIdentity.identityOwner "Workload" (other case): KEDA would act as the consumer\'s role',
    apply: (resources) => {
      resources.push(
        extraResource(resources, KEDA.triggerAuthentication, "consumer-trigger-auth", {
          metadata: { name: "consumer", namespace: namespaceOf(resources) },
          spec: { podIdentity: { provider: "aws", identityOwner: "Workload" } },
        }),
      );
      return resources;
    },
  },
  {
    name: "rt-trigger-auth-names-consumer-role",
    expectedPolicy: "scaler-role-reads-queue-attributes-only",
    description:
      "a TriggerAuthentication's roleArn names the consumer's role, so KEDA's operator would hold receive and delete rights",
    apply: (resources) => {
      resources.push(
        extraResource(resources, KEDA.triggerAuthentication, "consumer-trigger-auth", {
          metadata: { name: "consumer", namespace: namespaceOf(resources) },
          spec: { podIdentity: { provider: "aws", roleArn: props(workloadRole(resources))["arn"] } },
        }),
      );
      return resources;
    },
  },
  {
    name: "rt-scaler-role-receives",
    expectedPolicy: "scaler-role-reads-queue-attributes-only",
    description: "a role trusted by keda:keda-operator is granted sqs:ReceiveMessage beside sqs:GetQueueAttributes",
    apply: (resources) => {
      const { providerArn, issuer } = oidcOf(resources);
      const arn = `arn:aws:iam::${accountOf(resources)}:role/consumer-scaler`;
      resources.push(
        extraResource(resources, AWS.role, "consumer-scaler-role", {
          name: "consumer-scaler",
          id: "consumer-scaler",
          arn,
          assumeRolePolicy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Principal: { Federated: providerArn },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: {
                  StringEquals: {
                    [`${issuer}:sub`]: "system:serviceaccount:keda:keda-operator",
                    [`${issuer}:aud`]: "sts.amazonaws.com",
                  },
                },
              },
            ],
          }),
        }),
        extraResource(resources, AWS.rolePolicy, "consumer-scaler-access", {
          role: "consumer-scaler",
          policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Action: ["sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
                Resource: sourceQueueArn(resources),
              },
            ],
          }),
        }),
      );
      return resources;
    },
  },
];
