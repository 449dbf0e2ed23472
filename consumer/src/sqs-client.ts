import { SQSClient, type ServiceInputTypes, type ServiceOutputTypes } from "@aws-sdk/client-sqs";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import type {
  AwsCredentialIdentity,
  FinalizeRequestMiddleware,
  InitializeMiddleware,
  Pluggable,
  RelativeMiddlewareOptions,
} from "@smithy/types";
import {
  CredentialsStalledError,
  CredentialsUnavailableError,
  REJECTED_CREDENTIAL_CODES,
  ReceiveThrottledError,
  RequestStalledError,
} from "./errors";
import { SDK_REFRESH_WINDOW_MS, type ClockSkew } from "./clock-skew";
import { parseProxySettings, proxyAgentOptions, type ProxySettings } from "./proxy";
import { describeProblems, type EnvLike, type Settings } from "./settings";

/**
 * The deadlines of every network call the consumer makes, in one place. A call that runs past its
 * deadline fails like any other error (kind `network` or `credentials`, with a hint), and the caller
 * backs off; nothing waits on a silent peer for ever.
 *
 * Why each layer is needed (checked in @smithy/node-http-handler 4.14 and
 * @aws-sdk/credential-provider-node 3.972, dist-cjs):
 * - the node HTTP handler only logs a warning when `requestTimeout` passes unless it is built with
 *   `throwOnRequestTimeout: true`; the SQS client's default socket timeout is 15 minutes;
 * - the web identity provider's STS client takes its `requestHandler` from the provider's
 *   `clientConfig`, else from the calling client's, with its own retries;
 * - the container credentials provider (`fromHttp`, EKS Pod Identity) builds its own handler with a
 *   1 s request timeout that only warns, so it is bounded only by the deadline around the whole chain;
 * - IMDS and the legacy ECS endpoint use a 1 s socket timeout, which does end a stalled request.
 */
export const DEADLINES = {
  /** Time to open a TCP (and TLS) connection to SQS or STS. */
  connectMs: 3_000,
  /** Head-room after a long poll's wait time before a ReceiveMessage counts as stalled. */
  receiveMarginMs: 5_000,
  /** One HTTP attempt to STS (AssumeRoleWithWebIdentity answers in well under a second). */
  stsAttemptMs: 5_000,
  /**
   * The whole credential chain, every source and retry included. Past it the chain's memoised state is
   * dropped (a request stuck inside it would otherwise hold every later call) and the call fails.
   */
  credentialsMs: 10_000,
} as const;

/**
 * Deadline of one SQS HTTP attempt. Every SQS call of a process shares the client's handler, and the
 * longest legitimate one is a long poll of `waitTimeSeconds`, so that plus a margin bounds them all.
 */
function sqsAttemptTimeoutMs(waitTimeSeconds: number): number {
  return waitTimeSeconds * 1000 + DEADLINES.receiveMarginMs;
}

/** Exponential backoff with full jitter, for retried AWS calls: spreads retries of many pods so they do not retry in step. */
export function backoffDelayMs(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling * random());
}

/** Resolves after `ms`, or at once when the signal aborts. Never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.max(0, ms));
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * The SQS client: the SDK's defaults (credential chain, retries, configured endpoints from
 * AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL), with deadlines on every call (DEADLINES), credentials
 * refreshed when AWS rejects them early, and throttled FIFO receives left to the receive loop to retry
 * with a new attempt id. With `clock`, a skewed local clock is detected (credentials that arrive expired,
 * far-off Date headers). With or without it, credentials that arrive inside the SDK's refresh window are
 * fetched at most once per CREDENTIAL_REFRESH_FLOOR_MS, besides one fetch after each request AWS rejects
 * for its credentials (floorRefreshes). Requests are signed for `settings.region`, the queue's region;
 * STS is asked in the pod's own AWS_REGION. SQS and STS requests go through the proxy that HTTPS_PROXY/HTTP_PROXY
 * name, unless NO_PROXY names their host (proxy.ts); the deadlines hold for the whole request, the tunnel
 * through the proxy included (the handler's `requestTimeout` runs from the moment the request is made).
 *
 * @throws Error naming every bad proxy variable (see parseProxySettings); `runAsProcess` exits 78 before.
 */
