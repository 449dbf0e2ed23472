/**
 * Mutations written by someone other than the pack's author, against the pack's design: reviewers'
 * variants that a presence-based rule let through. Add a variant by appending a `Mutation` (the
 * helpers are in mutation-kit.ts); `npm test` (policies/test/mutations.test.ts) requires every
 * variant to be caught by the rule it names.
 */
import { AWS } from "../lib/types";
import { isRecord, listOf } from "../lib/values";
import { REDTEAM_MUTATIONS } from "./mutations-redteam";
import {
  editDocument,
  editGrant,
  find,
  sourceQueue,
  designatedPolicy,
  workloadRole,
  type Mutable,
  type Mutation,
} from "./mutation-kit";

/** Appends `statement` to a policy document property of `resource`. */
function addStatement(document: Mutable, statement: Mutable): void {
  document["Statement"] = [...listOf(document["Statement"]).filter(isRecord), statement];
}

export const EXTERNAL_MUTATIONS: readonly Mutation[] = [
  {
    name: "issue13-trust-any-aws-principal",
    expectedPolicy: "role-trust-pinned",
    description: "issue 13: the IRSA role's trust gains {Allow, Principal AWS *, sts:AssumeRole}",
    apply: (resources) => {
      editDocument(workloadRole(resources), "assumeRolePolicy", (document) =>
        addStatement(document, { Effect: "Allow", Principal: { AWS: "*" }, Action: "sts:AssumeRole" }),
      );
      return resources;
    },
  },
  {
    name: "issue13-queue-policy-allows-everyone",
    expectedPolicy: "queue-policy-grants-nothing",
    description: "issue 13: the queue's policy gains {Allow, Principal *, sqs:*} beside its TLS-only deny",
    apply: (resources) => {
      editDocument(designatedPolicy(resources, sourceQueue(resources)), "policy", (document) =>
        addStatement(document, { Effect: "Allow", Principal: "*", Action: "sqs:*", Resource: "*" }),
      );
      return resources;
    },
  },
  {
    name: "issue13-workload-assumes-another-role",
    expectedPolicy: "role-least-privilege",
    description: "issue 13: the workload's access policy gains sts:AssumeRole on another role's ARN",
    apply: (resources) => {
      const other = find(resources, "second role", (r) => r.type === AWS.role && r !== workloadRole(resources));
      editGrant(resources, (statement) => {
        statement["Action"] = [...listOf(statement["Action"]), "sts:AssumeRole"];
        statement["Resource"] = [...listOf(statement["Resource"]), String(other.props["arn"])];
      });
      return resources;
    },
  },
  ...REDTEAM_MUTATIONS,
];
