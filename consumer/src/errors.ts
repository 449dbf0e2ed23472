/**
 * Every error of the consumer, in one place:
 * - `ConsumerError`, the base of the errors the consumer raises: a stable `code` (PascalCase, as AWS
 *   writes its own error codes, which the same `code` log field carries), a `cause` and a `context`;
 * - one class per code (`ERROR_CODES`);
 * - what a failed AWS call is: a kind (`AWS_ERROR_KINDS`: a metrics label, a log field, docs/CONSUMER.md's
 *   troubleshooting table, tested against it) and a hint an operator can act on (`HINTS`, a table).
 */

/** The consumer's own error codes, and when each is raised. */
export const ERROR_CODES = {
  RequestStalled: "An SQS peer accepted a request and did not answer within the call's deadline.",
  ReceiveThrottled: "A FIFO receive was throttled: SQS voids its attempt id, so the SDK must not retry it.",
  CredentialsStalled: "A credential source accepted the connection and did not answer within the chain's deadline.",
  CredentialsUnavailable: "The SDK's credential chain failed; its own error is the cause.",
  HandlerTimeout: "A handler passed HANDLER_TIMEOUT_SECONDS; also the reason of its abort signal.",
  ClockSkew:
    "The local clock is far from AWS's: credentials arrived already expired, or a response's Date header disagrees.",
  HealthPortInUse: "Another process listens on HEALTH_PORT: the health server cannot start.",
  BatchAnswerInvalid: "A batch handler answered with something Lambda would not accept as a partial batch response.",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The base of every error the consumer raises: a stable `code`, the error that caused it, and what was going on. */
export class ConsumerError extends Error {
  readonly code: ErrorCode;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { readonly cause?: unknown; readonly context?: Readonly<Record<string, unknown>> } = {},
  ) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.context = options.context ?? {};
  }
}

/**
 * An SQS request the peer accepted and did not answer within its deadline, the long poll's wait plus
 * `marginMs` (`context.timeout`: the HTTP handler's own error). Not in `cause`, and neither its name nor
 * its code is one the SDK retries: the SDK also retries an error whose cause it would retry, and a stall
 * should cost one deadline, not three.
 */
export class RequestStalledError extends ConsumerError {
  constructor(timeout: Error, marginMs: number) {
    super("RequestStalled", `no answer within the deadline: ${timeout.message}`, { context: { timeout, marginMs } });
  }
}

/**
 * A throttled ReceiveMessage that carried a ReceiveRequestAttemptId (`context.throttling`: the SDK's
 * error, not in `cause` for the reason RequestStalledError gives). SQS voids an attempt id once a
 * receive with it is throttled and answers a retry with it InvalidParameterValue ("Troubleshoot FIFO
 * throttling issues"; awslabs/amazon-sqs-java-messaging-lib#213): the receive loop draws a new id.
 */
export class ReceiveThrottledError extends ConsumerError {
  constructor(throttling: { readonly name?: unknown; readonly message?: unknown }) {
    const name = typeof throttling.name === "string" ? throttling.name : "throttling";
    const detail = typeof throttling.message === "string" ? throttling.message : "throttled";
    super("ReceiveThrottled", `${name}: ${detail} (a throttled receive's attempt id is void: not retried with it)`, {
      context: { throttling },
    });
  }
}

/** The credential chain did not answer within its deadline (a source accepted the connection and stalled). */
export class CredentialsStalledError extends ConsumerError {
  constructor(deadlineMs: number) {
    super("CredentialsStalled", `the credential chain did not answer within ${deadlineMs} ms`, {
      context: { deadlineMs },
    });
  }
}

/** The SDK's credential chain failed; its own error is the cause. */
export class CredentialsUnavailableError extends ConsumerError {
  constructor(cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super("CredentialsUnavailable", `could not obtain AWS credentials: ${detail}`, { cause });
  }
}

/** Thrown into a handler's race when HANDLER_TIMEOUT_SECONDS passes; also the reason of its abort signal. */
export class HandlerTimeoutError extends ConsumerError {
  constructor(seconds: number) {
    super("HandlerTimeout", `handler did not finish within ${seconds} s`, { context: { seconds } });
  }
}

/**
 * The local clock disagrees with AWS's by about `skewMs` (positive: the local clock is ahead), as
 * `evidence` shows: `expired-on-arrival`, credentials that arrived with less time left than any source
 * issues (clock-skew.ts; `skewMs` is then a lower bound); `date-header`, an AWS response's Date header. Not thrown: it
 * carries the clock-skew hint for the warning (HINTS).
 */
