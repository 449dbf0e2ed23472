import type { ServiceInputTypes, ServiceOutputTypes } from "@aws-sdk/client-sqs";
import type { Pluggable } from "@smithy/types";
import { ClockSkewError, type Classify } from "./errors";
import type { Logger } from "./logger";
import type { Metrics } from "./metrics";

/**
 * A skewed local clock, detected and reported. On a node whose clock runs ahead of AWS's, web identity
 * credentials look expired when they arrive, and the SDK's credential cache (which refreshes credentials
 * within 5 minutes of their expiry: @smithy/core `memoizeIdentityProvider`) asks STS again before every
 * request. The consumer notices it two ways: credentials that arrive with less time left than any
 * source issues (so they fall in that window at once), and an AWS response whose `Date` header is more than SigV4's 5 minutes of allowed skew from
 * the local clock (SigV4 signing, "Elements of an AWS API request signature": requests more than 5
 * minutes off are refused). Each detection is counted (sqs_consumer_clock_skew_total{evidence}); the
 * first is warned about, with the clock-skew hint (errors.ts). The credential chain puts a floor between
 * fetches of credentials that arrive inside the SDK's refresh window, skew detected or not (sqs-client.ts,
 * floorRefreshes).
 */

/**
 * The SDK refreshes credentials this long before their stated expiry: @smithy/core `EXPIRATION_MS`
 * (300_000, used by `isIdentityExpired` for the client's memoised identity) and
 * @aws-sdk/credential-provider-node `credentialsTreatedAsExpired` (the default chain's own cache), both
 * 5 minutes (checked in @smithy/core 3.41 and credential-provider-node 3.972, dist-cjs).
 */
export const SDK_REFRESH_WINDOW_MS = 300_000;
/**
 * The shortest session STS issues, 900 s (AssumeRoleWithWebIdentity and AssumeRole, `DurationSeconds`
 * minimum: STS API reference); instance and container credentials are handed out with at least 5 minutes
 * left too ("Retrieve security credentials from instance metadata", EC2 User Guide).
 */
const SHORTEST_SESSION_MS = 900_000;
/**
 * Credentials arriving with less than this left count as expired on arrival: within the SDK's refresh
 * window (so they would be fetched again at once), with a margin for a set the chain cached a moment
 * before the window began. No source issues credentials that short, so the local clock is ahead.
 */
const EXPIRED_ON_ARRIVAL_MS = SDK_REFRESH_WINDOW_MS - 30_000;
/** How far a Date header may be from the local clock before it counts as skew: SigV4's allowance, 5 minutes. */
export const DATE_SKEW_ALLOWED_MS = 300_000;
/** Date headers are compared at most this often: one comparison a minute tells as much as one per response. */
const DATE_CHECK_INTERVAL_MS = 60_000;

/** What a detection was based on (the `evidence` label). */
export type SkewEvidence = "expired-on-arrival" | "date-header";

/** The skew detector of one process. */
export class ClockSkew {
  private warned = false;
  private lastDateCheck = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly classify: Classify,
  ) {}

  /**
   * Credentials just arrived from the chain, with their stated expiry: true (and reported) when less than
   * EXPIRED_ON_ARRIVAL_MS is left, i.e. they would be fetched again at once.
   */
  credentialsArrived(expiration: Date | undefined, now: number = Date.now()): boolean {
    if (expiration === undefined) return false;
    const left = expiration.getTime() - now;
    if (left >= EXPIRED_ON_ARRIVAL_MS) return false;
    // Issued for at least the shortest session: as far as they fall short of it, the local clock is ahead, at least.
    this.report("expired-on-arrival", SHORTEST_SESSION_MS - left);
    return true;
  }

  /** An AWS response's Date header (RFC 7231 text): reported when it is more than SigV4's allowance off. */
  responseDate(date: string | undefined, now: number = Date.now()): void {
    if (date === undefined || now - this.lastDateCheck < DATE_CHECK_INTERVAL_MS) return;
    const theirs = Date.parse(date);
    if (Number.isNaN(theirs)) return;
    this.lastDateCheck = now;
    const skewMs = now - theirs;
    if (Math.abs(skewMs) > DATE_SKEW_ALLOWED_MS) this.report("date-header", skewMs);
  }

  /**
   * A client plugin: compares each response's Date header with the local clock (deserialize step, once
   * per HTTP attempt, before the response is parsed).
   */
  readonly watchDateHeaders: Pluggable<ServiceInputTypes, ServiceOutputTypes> = {
    applyToStack: (stack) => {
      stack.add(
        (next) => async (args) => {
          const result = await next(args);
          const headers = (result.response as { headers?: Record<string, string> } | undefined)?.headers;
          this.responseDate(headers?.date);
          return result;
        },
        { step: "deserialize", name: "clockSkewDateHeader", override: true },
      );
    },
  };

  private report(evidence: SkewEvidence, skewMs: number): void {
    this.metrics.clockSkew.inc({ evidence });
    if (this.warned) return;
    this.warned = true;
    const classified = this.classify(new ClockSkewError(evidence, skewMs));
    this.logger.warn(
      { event: "clock-skew", evidence, skewMs: Math.round(skewMs), code: classified.code, hint: classified.hint },
      "the local clock is far from AWS's",
    );
  }
}
