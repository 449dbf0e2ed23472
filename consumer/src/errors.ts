import { CREDENTIALS_DEADLINE_MS, RECEIVE_MARGIN_MS, STALLED_CODE } from "./deadlines";
import { RECEIVE_THROTTLED_CODE } from "./receive-throttling";

/**
 * Every way talking to AWS can fail, as a small set of kinds. Each kind is a metrics label
 * (`sqs_consumer_errors_total{kind}`), a log field, and a hint an operator can act on. The README's
 * troubleshooting table is tested against this registry.
 */
export const AWS_ERROR_KINDS = {
  "access-denied":
    "IAM denied the call: the role in use lacks the action on this queue, or its trust policy rejects this pod.",
  "queue-missing": "The queue does not exist in this region and account (or was deleted).",
  credentials:
    "No valid credentials: none found, the web identity token was rejected, a credential source did not answer in time, or AWS rejected them before their stated expiry (clock skew, revoked session; they are refreshed at each retry).",
  kms: "The queue's KMS key refused: its key policy does not allow this role, or the key is disabled, missing, pending deletion or throttled.",
  throttling: "AWS asked us to slow down.",
  network:
    "The endpoint could not be reached, the connection broke, or it accepted the request and did not answer before the call's deadline.",
  server: "AWS answered with an internal error.",
  unknown: "Anything else; the message says what.",
} as const;

export type AwsErrorKind = keyof typeof AWS_ERROR_KINDS;