export class ClockSkewError extends ConsumerError {
  constructor(evidence: "expired-on-arrival" | "date-header", skewMs: number) {
    super("ClockSkew", `the local clock is about ${Math.round(skewMs / 1000)} s off AWS's (${evidence})`, {
      context: { evidence, skewMs },
    });
  }
}

/**
 * HEALTH_PORT is taken on the health server's address (`context.host`: undefined for every interface):
 * the consumer cannot serve its probes, so it exits 78 with this message rather than a stack trace.
 */
export class HealthPortInUseError extends ConsumerError {
  constructor(port: number, host: string | undefined, cause: unknown) {
    super(
      "HealthPortInUse",
      `HEALTH_PORT ${port} is in use${host === undefined ? "" : ` on ${host}`}: stop what listens there, or set HEALTH_PORT to a free port (0 picks one)`,
      { cause, context: { port, host } },
    );
  }
}

/**
 * A batch handler's answer that Lambda would not accept as a partial batch response (an `itemIdentifier`
 * that is empty or names no message of the batch, a `batchItemFailures` that is not a list, ...): the
 * whole batch fails, as on Lambda ("Handling errors for an SQS event source in Lambda").
 * `context.awsRequestId` is the invocation's id, as the handler saw it.
 */
export class BatchAnswerInvalidError extends ConsumerError {
  constructor(reason: string, awsRequestId: string) {
    super("BatchAnswerInvalid", `the batch handler's answer is not a partial batch response: ${reason}`, {
      context: { awsRequestId },
    });
  }
}

/**
 * Every way talking to AWS can fail, as a small set of kinds. Each kind is a metrics label
 * (`sqs_consumer_errors_total{kind}`), a log field, and a hint an operator can act on. docs/CONSUMER.md's
 * troubleshooting table is generated from, and tested against, this registry.
 */
export const AWS_ERROR_KINDS = {
  "access-denied":
    "IAM denied the call: the role in use lacks the action on this queue, or its trust policy rejects this pod.",
  "queue-missing": "The queue does not exist in this region and account (or was deleted).",
  credentials:
    "No valid credentials: none found, the web identity token was rejected, a credential source did not answer " +
    "in time, or AWS rejected them before their stated expiry (clock skew, revoked session; they are refreshed " +
    "at each retry).",
  kms: "The queue's KMS key refused: its key policy does not allow this role, or the key is disabled, missing, pending deletion or throttled.",
  throttling: "AWS asked us to slow down.",
  network:
    "The endpoint could not be reached, the connection broke, or it accepted the request and did not answer before the call's deadline.",
  server: "AWS answered with an internal error.",
  unknown: "Anything else; the message says what.",
} as const;

export type AwsErrorKind = keyof typeof AWS_ERROR_KINDS;

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
  /**
   * The proxy SQS and STS requests go through (HTTPS_PROXY, else HTTP_PROXY), without credentials, and
   * NO_PROXY as set, when a proxy is set (proxy.ts).
   */
  readonly proxy?: { readonly url: string; readonly noProxy?: string | undefined } | undefined;
}

/** Classifies a failed AWS call; `classifyAwsError` with the hint context bound once. */
export type Classify = (error: unknown) => ClassifiedError;

/**
 * Error codes with which AWS rejects the credentials that signed a request although the SDK holds them
 * as valid: expired early (clock skew), revoked (IAM "revoke active sessions"), or unknown to the
 * service. The SQS client refreshes credentials when it sees one (sqs-client.ts).
 */
export const REJECTED_CREDENTIAL_CODES: ReadonlySet<string> = new Set([
  "ExpiredToken",
  "ExpiredTokenException",
  "InvalidClientTokenId",
  "UnrecognizedClientException",
  "RequestExpired",
]);
/** Signature problems: a skewed clock or a request signed for another region than the endpoint's. */
const SIGNATURE_CODES = new Set([
  "SignatureDoesNotMatch",
  "InvalidSignatureException",
  "IncompleteSignature",
  "RequestExpired",
  "RequestTimeTooSkewed",
  "RequestInTheFuture",
]);
const CREDENTIAL_CODES = new Set<string>([
  "CredentialsProviderError",
  "ClockSkew" satisfies ErrorCode,
  ...REJECTED_CREDENTIAL_CODES,
  "InvalidIdentityToken",
  "InvalidIdentityTokenException",
  "IDPCommunicationError",
  "IDPRejectedClaim",
  "MissingAuthenticationToken",
  ...SIGNATURE_CODES,
]);

