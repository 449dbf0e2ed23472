import type { ServiceInputTypes, ServiceOutputTypes } from "@aws-sdk/client-sqs";
import type { FinalizeRequestMiddleware, Pluggable, RelativeMiddlewareOptions } from "@smithy/types";

/** Code (and name) of ReceiveThrottledError; errors.ts counts it as throttling. */
export const RECEIVE_THROTTLED_CODE = "ReceiveThrottled";

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
 * A throttled ReceiveMessage that carried a ReceiveRequestAttemptId. SQS voids an attempt id once a
 * receive with it is throttled and answers a retry with it InvalidParameterValue ("Troubleshoot FIFO
 * throttling issues"; awslabs/amazon-sqs-java-messaging-lib#213), so this is not retried by the SDK:
 * the receive loop backs off and draws a new id. The original error is kept in `throttling`, not
 * `cause`, because the SDK also retries an error whose cause it would retry.
 */
export class ReceiveThrottledError extends Error {
  readonly code = RECEIVE_THROTTLED_CODE;
  readonly throttling: unknown;
  constructor(throttling: ThrottlingLike) {
    const name = typeof throttling.name === "string" ? throttling.name : "throttling";
    super(
      `${name}: ${typeof throttling.message === "string" ? throttling.message : "throttled"} (a throttled receive's attempt id is void: not retried with it)`,
    );
    this.name = RECEIVE_THROTTLED_CODE;
    this.throttling = throttling;
  }
}

const throttledReceivesEndTheCall: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> =
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

const THROTTLED_RECEIVES_END_THE_CALL: RelativeMiddlewareOptions = {
  name: "throttledReceivesEndTheCall",
  relation: "after",
  toMiddleware: "retryMiddleware",
  override: true,
};

/**
 * A client plugin: sits inside the SDK's retry loop and turns throttling of a ReceiveMessage that
 * carries a ReceiveRequestAttemptId into ReceiveThrottledError, which the retry strategy does not
 * retry (a retry would reuse the voided id). Other calls, and receives without an attempt id
 * (standard queues), keep the SDK's retries.
 */
export const throttledReceivesAreNotRetried: Pluggable<ServiceInputTypes, ServiceOutputTypes> = {
  applyToStack(stack) {
    stack.addRelativeTo(throttledReceivesEndTheCall, THROTTLED_RECEIVES_END_THE_CALL);
  },
};
