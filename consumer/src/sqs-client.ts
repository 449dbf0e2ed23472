import { SQSClient } from "@aws-sdk/client-sqs";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { CredentialsUnavailableError } from "./errors";
import type { EnvLike, Settings } from "./settings";

/**
 * The SQS client: the SDK's defaults (credential chain, retries, configured endpoints from
 * AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL), with time-outs that fit long polling.
 */
export function createSqsClient(settings: Settings, env: EnvLike): SQSClient {
  return new SQSClient({
    region: settings.region,
    // The SDK's own default chain, unchanged (memoised, refreshed before expiry), with one addition:
    // its failures are marked, so "STS unreachable" is not mistaken for "SQS unreachable".
    credentialDefaultProvider: (init: Parameters<typeof defaultProvider>[0]) => {
      const provider = defaultProvider(init);
      return async (props?: Parameters<typeof provider>[0]) => {
        try {
          return await provider(props);
        } catch (error) {
          throw new CredentialsUnavailableError(error);
        }
      };
    },
    // The SDK sends each request to the host in QueueUrl unless the client's `endpoint` is set in code;
    // an endpoint configured through the standard variables must win the same way, or a queue URL whose
    // host does not resolve (emulators, VPC endpoints with private DNS off) could never be reached.
    ...(hasConfiguredEndpoint(env) ? { useQueueUrlAsEndpoint: false } : {}),
    // The SDK checks MD5OfBody for a whole ReceiveMessage and fails all of it for one bad message; the
    // consumer checks each message itself, body and attributes (checksums.ts), and sets the bad ones aside.
    md5: false,
    requestHandler: {
      // A long poll legitimately takes WaitTimeSeconds; anything much longer is a dead connection.
      requestTimeout: (settings.waitTimeSeconds + 10) * 1000,
      connectionTimeout: 5_000,
      httpAgent: { keepAlive: true, maxSockets: settings.receiveLoops + 32 },
      httpsAgent: { keepAlive: true, maxSockets: settings.receiveLoops + 32 },
    },
  });
}

function hasConfiguredEndpoint(env: EnvLike): boolean {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === "true") return false;
  return Boolean(env.AWS_ENDPOINT_URL_SQS || env.AWS_ENDPOINT_URL);
}