export function createSqsClient(settings: Settings, env: EnvLike, clock?: ClockSkew): SQSClient {
  const parsedProxy = parseProxySettings(env);
  if (!parsedProxy.ok) throw new Error(`invalid proxy configuration: ${describeProblems(parsedProxy.problems)}`);
  const viaProxy = proxyAgentOptions(parsedProxy.value);
  const attemptMs = sqsAttemptTimeoutMs(settings.waitTimeSeconds);
  const client = new SQSClient({
    region: settings.region,
    // The SDK's own default chain, unchanged as the source (memoised, refreshed before expiry), bounded
    // by a deadline; its failures are marked, so "STS unreachable" is not mistaken for "SQS unreachable".
    credentialDefaultProvider: deadlineBoundChain({
      stsRegion: env.AWS_REGION?.trim() || settings.region,
      proxy: parsedProxy.value,
      clock,
    }),
    // The SDK sends each request to the host in QueueUrl unless the client's `endpoint` is set in code;
    // an endpoint configured through the standard variables must win the same way, or a queue URL whose
    // host does not resolve (emulators, VPC endpoints with private DNS off) could never be reached.
    ...(hasConfiguredEndpoint(env) ? { useQueueUrlAsEndpoint: false } : {}),
    // The SDK checks MD5OfBody for a whole ReceiveMessage and fails all of it for one bad message; the
    // consumer checks each message itself, body and attributes (dispatch.ts), and sets the bad ones aside.
    md5: false,
    requestHandler: {
      // A long poll legitimately takes WaitTimeSeconds; anything longer is a stalled connection, and
      // without throwOnRequestTimeout the handler would only log a warning and keep waiting.
      requestTimeout: attemptMs,
      throwOnRequestTimeout: true,
      // Headers received, then silence: the socket's idle timeout ends that (the SDK's default is 15 min).
      socketTimeout: attemptMs,
      connectionTimeout: DEADLINES.connectMs,
      httpAgent: { keepAlive: true, maxSockets: settings.receiveLoops + 32, ...viaProxy },
      httpsAgent: { keepAlive: true, maxSockets: settings.receiveLoops + 32, ...viaProxy },
    },
  });
  client.middlewareStack.use(stallsAreNotRetried);
  client.middlewareStack.use(throttledReceivesAreNotRetried);
  client.middlewareStack.use(refreshRejectedCredentials(() => client.config.credentials));
  if (clock) client.middlewareStack.use(clock.watchDateHeaders);
  return client;
}

function hasConfiguredEndpoint(env: EnvLike): boolean {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === "true") return false;
  return Boolean(env.AWS_ENDPOINT_URL_SQS || env.AWS_ENDPOINT_URL);
}

/** Inside the SDK's retry loop: what fails there is seen by each attempt, before the retry strategy decides. */
const INSIDE_RETRIES: Omit<RelativeMiddlewareOptions, "name"> = {
  relation: "after",
  toMiddleware: "retryMiddleware",
  override: true,
};

/** True for the error the node HTTP handler throws when `requestTimeout` passes (with throwOnRequestTimeout). */
function isRequestTimeout(error: unknown): error is Error {
  return error instanceof Error && error.name === "TimeoutError" && /requestTimeout/.test(error.message);
}

/**
 * A client plugin: turns a request timeout into RequestStalledError, which the SDK's retry strategy does
 * not retry, so a stall costs one deadline and the consumer's own backoff decides when to try again.
 */
const stallsAreNotRetried: Pluggable<ServiceInputTypes, ServiceOutputTypes> = {
  applyToStack(stack) {
    const middleware: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        throw isRequestTimeout(error) ? new RequestStalledError(error, DEADLINES.receiveMarginMs) : error;
      }
    };
    stack.addRelativeTo(middleware, { name: "stallsEndTheCall", ...INSIDE_RETRIES });
  },
};

/**
 * Error names the SDK's standard retry strategy treats as throttling, and retries
 * (@smithy/core, retry/service-error-classification: THROTTLING_ERROR_CODES, plus HTTP 429 and the
 * `$retryable.throttling` trait, checked in 3.x dist-es).
 */
const SDK_THROTTLING_NAMES: ReadonlySet<string> = new Set([
  "BandwidthLimitExceeded",
  "EC2ThrottledException",
  "LimitExceededException",
  "PriorRequestNotComplete",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "ThrottledException",
  "Throttling",
  "ThrottlingException",
  "TooManyRequestsException",
  "TransactionInProgressException",
]);

interface ThrottlingLike {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly $retryable?: { readonly throttling?: boolean };
}

/** True for an error the SDK's retry strategy would retry as throttling. */
function isSdkThrottling(error: unknown): error is ThrottlingLike {
  if (typeof error !== "object" || error === null) return false;
  const e = error as ThrottlingLike;
  return (
    e.$metadata?.httpStatusCode === 429 ||
    (typeof e.name === "string" && SDK_THROTTLING_NAMES.has(e.name)) ||
    e.$retryable?.throttling === true
  );
}

/**
 * A client plugin: turns throttling of a ReceiveMessage that carries a ReceiveRequestAttemptId into
 * ReceiveThrottledError, which the retry strategy does not retry (a retry would reuse the voided id).
 * Other calls, and receives without an attempt id (standard queues), keep the SDK's retries.
 */
