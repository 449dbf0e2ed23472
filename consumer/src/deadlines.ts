import type { ServiceInputTypes, ServiceOutputTypes } from "@aws-sdk/client-sqs";
import type { FinalizeRequestMiddleware, Pluggable, RelativeMiddlewareOptions } from "@smithy/types";

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

/** Time to open a TCP (and TLS) connection to SQS or STS. */
export const CONNECT_TIMEOUT_MS = 3_000;

/** Head-room after a long poll's wait time before a ReceiveMessage counts as stalled. */
export const RECEIVE_MARGIN_MS = 5_000;

/** One HTTP attempt to STS (AssumeRoleWithWebIdentity answers in well under a second). */
export const STS_ATTEMPT_TIMEOUT_MS = 5_000;

/**
 * The whole credential chain, every source and retry included. Past it the chain's memoised state is
 * dropped (a request stuck inside it would otherwise hold every later call) and the call fails.
 */
export const CREDENTIALS_DEADLINE_MS = 10_000;

/**
 * Deadline of one SQS HTTP attempt. Every SQS call of a process shares the client's handler, and the
 * longest legitimate one is a long poll of `waitTimeSeconds`, so that plus a margin bounds them all.
 */
export function sqsAttemptTimeoutMs(waitTimeSeconds: number): number {
  return waitTimeSeconds * 1000 + RECEIVE_MARGIN_MS;
}

/** Code of the error an SQS call fails with when a peer accepted the request and never answered in time. */
export const STALLED_CODE = "RequestStalled";

/**
 * A request the peer accepted and did not answer within its deadline. Its name and code are not among
 * those the SDK retries, so a stall costs one deadline, not one per SDK attempt: the consumer's own
 * backoff decides when to try again. The handler's timeout error is kept in `timeout`, not `cause`,
 * because the SDK also retries an error whose cause it would retry.
 */
export class RequestStalledError extends Error {
  readonly code = STALLED_CODE;
  readonly timeout: Error;
  constructor(timeout: Error) {
    super(`no answer within the deadline: ${timeout.message}`);
    this.name = STALLED_CODE;
    this.timeout = timeout;
  }
}

/** True for the error the node HTTP handler throws when `requestTimeout` passes (with throwOnRequestTimeout). */
function isRequestTimeout(error: unknown): error is Error {
  return error instanceof Error && error.name === "TimeoutError" && /requestTimeout/.test(error.message);
}

const stallsEndTheCall: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
  try {
    return await next(args);
  } catch (error) {
    throw isRequestTimeout(error) ? new RequestStalledError(error) : error;
  }
};

const STALLS_END_THE_CALL: RelativeMiddlewareOptions = {
  name: "stallsEndTheCall",
  relation: "after",
  toMiddleware: "retryMiddleware",
  override: true,
};

/**
 * A client plugin: sits inside the SDK's retry loop and turns a request timeout into
 * `RequestStalledError`, which the retry strategy does not retry.
 */
export const stallsAreNotRetried: Pluggable<ServiceInputTypes, ServiceOutputTypes> = {
  applyToStack(stack) {
    stack.addRelativeTo(stallsEndTheCall, STALLS_END_THE_CALL);
  },
};