type KmsProblem = "denied" | "disabled" | "missing" | "state" | "usage" | "opt-in" | "throttled";
/**
 * SQS's KMS errors (SQS API reference, "Common errors" of ReceiveMessage/SendMessage), by the modelled
 * name and by the query-compatible code the SDK reports in `Code`, mapped to what is wrong.
 */
const KMS_CODES: Readonly<Record<string, KmsProblem>> = {
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
const THROTTLING_CODES = new Set<string>([
  "ThrottlingException",
  "Throttling",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "OverLimit",
  "ReceiveThrottled" satisfies ErrorCode,
]);
const NETWORK_CODES = new Set<string>([
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
  // Node's agents: the proxy refused to open a tunnel (CONNECT answered other than 2xx).
  "ERR_PROXY_TUNNEL",
  "RequestStalled" satisfies ErrorCode,
]);
const NETWORK_MESSAGE = /socket hang up|ECONNREFUSED|ECONNRESET|getaddrinfo/i;

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** Classifies an error thrown by an AWS SDK call (or by the credential chain behind it). */
export function classifyAwsError(error: unknown, context: HintContext): ClassifiedError {
  const fromCredentialChain = error instanceof CredentialsUnavailableError;
  const e = ((fromCredentialChain ? error.cause : error) ?? {}) as ErrorLike;
  const code = errorCode(e);
  const message = typeof e.message === "string" ? e.message : String(error);
  const kind = fromCredentialChain ? "credentials" : kindOf(code, message, e.$metadata?.httpStatusCode);
  const own = e instanceof ConsumerError ? e.context : {};
  return { kind, code, message, hint: hintFor({ ...context, kind, code, message, errorContext: own }) };
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
  // 407 Proxy Authentication Required comes from a proxy, never from SQS (RFC 9110, 15.5.8).
  if (NETWORK_CODES.has(code) || NETWORK_MESSAGE.test(message) || status === 407) return "network";
  if (status !== undefined && status >= 500) return "server";
  if (code === "InternalError" || code === "ServiceUnavailable" || code === "InternalFailure") return "server";
  return "unknown";
}

/** What a hint may say: the classified error, the consumer's own context of it, and the hint context. */
interface Facts extends HintContext {
  readonly kind: AwsErrorKind;
  readonly code: string;
  readonly message: string;
  /** The `context` of the consumer's own error, when it is one. */
  readonly errorContext: Readonly<Record<string, unknown>>;
}

/** One row of the hint table: the first row of an error's kind whose `when` holds gives its hint. */
interface HintRow {
  readonly kind: AwsErrorKind;
  readonly when?: (f: Facts) => boolean;
  readonly hint: (f: Facts) => string;
}

/** The host of the queue URL (where the SDK sends SQS requests unless an endpoint is configured). */
const sqsHost = (queueUrl: string, region: string): string => {
  try {
    return new URL(queueUrl).hostname;
  } catch {
    return `sqs.${region}.amazonaws.com`;
  }
};
const seconds = (ms: unknown): string => (typeof ms === "number" ? String(ms / 1000) : "?");
const role = (f: Facts): string => f.roleArn ?? "(no AWS_ROLE_ARN: not using IRSA)";
const deniedAction = (f: Facts): string => /perform:\s*([\w:]+)/i.exec(f.message)?.[1] ?? "the SQS action";
const deniedPrincipal = (f: Facts): string => {
  const principal = /User:\s*(\S+)/.exec(f.message)?.[1];
  return principal ? ` to ${principal}` : "";
};
const kmsProblem = (problem: KmsProblem) => (f: Facts) => KMS_CODES[f.code] === problem;
const kmsPolicy = (f: Facts): string =>
  `the key policy of the queue's KMS key must allow kms:Decrypt to role ${role(f)} ` +
  "(or delegate to IAM, and the role's policy must allow it)";
/** Under EKS Pod Identity (a container endpoint and no IRSA role), hints name the agent and the association. */
const podIdentity = (f: Facts): boolean => f.containerEndpoint !== undefined && f.roleArn === undefined;
const agentStatus = (f: Facts): string | undefined => /status:\s*(\d{3})/.exec(f.message)?.[1];
const POD_IDENTITY_ASSOCIATION =
  "a Pod Identity association must exist for this pod's namespace and service account " +
  "(aws eks list-pod-identity-associations) with a role that trusts pods.eks.amazonaws.com for this cluster, " +
  "namespace and service account, and the projected token in AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE must be " +
  "mounted; an association created or changed after the pod started applies only to pods started after it " +
  "(restart the pods)";
const POD_IDENTITY_AGENT =
  "the eks-pod-identity-agent add-on must run on this node (kubectl get daemonset -n kube-system " +
  "eks-pod-identity-agent), nothing may block the pod from 169.254.170.23 (NetworkPolicies, host firewall), " +
  "and the node's role needs eks-auth:AssumeRoleForPodIdentity (AmazonEKSWorkerNodePolicy)";

/** Where requests go through a proxy: which, and how to reach a host directly instead. */
const throughProxy = (f: Facts, service: string, host: string): string =>
  `Requests to ${service} go through the proxy ${f.proxy?.url} (HTTPS_PROXY/HTTP_PROXY)` +
  (f.proxy?.noProxy ? ` unless NO_PROXY (${f.proxy.noProxy}) names the host` : "") +
  `: check that the proxy is up and reachable from the pod, that it allows CONNECT to ${host}:443 ` +
  "(ERR_PROXY_TUNNEL carries its answer: 403 refused by its rules, 407 missing or wrong proxy credentials in the " +
  "proxy URL), and that it resolves that host; or list the host in NO_PROXY to reach it directly (e.g. a VPC endpoint).";

/** The hints, by kind and case, in the order they are tried. */
export const HINTS: readonly HintRow[] = [
  {
    kind: "access-denied",
    hint: (f) =>
      `IAM denied ${deniedAction(f)}${deniedPrincipal(f)}; role ${role(f)}. Check that the role's access policy ` +
      `allows ${deniedAction(f)} on this queue's ARN and that the pod runs with the expected service account.`,
  },
  {
    kind: "queue-missing",
    hint: (f) =>
      `Queue ${f.queueUrl} does not exist in ${f.region} for this account. ` +
      "Check QUEUE_URL and AWS_REGION, and that the stack that owns the queue is up.",
  },
  {
    kind: "credentials",
    when: (f) => f.code === "CredentialsStalled",
    hint: (f) =>
      `The credential source accepted the connection but did not answer within ${seconds(f.errorContext.deadlineMs)} s ` +
      `(${f.tokenFile ? `STS, for the web identity token in ${f.tokenFile}` : "STS, the container credentials endpoint or the instance metadata service"}); ` +
      "retrying with backoff. Check egress to STS (AWS_ENDPOINT_URL_STS or sts.<region>.amazonaws.com, " +
      "an STS VPC endpoint), proxies and NetworkPolicies.",
  },
  {
    kind: "credentials",
    when: (f) => f.code === "ClockSkew",
    hint: (f) =>
      `This node's clock is ${f.errorContext.evidence === "date-header" ? "about" : "at least"} ` +
      `${Math.round(Number(f.errorContext.skewMs) / 1000)} s off AWS's (${String(f.errorContext.evidence)}): ` +
      "web identity credentials look expired when they arrive, so the SDK would ask STS again before every " +
      "request. Fix the node's clock (NTP/chrony: `chronyc tracking`; EKS nodes sync with the Amazon Time Sync " +
      "Service at 169.254.169.123). Meanwhile the consumer asks for new credentials at most once a minute (and once " +
      "after each request AWS rejects for expired credentials), and " +
      "SigV4 requests signed more than 5 minutes off are refused (RequestTimeTooSkewed) until the SDK corrects " +
      "its clock offset from AWS's answers.",
  },
  {
    kind: "credentials",
    when: (f) => REJECTED_CREDENTIAL_CODES.has(f.code),
    hint: (f) =>
      `AWS rejected the credentials this request was signed with (${f.code}) before their stated expiry. ` +
      "Usual causes: the node's clock is skewed (check NTP/chrony on the node), or the role's sessions were " +
      "revoked in IAM (`Revoke active sessions`). The consumer asks the credential chain for new credentials " +
      "at each retry and recovers as soon as STS issues a new key; if it persists, check that the projected " +
      `token ${f.tokenFile ?? "(none)"} is mounted and rotating and that STS is reachable.` +
      (f.code === "RequestExpired" ? ` Also check that requests are signed for the queue's region (${f.region}).` : ""),
  },
  {
    kind: "credentials",
    when: (f) => SIGNATURE_CODES.has(f.code),
    hint: (f) =>
      `AWS rejected the request's signature (${f.code}): check the node's clock (NTP/chrony; SigV4 allows ` +
      `5 minutes of skew) and that requests are signed for the queue's region (${f.region}, from QUEUE_URL); ` +
      "a proxy that rewrites requests also breaks signatures.",
  },
  {
    kind: "credentials",
    when: (f) => podIdentity(f) && agentStatus(f)?.startsWith("4") === true,
    hint: (f) =>
      `The EKS Pod Identity Agent at ${f.containerEndpoint} refused to issue credentials ` +
      `(HTTP ${agentStatus(f)}, ${f.code}): ${POD_IDENTITY_ASSOCIATION}.`,
  },
  {
    kind: "credentials",
    when: (f) =>
      podIdentity(f) &&
      (NETWORK_CODES.has(f.code) ||
        /ECONNREFUSED|ECONNRESET|socket hang up|timed? ?out|stall/i.test(`${f.code} ${f.message}`)),
    hint: (f) =>
      `The EKS Pod Identity Agent at ${f.containerEndpoint} did not answer (${f.code}): ${POD_IDENTITY_AGENT}.`,
  },
  // Through the default chain an agent's 4xx becomes "Could not load credentials from any providers", like
  // an agent that does not answer: this hint names both causes.
  {
    kind: "credentials",
    when: podIdentity,
    hint: (f) =>
      `Could not get credentials from the EKS Pod Identity Agent at ${f.containerEndpoint} (${f.code}: ${f.message}). ` +
      `Either the agent is not answering: ${POD_IDENTITY_AGENT}; or it refused this pod: ${POD_IDENTITY_ASSOCIATION}.`,
  },
  {
    kind: "credentials",
    when: (f) => /AssumeRoleWithWebIdentity/i.test(f.message),
    hint: (f) =>
      `STS refused to let this pod assume ${role(f)}: the role's trust policy must name this cluster's OIDC ` +
      "provider, :sub system:serviceaccount:<namespace>:<serviceaccount> and :aud sts.amazonaws.com.",
  },
  {
    kind: "credentials",
    when: (f) => f.code.startsWith("InvalidIdentityToken"),
    hint: (f) =>
      `STS rejected the web identity token in ${f.tokenFile ?? "AWS_WEB_IDENTITY_TOKEN_FILE"}: check that the ` +
      "cluster's OIDC provider is registered in IAM with the issuer URL of the token and audience sts.amazonaws.com.",
  },
  {
    kind: "credentials",
    when: (f) => /Expired/i.test(f.code),
    hint: (f) =>
      `Credentials expired and were not refreshed: check that the projected token ${f.tokenFile ?? "(none)"} ` +
      "is mounted and rotating and that STS is reachable.",
  },
  {
    kind: "credentials",
    when: (f) => f.proxy !== undefined && (NETWORK_CODES.has(f.code) || NETWORK_MESSAGE.test(f.message)),
    hint: (f) =>
      `Could not reach STS to exchange the web identity token for credentials (${f.code}). ` +
      throughProxy(f, "STS", `sts.${f.region}.amazonaws.com`),
  },
  {
    kind: "credentials",
    when: (f) => NETWORK_CODES.has(f.code) || NETWORK_MESSAGE.test(f.message),
    hint: (f) =>
      `Could not reach STS to exchange the web identity token for credentials (${f.code}). Check egress to ` +
      `sts.${f.region}.amazonaws.com (AWS_STS_REGIONAL_ENDPOINTS=regional) or an STS VPC endpoint.`,
  },
  {
    kind: "credentials",
    when: (f) => f.tokenFile === undefined && f.roleArn === undefined,
    hint: () =>
      "No AWS credentials found. On EKS annotate the service account with eks.amazonaws.com/role-arn (IRSA), " +
      "or create an EKS Pod Identity association for it (identity pod-identity), and restart the pod; " +
      "locally, configure a profile or set AWS_PROFILE.",
  },
  {
    kind: "credentials",
    hint: (f) =>
      `Could not obtain credentials for ${role(f)} from ${f.tokenFile ?? "the default provider chain"}: ` +
      "check the token file and that STS is reachable.",
  },
  {
    kind: "kms",
    when: kmsProblem("disabled"),
    hint: (f) =>
      `The queue's KMS key is disabled (${f.code}): enable it, or point the queue's KmsMasterKeyId at an ` +
      `enabled key; ${kmsPolicy(f)}.`,
  },
  {
    kind: "kms",
    when: kmsProblem("missing"),
    hint: (f) =>
      `The queue's KMS key does not exist (${f.code}): it was deleted or KmsMasterKeyId names a wrong key or ` +
      `alias; point the queue at an existing key; ${kmsPolicy(f)}.`,
  },
  {
    kind: "kms",
    when: kmsProblem("state"),
    hint: (f) =>
      `The queue's KMS key is not usable in its current state (${f.code}), e.g. pending deletion or pending ` +
      `import: cancel the deletion or finish the import; ${kmsPolicy(f)}.`,
  },
  {
    kind: "kms",
    when: kmsProblem("usage"),
    hint: (f) =>
      `The queue's KMS key cannot encrypt and decrypt (${f.code}): SQS needs a symmetric encryption key; ${kmsPolicy(f)}.`,
  },
  {
    kind: "kms",
    when: kmsProblem("opt-in"),
    hint: (f) => `KMS requires a subscription for this account (${f.code}); ${kmsPolicy(f)}.`,
  },
  {
    kind: "kms",
    when: kmsProblem("throttled"),
    hint: (f) =>
      `KMS throttled the data key requests for the queue's key (${f.code}); backing off. Raise the queue's ` +
      `KmsDataKeyReusePeriodSeconds (fewer KMS calls) or the account's KMS request quota; ${kmsPolicy(f)}.`,
  },
  {
    kind: "kms",
    hint: (f) =>
      `KMS denied the queue's key to this role (${f.code}): ${kmsPolicy(f)}. Senders need kms:GenerateDataKey too.`,
  },
  // OverLimit is not about request rate: SQS refuses a receive once the queue holds its limit of
  // in-flight messages, those received and not yet deleted (SQS API reference, ReceiveMessage, errors:
  // "OverLimit ... the maximum number of in flight messages is reached"; SQS Developer Guide, "Amazon SQS
  // message quotas", in-flight messages per queue: 120,000 for standard queues).
  {
    kind: "throttling",
    when: (f) => f.code === "OverLimit",
    hint: () =>
      "SQS refused the receive: the queue has reached its limit of in-flight messages (received and not yet " +
      "deleted; 120,000 on a standard queue). Fewer receive loops or replicas do not help: messages must be " +
      "deleted, or their visibility ended, sooner. Check for handlers that fail or run long " +
      "(sqs_consumer_messages_in_flight, sqs_consumer_messages_failed_total), other consumers of this queue " +
      "that receive without deleting, and a visibility timeout far longer than handlers need; backing off.",
  },
  {
    kind: "throttling",
    hint: () => "AWS is throttling requests; backing off. Fewer receive loops or replicas lower the request rate.",
  },
  {
    kind: "network",
    when: (f) => f.code === "RequestStalled",
    hint: (f) =>
      `SQS in ${f.region} accepted the request but did not answer before the call's deadline (the long-poll ` +
      `wait plus ${seconds(f.errorContext.marginMs)} s); retrying with backoff. Check proxies, NetworkPolicies, ` +
      "NAT and VPC endpoints between the pod and SQS.",
  },
  {
    kind: "network",
    when: (f) => f.proxy !== undefined,
    hint: (f) =>
      `Cannot reach SQS in ${f.region} (${f.code}). ` + throughProxy(f, "SQS", sqsHost(f.queueUrl, f.region)),
  },
  {
    kind: "network",
    hint: (f) =>
      `Cannot reach SQS in ${f.region} (${f.code}). Check the endpoint, DNS and egress ` +
      "(NetworkPolicy, security groups, VPC endpoints).",
  },
  { kind: "server", hint: () => "SQS returned a server error; retrying with backoff." },
  { kind: "unknown", hint: () => "Unexpected error from AWS; retrying with backoff." },
];

function hintFor(facts: Facts): string {
  const row = HINTS.find((r) => r.kind === facts.kind && (r.when === undefined || r.when(facts)));
  return row === undefined ? AWS_ERROR_KINDS[facts.kind] : row.hint(facts);
}
