/** The pack author's mutations (see mutations.ts); each names the rule that must catch it. */
import { METRIC_ALARM } from "../rules/alarms";
import { AWS, EKS, K8S } from "../lib/types";
import { designatesQueue } from "../lib/stack";
import { isRecord, listOf, stringOf, stringsOf } from "../lib/values";
import {
  ALLOWED_DIGEST,
  EXAMPLE_KEY_ID,
  NoTarget,
  container,
  deadLetterQueue,
  designatedPolicy,
  editDocument,
  editGrant,
  editTrust,
  extraResource,
  find,
  ofType,
  podSpec,
  props,
  remove,
  sourceQueue,
  workloadRole,
  type Mutable,
  type Mutation,
} from "./mutation-kit";

export const AUTHOR_MUTATIONS: readonly Mutation[] = [
  {
    name: "irsa-wildcard-sub",
    expectedPolicy: "role-trust-pinned",
    description: "the IRSA trust's :sub accepts any service account of the namespace",
    apply: (resources) => {
      editTrust(resources, (stringEquals, issuer) => {
        const subject = stringOf(stringEquals[`${issuer}:sub`]) ?? "system:serviceaccount:default:sa";
        stringEquals[`${issuer}:sub`] = subject.replace(/[^:]+$/, "*");
      });
      return resources;
    },
  },
  {
    name: "irsa-sub-string-like",
    expectedPolicy: "role-trust-pinned",
    description: "the IRSA trust matches :sub with StringLike and a pattern",
    apply: (resources) => {
      editDocument(workloadRole(resources), "assumeRolePolicy", (document) => {
        for (const statement of listOf(document["Statement"]).filter(isRecord)) {
          const condition = isRecord(statement["Condition"]) ? (statement["Condition"] as Mutable) : undefined;
          const stringEquals = isRecord(condition?.["StringEquals"])
            ? (condition["StringEquals"] as Mutable)
            : undefined;
          const subKey = Object.keys(stringEquals ?? {}).find((k) => k.endsWith(":sub"));
          if (condition === undefined || stringEquals === undefined || subKey === undefined) continue;
          delete stringEquals[subKey];
          condition["StringLike"] = { [subKey]: "system:serviceaccount:*" };
          return;
        }
        throw new NoTarget("no :sub condition in the trust policy");
      });
      return resources;
    },
  },
  {
    name: "irsa-missing-aud",
    expectedPolicy: "role-trust-pinned",
    description: "the IRSA trust does not pin :aud",
    apply: (resources) => {
      editTrust(resources, (stringEquals, issuer) => delete stringEquals[`${issuer}:aud`]);
      return resources;
    },
  },
  {
    name: "workload-sqs-star",
    expectedPolicy: "role-least-privilege",
    description: "the workload role may call every SQS action",
    apply: (resources) => {
      editGrant(resources, (statement) => (statement["Action"] = "sqs:*"));
      return resources;
    },
  },
  {
    name: "workload-star-action",
    expectedPolicy: "role-least-privilege",
    description: "the workload role may call every AWS action",
    apply: (resources) => {
      editGrant(resources, (statement) => (statement["Action"] = "*"));
      return resources;
    },
  },
  {
    name: "workload-account-wide-queues",
    expectedPolicy: "role-least-privilege",
    description: "the workload role's access covers every queue of the account",
    apply: (resources) => {
      editGrant(resources, (statement) => {
        statement["Resource"] = stringsOf(statement["Resource"]).map((arn) => arn.replace(/[^:]+$/, "*"));
      });
      return resources;
    },
  },
  {
    name: "workload-aws-managed-policy",
    expectedPolicy: "role-least-privilege",
    description: "AmazonSQSFullAccess is attached to the workload role",
    apply: (resources) => {
      const role = workloadRole(resources);
      const ref = stringOf(props(role)["name"]) ?? stringOf(props(role)["id"]);
      if (ref === undefined) throw new NoTarget("the workload role has neither name nor id");
      const attachment = extraResource(resources, AWS.rolePolicyAttachment, "mutation-sqs-full-access", {
        role: ref,
        policyArn: "arn:aws:iam::aws:policy/AmazonSQSFullAccess",
      });
      return [...resources, attachment];
    },
  },
  {
    name: "queue-unencrypted",
    expectedPolicy: "queue-encrypted",
    description: "the queue has no encryption at rest",
    apply: (resources) => {
      const queue = props(sourceQueue(resources));
      queue["sqsManagedSseEnabled"] = false;
      delete queue["kmsMasterKeyId"];
      return resources;
    },
  },
  {
    name: "queue-missing-redrive",
    expectedPolicy: "queue-redrive-policy",
    description: "the queue has no redrive policy",
    apply: (resources) => {
      delete props(sourceQueue(resources))["redrivePolicy"];
      return resources;
    },
  },
  {
    name: "dlq-short-retention",
    expectedPolicy: "dlq-retention-covers-source",
    description: "the DLQ keeps messages one minute",
    apply: (resources) => {
      props(deadLetterQueue(resources))["messageRetentionSeconds"] = 60;
      return resources;
    },
  },
  {
    name: "dlq-alarm-missing",
    expectedPolicy: "dlq-alarmed",
    description: "the alarm on the dead-letter queue is gone",
    apply: (resources) =>
      remove(
        resources,
        "CloudWatch alarm on the DLQ",
        (r) => r.type === METRIC_ALARM && r.props["metricName"] === "ApproximateNumberOfMessagesVisible",
      ),
  },
  {
    name: "queue-policy-missing",
    expectedPolicy: "queue-denies-insecure-transport",
    description: "the queue's TLS-only policy is gone",
    apply: (resources) => {
      const queue = sourceQueue(resources);
      return remove(
        resources,
        "queue policy of the queue",
        (r) => r.type === AWS.queuePolicy && designatesQueue(queue, r.props["queueUrl"]),
      );
    },
  },
  {
    name: "container-runs-as-root",
    expectedPolicy: "pod-security-restricted",
    description: "the container runs as root",
    apply: (resources) => {
      const { securityContext } = container(resources);
      securityContext["runAsUser"] = 0;
      securityContext["runAsNonRoot"] = false;
      return resources;
    },
  },
  {
    name: "container-privilege-escalation",
    expectedPolicy: "pod-security-restricted",
    description: "the container may escalate privileges",
    apply: (resources) => {
      container(resources).securityContext["allowPrivilegeEscalation"] = true;
      return resources;
    },
  },
  {
    name: "container-keeps-capabilities",
    expectedPolicy: "pod-security-restricted",
    description: "the container keeps its capabilities",
    apply: (resources) => {
      delete container(resources).securityContext["capabilities"];
      return resources;
    },
  },
  {
    name: "pod-host-network",
    expectedPolicy: "pod-security-restricted",
    description: "the pod shares the node's network namespace",
    apply: (resources) => {
      podSpec(resources)["hostNetwork"] = true;
      return resources;
    },
  },
  {
    name: "pod-seccomp-unconfined",
    expectedPolicy: "pod-security-restricted",
    description: "the pod runs without a seccomp profile",
    apply: (resources) => {
      const spec = podSpec(resources);
      spec["securityContext"] = {
        ...(isRecord(spec["securityContext"]) ? spec["securityContext"] : {}),
        seccompProfile: { type: "Unconfined" },
      };
      return resources;
    },
  },
  {
    name: "pod-host-path-volume",
    expectedPolicy: "pod-security-restricted",
    description: "the pod mounts the node's filesystem",
    apply: (resources) => {
      const spec = podSpec(resources);
      spec["volumes"] = [...listOf(spec["volumes"]), { name: "host", hostPath: { path: "/" } }];
      return resources;
    },
  },
  {
    name: "container-writable-root-filesystem",
    expectedPolicy: "container-read-only-root-filesystem",
    description: "the container's root filesystem is writable",
    apply: (resources) => {
      container(resources).securityContext["readOnlyRootFilesystem"] = false;
      return resources;
    },
  },
  {
    name: "image-by-tag",
    expectedPolicy: "image-pinned-by-digest",
    description: "the image is referenced by a tag",
    apply: (resources) => {
      const { fields } = container(resources);
      fields["image"] = `${(stringOf(fields["image"]) ?? "image").replace(/@sha256:.*$/, "")}:latest`;
      return resources;
    },
  },
  {
    name: "image-from-docker-hub",
    expectedPolicy: "image-from-allowed-registry",
    description: "the image comes from Docker Hub",
    apply: (resources) => {
      container(resources).fields["image"] = `docker.io/library/node${ALLOWED_DIGEST}`;
      return resources;
    },
  },
  {
    name: "static-keys-in-env",
    expectedPolicy: "no-static-aws-credentials",
    description: "the container gets an access key through its environment",
    apply: (resources) => {
      const { fields } = container(resources);
      fields["env"] = [...listOf(fields["env"]), { name: "AWS_ACCESS_KEY_ID", value: EXAMPLE_KEY_ID }];
      return resources;
    },
  },
  {
    name: "static-keys-in-secret",
    expectedPolicy: "no-static-aws-credentials",
    description: "a Secret holds an AWS secret access key",
    apply: (resources) => {
      const secret = props(find(resources, "Secret", ofType(K8S.secret)));
      secret["stringData"] = {
        ...(isRecord(secret["stringData"]) ? secret["stringData"] : {}),
        AWS_SECRET_ACCESS_KEY: "redacted",
      };
      return resources;
    },
  },
  {
    name: "namespace-not-restricted",
    expectedPolicy: "namespace-enforces-restricted",
    description: "the namespace enforces only the baseline profile",
    apply: (resources) => {
      const namespace = props(find(resources, "Namespace", ofType(K8S.namespace)));
      const metadata = (isRecord(namespace["metadata"]) ? namespace["metadata"] : {}) as Mutable;
      metadata["labels"] = {
        ...(isRecord(metadata["labels"]) ? metadata["labels"] : {}),
        "pod-security.kubernetes.io/enforce": "baseline",
      };
      namespace["metadata"] = metadata;
      return resources;
    },
  },
  {
    name: "imds-hop-limit-2",
    expectedPolicy: "launch-template-imdsv2",
    description: "pods on the nodes can reach IMDS through hop limit 2",
    apply: (resources) => {
      const template = props(find(resources, "LaunchTemplate", ofType(AWS.launchTemplate)));
      template["metadataOptions"] = {
        ...(isRecord(template["metadataOptions"]) ? template["metadataOptions"] : {}),
        httpPutResponseHopLimit: 2,
      };
      return resources;
    },
  },
  {
    name: "imds-tokens-optional",
    expectedPolicy: "launch-template-imdsv2",
    description: "the nodes serve IMDSv1",
    apply: (resources) => {
      const template = props(find(resources, "LaunchTemplate", ofType(AWS.launchTemplate)));
      template["metadataOptions"] = {
        ...(isRecord(template["metadataOptions"]) ? template["metadataOptions"] : {}),
        httpTokens: "optional",
      };
      return resources;
    },
  },
  {
    name: "node-group-without-launch-template",
    expectedPolicy: "node-group-launch-template",
    description: "the node group uses EKS's default launch template",
    apply: (resources) => {
      const group = find(
        resources,
        "node group with a launch template",
        (r) =>
          (r.type === AWS.eksNodeGroup || r.type === EKS.managedNodeGroup) && props(r)["launchTemplate"] !== undefined,
      );
      delete props(group)["launchTemplate"];
      return resources;
    },
  },
  {
    name: "ecr-scan-disabled",
    expectedPolicy: "ecr-scan-on-push",
    description: "the repository does not scan on push",
    apply: (resources) => {
      props(find(resources, "ECR repository", ofType(AWS.ecrRepository)))["imageScanningConfiguration"] = {
        scanOnPush: false,
      };
      return resources;
    },
  },
  {
    name: "ecr-lifecycle-missing",
    expectedPolicy: "ecr-lifecycle-policy",
    description: "the repository has no lifecycle policy",
    apply: (resources) => remove(resources, "ECR lifecycle policy", ofType(AWS.ecrLifecyclePolicy)),
  },
  {
    name: "pdb-missing",
    expectedPolicy: "pdb-for-replicated-deployments",
    description: "the Deployment has no PodDisruptionBudget",
    apply: (resources) => remove(resources, "PodDisruptionBudget", ofType(K8S.podDisruptionBudget)),
  },
  {
    name: "container-without-resources",
    expectedPolicy: "container-resources-set",
    description: "the container sets no requests or limits",
    apply: (resources) => {
      delete container(resources).fields["resources"];
      return resources;
    },
  },
  {
    name: "workload-get-star",
    expectedPolicy: "role-least-privilege",
    description: "the workload's access allows sqs:Get*, which grants sqs:GetQueueUrl too",
    apply: (resources) => {
      editGrant(resources, (statement) => (statement["Action"] = ["sqs:ReceiveMessage", "sqs:Get*"]));
      return resources;
    },
  },
  {
    name: "workload-purge-queue",
    expectedPolicy: "role-least-privilege",
    description: "the workload may purge its queue (a literal action outside the allow-list)",
    apply: (resources) => {
      editGrant(resources, (statement) => (statement["Action"] = [...listOf(statement["Action"]), "sqs:PurgeQueue"]));
      return resources;
    },
  },
  {
    name: "workload-not-action",
    expectedPolicy: "role-least-privilege",
    description: "the workload's access allows NotAction iam:*",
    apply: (resources) => {
      editGrant(resources, (statement) => {
        delete statement["Action"];
        statement["NotAction"] = "iam:*";
      });
      return resources;
    },
  },
  {
    name: "workload-managed-policy-arns",
    expectedPolicy: "role-least-privilege",
    description: "ReadOnlyAccess is listed in the workload role's managedPolicyArns",
    apply: (resources) => {
      props(workloadRole(resources))["managedPolicyArns"] = ["arn:aws:iam::aws:policy/ReadOnlyAccess"];
      return resources;
    },
  },
  {
    name: "workload-inline-policy",
    expectedPolicy: "role-least-privilege",
    description: "the workload role gains an inline policy allowing s3:GetObject on every bucket",
    apply: (resources) => {
      props(workloadRole(resources))["inlinePolicies"] = [
        {
          name: "extra",
          policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
          }),
        },
      ];
      return resources;
    },
  },
  {
    name: "workload-attached-stack-policy",
    expectedPolicy: "role-least-privilege",
    description: "a Policy of the stack allowing sqs:SendMessage is attached to the workload role",
    apply: (resources) => {
      const role = workloadRole(resources);
      const queueArn = String(props(sourceQueue(resources))["arn"]);
      const policyArn = String(props(role)["arn"]).replace(/:role\/.*$/, ":policy/mutation-send");
      const policy = extraResource(resources, AWS.policy, "mutation-send", {
        arn: policyArn,
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "sqs:SendMessage", Resource: queueArn }],
        }),
      });
      const attachment = extraResource(resources, AWS.rolePolicyAttachment, "mutation-send", {
        role: props(role)["name"],
        policyArn,
      });
      return [...resources, policy, attachment];
    },
  },
  {
    name: "policy-on-foreign-role",
    expectedPolicy: "role-least-privilege",
    description: "a RolePolicy grants queue access to a role the stack does not define",
    apply: (resources) => {
      const queueArn = String(props(sourceQueue(resources))["arn"]);
      return [
        ...resources,
        extraResource(resources, AWS.rolePolicy, "mutation-foreign", {
          role: "someone-elses-role",
          policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "sqs:ReceiveMessage", Resource: queueArn }],
          }),
        }),
      ];
    },
  },
  {
    name: "node-role-admin",
    expectedPolicy: "role-least-privilege",
    description: "AdministratorAccess is attached to the node role",
    apply: (resources) => {
      const node = find(
        resources,
        "node role",
        (r) => r.type === AWS.role && JSON.stringify(r.props["assumeRolePolicy"] ?? "").includes("ec2.amazonaws.com"),
      );
      return [
        ...resources,
        extraResource(resources, AWS.rolePolicyAttachment, "mutation-node-admin", {
          role: props(node)["name"],
          policyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
        }),
      ];
    },
  },
  {
    name: "trust-not-principal",
    expectedPolicy: "role-trust-pinned",
    description: "the workload role's trust gains an Allow with NotPrincipal",
    apply: (resources) => {
      editDocument(workloadRole(resources), "assumeRolePolicy", (document) => {
        document["Statement"] = [
          ...listOf(document["Statement"]),
          { Effect: "Allow", NotPrincipal: { AWS: "arn:aws:iam::111122223333:root" }, Action: "sts:AssumeRole" },
        ];
      });
      return resources;
    },
  },
  {
    name: "trust-pod-identity-any-cluster",
    expectedPolicy: "role-trust-pinned",
    description:
      "the workload role's trust gains EKS Pod Identity pinned to namespace and service account but not the cluster",
    apply: (resources) => {
      editDocument(workloadRole(resources), "assumeRolePolicy", (document) => {
        document["Statement"] = [
          ...listOf(document["Statement"]),
          {
            Effect: "Allow",
            Principal: { Service: "pods.eks.amazonaws.com" },
            Action: ["sts:AssumeRole", "sts:TagSession"],
            Condition: {
              StringEquals: {
                "aws:RequestTag/kubernetes-namespace": "consumer",
                "aws:RequestTag/kubernetes-service-account": "consumer",
              },
            },
          },
        ];
      });
      return resources;
    },
  },
  {
    name: "queue-second-policy",
    expectedPolicy: "queue-denies-insecure-transport",
    description: "a second QueuePolicy on the queue replaces the TLS-only one",
    apply: (resources) => {
      const queue = sourceQueue(resources);
      return [
        ...resources,
        extraResource(resources, AWS.queuePolicy, "mutation-second", {
          queueUrl: props(queue)["url"],
          policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Deny", Principal: "*", Action: "sqs:DeleteQueue", Resource: props(queue)["arn"] }],
          }),
        }),
      ];
    },
  },
  {
    name: "queue-tls-deny-narrowed",
    expectedPolicy: "queue-denies-insecure-transport",
    description: "the TLS deny gains a second condition (aws:SourceIp), so it no longer applies to every request",
    apply: (resources) => {
      editDocument(designatedPolicy(resources, sourceQueue(resources)), "policy", (document) => {
        const statement: Mutable | undefined = listOf(document["Statement"])
          .filter(isRecord)
          .find((s) => s["Effect"] === "Deny");
        if (statement === undefined) throw new NoTarget("no Deny statement in the queue policy");
        statement["Condition"] = {
          ...(isRecord(statement["Condition"]) ? statement["Condition"] : {}),
          IpAddress: { "aws:SourceIp": "203.0.113.0/24" },
        };
      });
      return resources;
    },
  },
  {
    name: "queue-own-policy-allows",
    expectedPolicy: "queue-policy-grants-nothing",
    description: "the DLQ's own policy property lets another account send messages",
    apply: (resources) => {
      props(deadLetterQueue(resources))["policy"] = JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::111122223333:root" },
            Action: "sqs:SendMessage",
            Resource: "*",
          },
        ],
      });
      return resources;
    },
  },
  {
    name: "static-keys-in-init-secret-ref",
    expectedPolicy: "no-static-aws-credentials",
    description: "an init container reads a secret key named aws_secret_access_key",
    apply: (resources) => {
      const spec = podSpec(resources);
      const twin = structuredClone(container(resources).fields);
      spec["initContainers"] = [
        ...listOf(spec["initContainers"]),
        {
          ...twin,
          name: "fetch",
          env: [{ name: "KEY", valueFrom: { secretKeyRef: { name: "keys", key: "aws_secret_access_key" } } }],
        },
      ];
      return resources;
    },
  },
  {
    name: "static-keys-in-configmap-binary",
    expectedPolicy: "no-static-aws-credentials",
    description: "a ConfigMap carries a credentials file in binaryData (base64)",
    apply: (resources) => [
      ...resources,
      extraResource(resources, K8S.configMap, "mutation-aws-config", {
        metadata: { name: "aws-config" },
        binaryData: {
          credentials: Buffer.from(`[default]\naws_access_key_id = ${EXAMPLE_KEY_ID}\n`).toString("base64"),
        },
      }),
    ],
  },
  {
    name: "static-keys-in-annotation",
    expectedPolicy: "no-static-aws-credentials",
    description: "the Deployment's pod template carries an access key ID in an annotation",
    apply: (resources) => {
      const workload = find(resources, "Deployment", ofType(K8S.deployment));
      const template = (props(workload)["spec"] as Mutable)["template"] as Mutable;
      const metadata = (isRecord(template["metadata"]) ? template["metadata"] : {}) as Mutable;
      template["metadata"] = { ...metadata, annotations: { "example.com/upstream": EXAMPLE_KEY_ID } };
      return resources;
    },
  },
  {
    name: "legacy-api-privileged-pod",
    expectedPolicy: "pod-security-restricted",
    description: "a privileged DaemonSet declared through extensions/v1beta1",
    apply: (resources) => {
      const spec = structuredClone(podSpec(resources));
      const containers = listOf(spec["containers"]).filter(isRecord) as Mutable[];
      const first = containers[0];
      if (first === undefined) throw new NoTarget("no container");
      first["securityContext"] = {
        ...(isRecord(first["securityContext"]) ? first["securityContext"] : {}),
        privileged: true,
      };
      return [
        ...resources,
        extraResource(resources, "kubernetes:extensions/v1beta1:DaemonSet", "mutation-agent", {
          spec: { template: { spec: { ...spec, containers } } },
        }),
      ];
    },
  },
  {
    name: "fifo-queue-standard-dlq",
    expectedPolicy: "dlq-type-matches-source",
    description: "the queue turns FIFO, its dead-letter queue stays standard",
    apply: (resources) => {
      props(sourceQueue(resources))["fifoQueue"] = true;
      return resources;
    },
  },
];