export const throttledReceivesAreNotRetried: Pluggable<ServiceInputTypes, ServiceOutputTypes> = {
  applyToStack(stack) {
    const middleware: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> =
      (next, context) => async (args) => {
        try {
          return await next(args);
        } catch (error) {
          const attemptId = (args.input as { ReceiveRequestAttemptId?: unknown }).ReceiveRequestAttemptId;
          if (context.commandName === "ReceiveMessageCommand" && attemptId !== undefined && isSdkThrottling(error))
            throw new ReceiveThrottledError(error);
          throw error;
        }
      };
    stack.addRelativeTo(middleware, { name: "throttledReceivesEndTheCall", ...INSIDE_RETRIES });
  },
};

/** What the SDK passes to a `credentialDefaultProvider` (the client's resolved config). */
type ChainInit = NonNullable<Parameters<typeof defaultProvider>[0]>;
/** What the SDK passes on each call: `forceRefresh` makes the chain fetch anew (MemoizedProvider contract). */
type ChainProps = Parameters<ReturnType<typeof defaultProvider>>[0];

interface CredentialChainOptions {
  /**
   * Region for STS (AssumeRoleWithWebIdentity): the pod's own AWS_REGION, so a regional STS endpoint or
   * VPC endpoint next to the cluster is used even when the queue is in another region.
   */
  readonly stsRegion?: string | undefined;
  /** Deadline of one credential fetch, every source and retry included (ms). Default DEADLINES.credentialsMs. */
  readonly deadlineMs?: number;
  /** Told of each fetch's expiry, to detect a skewed clock (credentials that arrive expired). */
  readonly clock?: ClockSkew | undefined;
  /** The proxy STS is reached through (unless NO_PROXY names its host); none by default. */
  readonly proxy?: ProxySettings;
}

/**
 * The least time between two fetches of credentials that arrived inside the SDK's refresh window (less
 * than SDK_REFRESH_WINDOW_MS before their stated expiry: a skewed clock, or a source handing out nearly
 * spent credentials): without it the SDK would ask STS before every request. The credentials kept
 * meanwhile are the ones just issued, valid by AWS's clock. A `forceRefresh` (AWS rejected the
 * credentials: `refreshRejectedCredentials`) is held back only by FORCED_REFRESH_FLOOR_MS, so credentials
 * that really expired are used until the first request AWS rejects, and replaced right after it.
 */
export const CREDENTIAL_REFRESH_FLOOR_MS = 60_000;
/**
 * The least time between two fetches a `forceRefresh` asks for. The SDK's cache passes a `forceRefresh`
 * on twice when the fresh credentials are inside its refresh window (@smithy/core
 * memoizeIdentityProvider), and many requests rejected together each ask: one fetch serves them all.
 */
export const FORCED_REFRESH_FLOOR_MS = 5_000;

/** A credential provider as the SDK calls it: `forceRefresh` asks for a fetch whatever is cached. */
export type CredentialProvider = (props?: { readonly forceRefresh?: boolean }) => Promise<AwsCredentialIdentity>;

/**
 * Wraps a credential provider so that credentials arriving inside the SDK's refresh window are served
 * again for CREDENTIAL_REFRESH_FLOOR_MS (FORCED_REFRESH_FLOOR_MS for a `forceRefresh` call) instead of
 * being fetched anew on each call. Credentials outside the window (or without an expiry) are served
 * from the last fetch until they enter it, as the chain's own cache would serve them: the SDK calls a
 * `credentialDefaultProvider`'s provider before every request without caching its answer (@aws-sdk/core
 * httpAuthSchemes, normalizeCredentialProvider marks it memoized as it is), and a fetch costs a deadline
 * timer and a race. A `forceRefresh` always reaches `fetch` (past its floor). Errors of `fetch` pass
 * through. `now` is the clock in ms (default Date.now).
 */
