import type { ServiceInputTypes, ServiceOutputTypes } from "@aws-sdk/client-sqs";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import type { AwsCredentialIdentity, InitializeMiddleware, Pluggable } from "@smithy/types";
import { CONNECT_TIMEOUT_MS, CREDENTIALS_DEADLINE_MS, STS_ATTEMPT_TIMEOUT_MS } from "./deadlines";
import { CREDENTIALS_STALLED_CODE, CredentialsUnavailableError, REJECTED_CREDENTIAL_CODES } from "./errors";

/** What the SDK passes to a `credentialDefaultProvider` (the client's resolved config). */
export type ChainInit = NonNullable<Parameters<typeof defaultProvider>[0]>;
/** What the SDK passes on each call: `forceRefresh` makes the chain fetch anew (MemoizedProvider contract). */
type ChainProps = Parameters<ReturnType<typeof defaultProvider>>[0];

export interface CredentialChainOptions {
  /**
   * Region for STS (AssumeRoleWithWebIdentity): the pod's own AWS_REGION, so a regional STS endpoint or
   * VPC endpoint next to the cluster is used even when the queue is in another region.
   */
  readonly stsRegion?: string | undefined;
  /** Deadline of one credential fetch, every source and retry included (ms). Default CREDENTIALS_DEADLINE_MS. */
  readonly deadlineMs?: number;
}

/**
 * The SDK's default credential chain, unchanged as the source of credentials, wrapped so that a
 * fetch always ends: each STS attempt has a request timeout that fails (not only warns), and the
 * whole fetch has a deadline. When the deadline passes, the chain's memoised state is dropped and a
 * fresh chain serves the next call, since a request stuck inside the old one would hold every later
 * call (its lock is awaited before its cache is read). Failures are marked CredentialsUnavailableError,
 * so "STS unreachable" is never mistaken for "SQS unreachable".
 *
 * Returns a `credentialDefaultProvider` for an SDK client. The provider honours `{ forceRefresh: true }`
 * (see `refreshRejectedCredentials`).
 */
export function deadlineBoundChain(
  options: CredentialChainOptions = {},
): (init: ChainInit) => (props?: ChainProps) => Promise<AwsCredentialIdentity> {
  const deadlineMs = options.deadlineMs ?? CREDENTIALS_DEADLINE_MS;
  return (init) => {
    const create = () =>
      defaultProvider({
        ...init,
        clientConfig: {
          ...(init.clientConfig as object | undefined),
          ...(options.stsRegion ? { region: options.stsRegion } : {}),
          requestHandler: {
            requestTimeout: STS_ATTEMPT_TIMEOUT_MS,
            socketTimeout: STS_ATTEMPT_TIMEOUT_MS,
            connectionTimeout: CONNECT_TIMEOUT_MS,
            throwOnRequestTimeout: true,
          },
        },
      });
    let chain = create();
    return async (props) => {
      const current = chain;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          if (chain === current) chain = create();
          reject(new CredentialsDeadlineError(deadlineMs));
        }, deadlineMs);
      });
      try {
        return await Promise.race([current(props), deadline]);
      } catch (error) {
        throw new CredentialsUnavailableError(error);
      } finally {
        clearTimeout(timer);
      }
    };
  };
}

/** The credential chain did not answer within its deadline (a source accepted the connection and stalled). */
export class CredentialsDeadlineError extends Error {
  readonly code = CREDENTIALS_STALLED_CODE;
  constructor(ms: number) {
    super(`the credential chain did not answer within ${ms} ms`);
    this.name = CREDENTIALS_STALLED_CODE;
  }
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
