/**
 * The mutation table: each variant weakens one thing in a good resource set, grouped by the surface it
 * weakens, and names the rule that must report it. It holds the ways in that the rule tests
 * (policies/test/*.test.ts) do not already show on their own resources.
 *
 * How to add a variant: CONTRIBUTING.md, "Add a policy pack rule".
 */
import { AWS, K8S } from "../../policies/lib/types";
import { isRecord } from "../../policies/lib/values";
import { KEDA } from "../../policies/rules/autoscaling";
import type { Mutation } from "./check";
import {
  accountOf,
  addStatement,
  container,
  deadLetterQueue,
  deployment,
  designatedPolicy,
  editDocument,
  editGrant,
  editGrantDocument,
  EXAMPLE_KEY_ID,
  EXAMPLE_SECRET,
  extraResource,
  find,
  namespaceOf,
  ofType,
  podSpec,
  props,
  statementsOf,
  workloadRole,
  type Mutable,
} from "./targets";

/** Who may assume the workload role (role-trust-pinned). */
const TRUST: readonly Mutation[] = [
  {
    surface: "trust",
    name: "web-identity-not-action",
    expectedPolicy: "role-trust-pinned",
    description:
      "the web-identity statement's Action becomes NotAction sts:AssumeRole, allowing every other STS action",
    apply: (resources) => {
      editDocument(workloadRole(resources), "assumeRolePolicy", (document) => {
        for (const statement of statementsOf(document)) {
          if (statement["Action"] !== "sts:AssumeRoleWithWebIdentity") continue;
          delete statement["Action"];
          statement["NotAction"] = "sts:AssumeRole";
        }
      });
      return resources;
    },
  },
  {
    surface: "trust",
    name: "audience-string-like-any",
    expectedPolicy: "role-trust-pinned",
    description: ':aud moves from StringEquals to StringLike "*"',
    apply: (resources) => {
      editDocument(workloadRole(resources), "assumeRolePolicy", (document) => {
        for (const statement of statementsOf(document)) {
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
    surface: "trust",
    name: "other-oidc-provider-unpinned",
    expectedPolicy: "role-trust-pinned",
    description: "the trust gains a web-identity statement for another cluster's OIDC provider, without conditions",
    apply: (resources) => {
      const provider = `arn:aws:iam::${accountOf(resources)}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/OTHERCLUSTER`;
      editDocument(workloadRole(resources), "assumeRolePolicy", (document) =>
        addStatement(document, {
          Effect: "Allow",
          Principal: { Federated: provider },
          Action: "sts:AssumeRoleWithWebIdentity",
        }),
      );
      return resources;
    },
  },
];

/** What the workload role may do (role-least-privilege). */
const ACCESS: readonly Mutation[] = [
  {
    surface: "access",
    name: "infix-wildcard-action",
    expectedPolicy: "role-least-privilege",
    description: "the grant's actions become sqs:*Message*, which grants sqs:SendMessage too",
    apply: (resources) => {
      editGrant(resources, (statement) => (statement["Action"] = "sqs:*Message*"));
      return resources;
    },
  },
  {
    surface: "access",
    name: "upper-case-service-any-queue",
    expectedPolicy: "role-least-privilege",
    description: "a statement allows SQS:ReceiveMessage (service in upper case) on arn:aws:sqs:*:*:*",
    apply: (resources) => {
      editGrantDocument(resources, (document) =>
        addStatement(document, { Effect: "Allow", Action: "SQS:ReceiveMessage", Resource: "arn:aws:sqs:*:*:*" }),
      );
      return resources;
    },
  },
  {
    surface: "access",
    name: "policy-attachment-aws-managed",
    expectedPolicy: "role-least-privilege",
    description:
      "an aws.iam.PolicyAttachment attaches AdministratorAccess to a list of roles that includes the workload's",
    apply: (resources) => [
      ...resources,
      extraResource(resources, AWS.policyAttachment, "admins", {
        name: "admins",
        roles: ["someone-else", workloadRole(resources).props["name"]],
        policyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
      }),
    ],
  },
];

/** Who may use the queues (queue-policy-grants-nothing). */
const QUEUES: readonly Mutation[] = [
  {
    surface: "queues",
    name: "dlq-queue-policy-allows-everyone",
    expectedPolicy: "queue-policy-grants-nothing",
    description:
      "the dead-letter queue's QueuePolicy (not the source queue's) gains {Allow, Principal *, sqs:ReceiveMessage}",
    apply: (resources) => {
      const dlq = deadLetterQueue(resources);
      editDocument(designatedPolicy(resources, dlq), "policy", (document) =>
        addStatement(document, {
          Effect: "Allow",
          Principal: "*",
          Action: "sqs:ReceiveMessage",
          Resource: String(dlq.props["arn"]),
        }),
      );
      return resources;
    },
  },
];

/** What the consumer's pods may do on their node (pod-security-restricted). */
const PODS: readonly Mutation[] = [
  {
    surface: "pods",
    name: "container-apparmor-unconfined",
    expectedPolicy: "pod-security-restricted",
    description: "the container's own appArmorProfile is Unconfined",
    apply: (resources) => {
      container(resources).securityContext["appArmorProfile"] = { type: "Unconfined" };
      return resources;
    },
  },
];

/** Where a static AWS key can hide (no-static-aws-credentials). */
const CREDENTIALS: readonly Mutation[] = [
  {
    surface: "credentials",
    name: "key-in-pod-template-annotation",
    expectedPolicy: "no-static-aws-credentials",
    description: "the Deployment's pod template carries an access key ID in an annotation",
    apply: (resources) => {
      const template = (deployment(resources).props["spec"] as Mutable)["template"] as Mutable;
      template["metadata"] = {
        ...(template["metadata"] as Mutable | undefined),
        annotations: { "example.com/upstream": EXAMPLE_KEY_ID },
      };
      return resources;
    },
  },
  {
    surface: "credentials",
    name: "credentials-file-in-configmap-data",
    expectedPolicy: "no-static-aws-credentials",
    description: "a ConfigMap's data carries an AWS shared credentials file",
    apply: (resources) => [
      ...resources,
      extraResource(resources, K8S.configMap, "aws-credentials", {
        metadata: { name: "aws-credentials", namespace: namespaceOf(resources) },
        data: {
          credentials: `[default]\naws_access_key_id = ${EXAMPLE_KEY_ID}\naws_secret_access_key = ${EXAMPLE_SECRET}\n`,
        },
      }),
    ],
  },
  {
    surface: "credentials",
    name: "keys-in-secret-base64-data",
    expectedPolicy: "no-static-aws-credentials",
    description: "a Secret's base64 data (not stringData) carries AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    apply: (resources) => [
      ...resources,
      extraResource(resources, K8S.secret, "aws-keys", {
        metadata: { name: "aws-keys", namespace: namespaceOf(resources) },
        data: {
          AWS_ACCESS_KEY_ID: Buffer.from(EXAMPLE_KEY_ID).toString("base64"),
          AWS_SECRET_ACCESS_KEY: Buffer.from(EXAMPLE_SECRET).toString("base64"),
        },
      }),
    ],
  },
];

/** What the pods run and where it comes from (image-pinned-by-digest, ecr-scan-on-push). */
const IMAGES: readonly Mutation[] = [
  {
    surface: "images",
    name: "init-container-image-by-tag",
    expectedPolicy: "image-pinned-by-digest",
    description: "an init container's image is referenced by tag",
    apply: (resources) => {
      const spec = podSpec(resources);
      const { fields, securityContext } = container(resources);
      const repository = String(fields["image"]).split("@")[0];
      spec["initContainers"] = [{ name: "setup", image: `${repository}:latest`, securityContext }];
      return resources;
    },
  },
  {
    surface: "images",
    name: "ecr-scan-on-push-false",
    expectedPolicy: "ecr-scan-on-push",
    description: "the repository's imageScanningConfiguration sets scanOnPush: false",
    apply: (resources) => {
      props(find(resources, "ECR repository", ofType(AWS.ecrRepository)))["imageScanningConfiguration"] = {
        scanOnPush: false,
      };
      return resources;
    },
  },
];

/** Whose rights KEDA's operator holds (scaler-role-reads-queue-attributes-only). */
const AUTOSCALING: readonly Mutation[] = [
  {
    surface: "autoscaling",
    name: "trigger-authentication-names-consumer-role",
    expectedPolicy: "scaler-role-reads-queue-attributes-only",
    description:
      "a TriggerAuthentication's roleArn names the consumer's role, so KEDA's operator would hold receive and delete rights",
    apply: (resources) => [
      ...resources,
      extraResource(resources, KEDA.triggerAuthentication, "consumer-trigger-auth", {
        metadata: { name: "consumer", namespace: namespaceOf(resources) },
        spec: { podIdentity: { provider: "aws", roleArn: workloadRole(resources).props["arn"] } },
      }),
    ],
  },
];

/** Every variant the check runs, surface by surface. */
export const MUTATIONS: readonly Mutation[] = [
  ...TRUST,
  ...ACCESS,
  ...QUEUES,
  ...PODS,
  ...CREDENTIALS,
  ...IMAGES,
  ...AUTOSCALING,
];
