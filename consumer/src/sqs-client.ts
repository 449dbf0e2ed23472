import { SQSClient } from "@aws-sdk/client-sqs";
import { deadlineBoundChain, refreshRejectedCredentials } from "./credential-chain";
import { CONNECT_TIMEOUT_MS, sqsAttemptTimeoutMs, stallsAreNotRetried } from "./deadlines";
import { throttledReceivesAreNotRetried } from "./receive-throttling";
import type { EnvLike, Settings } from "./settings";

/**
 * The SQS client: the SDK's defaults (credential chain, retries, configured endpoints from
 * AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL), with deadlines on every call (see deadlines.ts),
 * credentials refreshed when AWS rejects them early, and throttled FIFO receives left to the receive
 * loop to retry with a new attempt id (receive-throttling.ts). Requests are signed for `settings.region`, the
 * queue's region; STS is asked in the pod's own AWS_REGION.
 */
export function createSqsClient(settings: Settings, env: EnvLike): SQSClient {
  const client = new SQSClient({
    region: settings.region,
    // The SDK's own default chain, unchanged as the source (memoised, refreshed before expiry), bounded
    // by a deadline; its failures are marked, so "STS unreachable" is not mistaken for "SQS unreachable".
    credentialDefaultProvider: deadlineBoundChain({ stsRegion: env.AWS_REGION?.trim() || settings.region }),
    // The SDK sends each request to the host in QueueUrl unless the client's `endpoint` is set in code;
    // an endpoint configured through the standard variables must win the same way, or a queue URL whose
    // host does not resolve (emulators, VPC endpoints with private DNS off) could never be reached.
    ...(hasConfiguredEndpoint(env) ? { useQueueUrlAsEndpoint: false } : {}),
    // The SDK checks MD5OfBody for a whole ReceiveMessage and fails all of it for one bad message; the
    // consumer checks each message itself, body and attributes (checksums.ts), and sets the bad ones aside.
    md5: false,
    requestHandler: {
      // A long poll legitimately takes WaitTimeSeconds; anything longer is a stalled connection, and
      // without throwOnRequestTimeout the handler would only log a warning and keep waiting.
      requestTimeout: sqsAttemptTimeoutMs(settings.waitTimeSeconds),
      throwOnRequestTimeout: true,
      // Headers received, then silence: the socket's idle timeout ends that (the SDK's default is 15 min).
      socketTimeout: sqsAttemptTimeoutMs(settings.waitTimeSeconds),
      connectionTimeout: CONNECT_TIMEOUT_MS,
      httpAgent: { keepAlive: true, maxSockets: settings.receiveLoops + 32 },
      httpsAgent: { keepAlive: true, maxSockets: settings.receiveLoops + 32 },
    },
  });
  client.middlewareStack.use(stallsAreNotRetried);
  // A FIFO receive's attempt id is void once throttled: the receive loop retries with a new one.
  client.middlewareStack.use(throttledReceivesAreNotRetried);
  client.middlewareStack.use(refreshRejectedCredentials(() => client.config.credentials));
  return client;
}

function hasConfiguredEndpoint(env: EnvLike): boolean {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === "true") return false;
  return Boolean(env.AWS_ENDPOINT_URL_SQS || env.AWS_ENDPOINT_URL);
}
