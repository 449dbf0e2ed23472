/**
 * Every way talking to AWS can fail, as a small set of kinds. Each kind is a metrics label
 * (`sqs_consumer_errors_total{kind}`), a log field, and a hint an operator can act on. The README's
 * troubleshooting table is tested against this registry.
 */
export const AWS_ERROR_KINDS = {
  "access-denied": "IAM denied the call: the role in use lacks the action on this queue, or its trust policy rejects this pod.",
  "queue-missing": "The queue does not exist in this region and account (or was deleted).",
  "credentials": "No valid credentials: none found, the web identity token was rejected, or they expired and could not be refreshed.",
  "throttling": "AWS asked us to slow down.",
  "network": "The endpoint could not be reached or the connection broke.",
  "server": "AWS answered with an internal error.",
  "unknown": "Anything else; the message says what.",
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

const CREDENTIAL_CODES = new Set([
  "CredentialsProviderError", "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
  "UnrecognizedClientException", "InvalidIdentityToken", "InvalidIdentityTokenException",
  "IDPCommunicationError", "IDPRejectedClaim", "SignatureDoesNotMatch", "InvalidSignatureException",
  "MissingAuthenticationToken", "IncompleteSignature",
]);
const QUEUE_MISSING_CODES = new Set(["AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "NonExistentQueue"]);
const THROTTLING_CODES = new Set(["ThrottlingException", "Throttling", "RequestThrottled", "RequestThrottledException", "TooManyRequestsException", "OverLimit", "KmsThrottled"]);
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "TimeoutError", "RequestTimeout", "RequestTimeoutException", "ERR_SOCKET_CONNECTION_TIMEOUT"]);

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
      if (ctx.containerEndpoint !== undefined && ctx.roleArn === undefined) return containerEndpointHint(code, message, ctx.containerEndpoint);
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
    case "throttling":
      return "AWS is throttling requests; backing off. Fewer receive loops or replicas lower the request rate.";
    case "network":
      return `Cannot reach SQS in ${ctx.region} (${code}). Check the endpoint, DNS and egress (NetworkPolicy, security groups, VPC endpoints).`;
    case "server":
      return "SQS returned a server error; retrying with backoff.";
    case "unknown":
      return "Unexpected error from AWS; retrying with backoff.";
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
  const association = "a Pod Identity association must exist for this pod's namespace and service account (aws eks list-pod-identity-associations) with a role that trusts pods.eks.amazonaws.com for this cluster, namespace and service account, and the projected token in AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE must be mounted; an association created or changed after the pod started applies only to pods started after it (restart the pods)";
  const agent = "the eks-pod-identity-agent add-on must run on this node (kubectl get daemonset -n kube-system eks-pod-identity-agent), nothing may block the pod from 169.254.170.23 (NetworkPolicies, host firewall), and the node's role needs eks-auth:AssumeRoleForPodIdentity (AmazonEKSWorkerNodePolicy)";
  if (status !== undefined && status.startsWith("4")) {
    return `The EKS Pod Identity Agent at ${endpoint} refused to issue credentials (HTTP ${status}, ${code}): ${association}.`;
  }
  if (NETWORK_CODES.has(code) || /ECONNREFUSED|ECONNRESET|socket hang up|timed? ?out|stall/i.test(`${code} ${message}`)) {
    return `The EKS Pod Identity Agent at ${endpoint} did not answer (${code}): ${agent}.`;
  }
  return `Could not get credentials from the EKS Pod Identity Agent at ${endpoint} (${code}: ${message}). Either the agent is not answering: ${agent}; or it refused this pod: ${association}.`;
}