/** Thrown when the SDK's credential chain fails; the chain's own error is the cause. */
export class CredentialsUnavailableError extends Error {
  readonly code = "CredentialsUnavailable";
  constructor(cause: unknown) {
    super(`could not obtain AWS credentials: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "CredentialsUnavailableError";
  }
}

/** A failed AWS call, classified, with a hint that names what to check. */
export interface ClassifiedError {
  readonly kind: AwsErrorKind;
  /** The AWS error code or Node error code, e.g. AccessDenied, ECONNREFUSED. */
  readonly code: string;
  readonly message: string;
  readonly hint: string;
}

/** Context that makes hints specific: which queue, which role. */
export interface HintContext {
  readonly queueUrl: string;
  readonly region: string;
  readonly roleArn?: string | undefined;
  readonly tokenFile?: string | undefined;
  /** AWS_CONTAINER_CREDENTIALS_FULL_URI: the container credentials endpoint (the EKS Pod Identity Agent), when set. */
  readonly containerEndpoint?: string | undefined;
}

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/**
 * Error codes with which AWS rejects the credentials that signed a request although the SDK holds them
 * as valid: expired early (clock skew), revoked (IAM "revoke active sessions"), or unknown to the
 * service. The SQS client refreshes credentials when it sees one (credential-chain.ts).
 */
export const REJECTED_CREDENTIAL_CODES: ReadonlySet<string> = new Set([
  "ExpiredToken",
  "ExpiredTokenException",
  "InvalidClientTokenId",
  "UnrecognizedClientException",
  "RequestExpired",
]);
/** Code of CredentialsDeadlineError: a credential source accepted the connection and did not answer in time. */
export const CREDENTIALS_STALLED_CODE = "CredentialsStalled";
/** Signature problems: a skewed clock or a request signed for another region than the endpoint's. */
const SIGNATURE_CODES = new Set([
  "SignatureDoesNotMatch",
  "InvalidSignatureException",
  "IncompleteSignature",
  "RequestExpired",
  "RequestTimeTooSkewed",
  "RequestInTheFuture",
]);
const CREDENTIAL_CODES = new Set([
  "CredentialsProviderError",
  ...REJECTED_CREDENTIAL_CODES,
  "InvalidIdentityToken",
  "InvalidIdentityTokenException",
  "IDPCommunicationError",
  "IDPRejectedClaim",
  "MissingAuthenticationToken",
  ...SIGNATURE_CODES,
]);
/**
 * SQS's KMS errors (SQS API reference, "Common errors" of ReceiveMessage/SendMessage), by the modelled
 * name and by the query-compatible code the SDK reports in `Code`, mapped to what is wrong.
 */
const KMS_CODES: Readonly<
  Record<string, "denied" | "disabled" | "missing" | "state" | "usage" | "opt-in" | "throttled">
> = {
  KmsAccessDenied: "denied",
  "KMS.AccessDeniedException": "denied",
  KmsDisabled: "disabled",
  "KMS.DisabledException": "disabled",
  KmsNotFound: "missing",
  "KMS.NotFoundException": "missing",
  KmsInvalidState: "state",
  "KMS.InvalidStateException": "state",
  KmsInvalidKeyUsage: "usage",
  "KMS.InvalidKeyUsageException": "usage",
  KmsOptInRequired: "opt-in",
  "KMS.OptInRequired": "opt-in",
  KmsThrottled: "throttled",
  "KMS.ThrottlingException": "throttled",
};
const QUEUE_MISSING_CODES = new Set([
  "AWS.SimpleQueueService.NonExistentQueue",
  "QueueDoesNotExist",
  "NonExistentQueue",
]);
const THROTTLING_CODES = new Set([
  "ThrottlingException",
  "Throttling",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "OverLimit",
  RECEIVE_THROTTLED_CODE,
]);
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
  "ERR_SOCKET_CONNECTION_TIMEOUT",
  STALLED_CODE,
]);

/** Classifies an error thrown by an AWS SDK call (or by the credential chain behind it). */
export function classifyAwsError(error: unknown, context: HintContext): ClassifiedError {
  const fromCredentialChain = error instanceof CredentialsUnavailableError;
  const e = ((fromCredentialChain ? error.cause : error) ?? {}) as ErrorLike;
  const code = errorCode(e);
  const message = typeof e.message === "string" ? e.message : String(error);
  const kind = fromCredentialChain ? "credentials" : kindOf(code, message, e.$metadata?.httpStatusCode);
  return { kind, code, message, hint: hintFor(kind, code, message, context) };
}

function errorCode(e: ErrorLike): string {
  for (const candidate of [e.Code, e.code, e.name]) {
    if (typeof candidate === "string" && candidate !== "Error" && candidate !== "") return candidate;
  }
  const cause = e.cause as ErrorLike | undefined;
  if (cause && typeof cause.code === "string") return cause.code;
  return "Error";
}

function kindOf(code: string, message: string, status: number | undefined): AwsErrorKind {
  if (code === "AccessDenied" || code === "AccessDeniedException" || code === "AuthorizationError") {
    // STS answers AccessDenied when the role's trust policy does not accept this token.
    return /AssumeRoleWithWebIdentity/i.test(message) ? "credentials" : "access-denied";
  }
  if (code in KMS_CODES) return "kms";
  if (CREDENTIAL_CODES.has(code) || /could not load credentials/i.test(message)) return "credentials";
  if (QUEUE_MISSING_CODES.has(code)) return "queue-missing";
  if (THROTTLING_CODES.has(code) || status === 429) return "throttling";
  if (NETWORK_CODES.has(code) || /socket hang up|ECONNREFUSED|ECONNRESET|getaddrinfo/i.test(message)) return "network";
  if (status !== undefined && status >= 500) return "server";
  if (code === "InternalError" || code === "ServiceUnavailable" || code === "InternalFailure") return "server";
  return "unknown";
}

function hintFor(kind: AwsErrorKind, code: string, message: string, ctx: HintContext): string {
  const role = ctx.roleArn ?? "(no AWS_ROLE_ARN: not using IRSA)";
  switch (kind) {
    case "access-denied": {
      const action = /perform:\s*([\w:]+)/i.exec(message)?.[1] ?? "the SQS action";
      const principal = /User:\s*(\S+)/.exec(message)?.[1];
      return `IAM denied ${action}${principal ? ` to ${principal}` : ""}; role ${role}. Check that the role's access policy allows ${action} on this queue's ARN and that the pod runs with the expected service account.`;
    }
    case "queue-missing":
      return `Queue ${ctx.queueUrl} does not exist in ${ctx.region} for this account. Check QUEUE_URL and AWS_REGION, and that the stack that owns the queue is up.`;
    case "credentials":
      if (code === CREDENTIALS_STALLED_CODE) {
        return `The credential source accepted the connection but did not answer within ${CREDENTIALS_DEADLINE_MS / 1000} s (${ctx.tokenFile ? `STS, for the web identity token in ${ctx.tokenFile}` : "STS, the container credentials endpoint or the instance metadata service"}); retrying with backoff. Check egress to STS (AWS_ENDPOINT_URL_STS or sts.<region>.amazonaws.com, an STS VPC endpoint), proxies and NetworkPolicies.`;
      }
      if (REJECTED_CREDENTIAL_CODES.has(code)) {
        return `AWS rejected the credentials this request was signed with (${code}) before their stated expiry. Usual causes: the node's clock is skewed (check NTP/chrony on the node), or the role's sessions were revoked in IAM (\`Revoke active sessions\`). The consumer asks the credential chain for new credentials at each retry and recovers as soon as STS issues a new key; if it persists, check that the projected token ${ctx.tokenFile ?? "(none)"} is mounted and rotating and that STS is reachable.${code === "RequestExpired" ? ` Also check that requests are signed for the queue's region (${ctx.region}).` : ""}`;
      }
      if (SIGNATURE_CODES.has(code)) {
        return `AWS rejected the request's signature (${code}): check the node's clock (NTP/chrony; SigV4 allows 5 minutes of skew) and that requests are signed for the queue's region (${ctx.region}, from QUEUE_URL); a proxy that rewrites requests also breaks signatures.`;
      }
      if (ctx.containerEndpoint !== undefined && ctx.roleArn === undefined)
        return containerEndpointHint(code, message, ctx.containerEndpoint);
      if (/AssumeRoleWithWebIdentity/i.test(message)) {
        return `STS refused to let this pod assume ${role}: the role's trust policy must name this cluster's OIDC provider, :sub system:serviceaccount:<namespace>:<serviceaccount> and :aud sts.amazonaws.com.`;
      }
      if (code.startsWith("InvalidIdentityToken")) {
        return `STS rejected the web identity token in ${ctx.tokenFile ?? "AWS_WEB_IDENTITY_TOKEN_FILE"}: check that the cluster's OIDC provider is registered in IAM with the issuer URL of the token and audience sts.amazonaws.com.`;
      }
      if (/Expired/i.test(code)) {
        return `Credentials expired and were not refreshed: check that the projected token ${ctx.tokenFile ?? "(none)"} is mounted and rotating and that STS is reachable.`;
      }
      if (NETWORK_CODES.has(code) || /socket hang up|ECONNREFUSED|ECONNRESET|getaddrinfo/i.test(message)) {
        return `Could not reach STS to exchange the web identity token for credentials (${code}). Check egress to sts.${ctx.region}.amazonaws.com (AWS_STS_REGIONAL_ENDPOINTS=regional) or an STS VPC endpoint.`;
      }
      if (ctx.tokenFile === undefined && ctx.roleArn === undefined) {
        return "No AWS credentials found. On EKS annotate the service account with eks.amazonaws.com/role-arn (IRSA), or create an EKS Pod Identity association for it (identity pod-identity), and restart the pod; locally, configure a profile or set AWS_PROFILE.";
      }
      return `Could not obtain credentials for ${role} from ${ctx.tokenFile ?? "the default provider chain"}: check the token file and that STS is reachable.`;
    case "kms":
      return kmsHint(KMS_CODES[code] ?? "denied", code, role);
    case "throttling":
      return "AWS is throttling requests; backing off. Fewer receive loops or replicas lower the request rate.";
    case "network":
      if (code === STALLED_CODE) {
        return `SQS in ${ctx.region} accepted the request but did not answer before the call's deadline (the long-poll wait plus ${RECEIVE_MARGIN_MS / 1000} s); retrying with backoff. Check proxies, NetworkPolicies, NAT and VPC endpoints between the pod and SQS.`;
      }
      return `Cannot reach SQS in ${ctx.region} (${code}). Check the endpoint, DNS and egress (NetworkPolicy, security groups, VPC endpoints).`;
    case "server":
      return "SQS returned a server error; retrying with backoff.";
    case "unknown":
      return "Unexpected error from AWS; retrying with backoff.";
  }
}

function kmsHint(problem: (typeof KMS_CODES)[string], code: string, role: string): string {
  const policy = `the key policy of the queue's KMS key must allow kms:Decrypt to role ${role} (or delegate to IAM, and the role's policy must allow it)`;
  switch (problem) {
    case "denied":
      return `KMS denied the queue's key to this role (${code}): ${policy}. Senders need kms:GenerateDataKey too.`;
    case "disabled":
      return `The queue's KMS key is disabled (${code}): enable it, or point the queue's KmsMasterKeyId at an enabled key; ${policy}.`;
    case "missing":
      return `The queue's KMS key does not exist (${code}): it was deleted or KmsMasterKeyId names a wrong key or alias; point the queue at an existing key; ${policy}.`;
    case "state":
      return `The queue's KMS key is not usable in its current state (${code}), e.g. pending deletion or pending import: cancel the deletion or finish the import; ${policy}.`;
    case "usage":
      return `The queue's KMS key cannot encrypt and decrypt (${code}): SQS needs a symmetric encryption key; ${policy}.`;
    case "opt-in":
      return `KMS requires a subscription for this account (${code}); ${policy}.`;
    case "throttled":
      return `KMS throttled the data key requests for the queue's key (${code}); backing off. Raise the queue's KmsDataKeyReusePeriodSeconds (fewer KMS calls) or the account's KMS request quota; ${policy}.`;
  }
}

/**
 * Hints for the container credentials endpoint: under EKS Pod Identity, the agent on the node at
 * AWS_CONTAINER_CREDENTIALS_FULL_URI. An agent's 4xx reaches us as "Server responded with status: 4xx" only
 * from the container provider itself; through the default chain it becomes "Could not load credentials from
 * any providers" like an agent that does not answer, so that case names both causes.
 */
function containerEndpointHint(code: string, message: string, endpoint: string): string {
  const status = /status:\s*(\d{3})/.exec(message)?.[1];
  const association =
    "a Pod Identity association must exist for this pod's namespace and service account (aws eks list-pod-identity-associations) with a role that trusts pods.eks.amazonaws.com for this cluster, namespace and service account, and the projected token in AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE must be mounted; an association created or changed after the pod started applies only to pods started after it (restart the pods)";
  const agent =
    "the eks-pod-identity-agent add-on must run on this node (kubectl get daemonset -n kube-system eks-pod-identity-agent), nothing may block the pod from 169.254.170.23 (NetworkPolicies, host firewall), and the node's role needs eks-auth:AssumeRoleForPodIdentity (AmazonEKSWorkerNodePolicy)";
  if (status !== undefined && status.startsWith("4")) {
    return `The EKS Pod Identity Agent at ${endpoint} refused to issue credentials (HTTP ${status}, ${code}): ${association}.`;
  }
  if (
    NETWORK_CODES.has(code) ||
    /ECONNREFUSED|ECONNRESET|socket hang up|timed? ?out|stall/i.test(`${code} ${message}`)
  ) {
    return `The EKS Pod Identity Agent at ${endpoint} did not answer (${code}): ${agent}.`;
  }
  return `Could not get credentials from the EKS Pod Identity Agent at ${endpoint} (${code}: ${message}). Either the agent is not answering: ${agent}; or it refused this pod: ${association}.`;
}