export function floorRefreshes(fetch: CredentialProvider, now: () => number = Date.now): CredentialProvider {
  let held: { readonly credentials: AwsCredentialIdentity; readonly at: number } | undefined;
  // The set returned last, and whether it arrived outside the window (a normal set, served from here until it enters it).
  let last: { readonly credentials: AwsCredentialIdentity; readonly arrivedOutside: boolean } | undefined;
  const insideWindow = (credentials: AwsCredentialIdentity, at: number): boolean =>
    credentials.expiration !== undefined && credentials.expiration.getTime() - at < SDK_REFRESH_WINDOW_MS;
  return async (props) => {
    const forced = props?.forceRefresh === true;
    if (!forced && last?.arrivedOutside === true && !insideWindow(last.credentials, now())) return last.credentials;
    const floor = forced ? FORCED_REFRESH_FLOOR_MS : CREDENTIAL_REFRESH_FLOOR_MS;
    if (held !== undefined && now() - held.at < floor) return held.credentials;
    let credentials = await fetch(props);
    // The chain caches too (credential-provider-node's memoize): asked a moment after the SDK found a normal
    // set expiring, it can hand back that same set, now inside the window. That is not what the source
    // issues now: ask it again. (A set that arrived inside the window, a skewed clock's, is held instead.)
    if (
      last?.arrivedOutside === true &&
      sameCredentials(credentials, last.credentials) &&
      insideWindow(credentials, now())
    )
      credentials = await fetch({ ...props, forceRefresh: true });
    const at = now();
    const inside = insideWindow(credentials, at);
    held = inside ? { credentials, at } : undefined;
    if (!sameCredentials(credentials, last?.credentials)) last = { credentials, arrivedOutside: !inside };
    return credentials;
  };
}

function sameCredentials(a: AwsCredentialIdentity, b: AwsCredentialIdentity | undefined): boolean {
  return a.accessKeyId === b?.accessKeyId && a.expiration?.getTime() === b.expiration?.getTime();
}

/**
 * The SDK's default credential chain, unchanged as the source of credentials, wrapped so that a
 * fetch always ends: each STS attempt has a request timeout that fails (not only warns), and the
 * whole fetch has a deadline. When the deadline passes, the chain's memoised state is dropped and a
 * fresh chain serves the next call, since a request stuck inside the old one would hold every later
 * call (its lock is awaited before its cache is read). Failures are CredentialsUnavailableError, so
 * "STS unreachable" is never mistaken for "SQS unreachable".
 *
 * Returns a `credentialDefaultProvider` for an SDK client. The provider honours `{ forceRefresh: true }`
 * (see `refreshRejectedCredentials`).
 */
function deadlineBoundChain(
  options: CredentialChainOptions = {},
): (init: ChainInit) => (props?: ChainProps) => Promise<AwsCredentialIdentity> {
  const deadlineMs = options.deadlineMs ?? DEADLINES.credentialsMs;
  const viaProxy = proxyAgentOptions(options.proxy ?? {});
  return (init) => {
    const create = () =>
      defaultProvider({
        ...init,
        clientConfig: {
          ...(init.clientConfig as object | undefined),
          ...(options.stsRegion ? { region: options.stsRegion } : {}),
          requestHandler: {
            requestTimeout: DEADLINES.stsAttemptMs,
            socketTimeout: DEADLINES.stsAttemptMs,
            connectionTimeout: DEADLINES.connectMs,
            throwOnRequestTimeout: true,
            // Only the STS client of the web identity provider uses this handler; the container endpoint
            // and instance metadata build their own, and are never reached through the proxy.
            ...(options.proxy === undefined ? {} : { httpAgent: viaProxy, httpsAgent: viaProxy }),
          },
        },
      });
    let chain = create();
    return floorRefreshes(async (props) => {
      const current = chain;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          if (chain === current) chain = create();
          reject(new CredentialsStalledError(deadlineMs));
        }, deadlineMs);
      });
      try {
        const credentials = await Promise.race([current(props), deadline]);
        options.clock?.credentialsArrived(credentials.expiration);
        return credentials;
      } catch (error) {
        throw new CredentialsUnavailableError(error);
      } finally {
        clearTimeout(timer);
      }
    });
  };
}

function rejectionCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const e = error as { Code?: unknown; code?: unknown; name?: unknown };
  for (const candidate of [e.Code, e.code, e.name])
    if (typeof candidate === "string" && REJECTED_CREDENTIAL_CODES.has(candidate)) return candidate;
  return undefined;
}

/**
 * A client plugin: when AWS rejects the credentials a call was signed with, the call asks the
 * client's credential provider for new ones (`forceRefresh`; concurrent asks share one fetch) before
 * it fails as usual. The caller backs off, so that is one refresh per backoff step, and the next call
 * is signed with the new key as soon as STS issues one. A failed refresh is not reported here: the
 * next call's own credential fetch reports it.
 */
export function refreshRejectedCredentials(
  credentials: () => ((props?: { forceRefresh?: boolean }) => Promise<unknown>) | undefined,
): Pluggable<ServiceInputTypes, ServiceOutputTypes> {
  const middleware: InitializeMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
    try {
      return await next(args);
    } catch (error) {
      if (rejectionCode(error) !== undefined) await credentials()?.({ forceRefresh: true }).catch(() => undefined);
      throw error;
    }
  };
  return {
    applyToStack(stack) {
      stack.add(middleware, { step: "initialize", name: "refreshRejectedCredentials", override: true });
    },
  };
}
