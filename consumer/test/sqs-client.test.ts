import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { classifyAwsError, ReceiveThrottledError } from "../src/errors";
import { doesIdentityRequireRefresh, EXPIRATION_MS, isIdentityExpired, memoizeIdentityProvider } from "@smithy/core";
import type { AwsCredentialIdentity } from "@smithy/types";
import { SDK_REFRESH_WINDOW_MS } from "../src/clock-skew";
import {
  backoffDelayMs,
  CREDENTIAL_REFRESH_FLOOR_MS,
  FORCED_REFRESH_FLOOR_MS,
  floorRefreshes,
  throttledReceivesAreNotRetried,
} from "../src/sqs-client";

const QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/orders";

describe("backoff between retried calls", () => {
  test("receive backoff grows exponentially, is capped, and is jittered down from the ceiling", () => {
    assert.deepEqual(
      [0, 1, 2, 3].map((a) => backoffDelayMs(a, 200, 20_000, () => 1)),
      [200, 400, 800, 1600],
    );
    assert.equal(
      backoffDelayMs(50, 200, 20_000, () => 1),
      20_000,
    );
    assert.equal(
      backoffDelayMs(3, 200, 20_000, () => 0.5),
      800,
    );
  });
});

// The SDK retry a FIFO attempt id cannot survive, checked on a client whose HTTP layer is stubbed.
/** An SQS client whose every HTTP attempt is answered by `answer`; counts the attempts. */
function stubbedClient(answer: () => { status: number; body: unknown; headers?: Record<string, string> }): {
  client: SQSClient;
  attempts: () => number;
} {
  let attempts = 0;
  const client = new SQSClient({
    region: "eu-west-1",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
    maxAttempts: 3,
    requestHandler: {
      handle: () => {
        attempts++;
        const { status, body, headers = {} } = answer();
        const bytes = Buffer.from(JSON.stringify(body));
        return Promise.resolve({
          response: {
            statusCode: status,
            reason: "",
            headers: { "content-type": "application/x-amz-json-1.0", ...headers },
            body: new Uint8Array(bytes),
          },
        });
      },
    } as never,
  });
  client.middlewareStack.use(throttledReceivesAreNotRetried);
  return { client, attempts: () => attempts };
}

const throttled = () => ({
  status: 400,
  body: { __type: "com.amazonaws.sqs#ThrottlingException", message: "Rate exceeded" },
  headers: { "x-amzn-query-error": "ThrottlingException;Sender" },
});

test("a throttled receive with an attempt id is not retried by the SDK, and is still classified as throttling", async () => {
  const { client, attempts } = stubbedClient(throttled);
  const error = await client
    .send(new ReceiveMessageCommand({ QueueUrl: `${QUEUE_URL}.fifo`, ReceiveRequestAttemptId: "a1" }))
    .then(
      () => assert.fail("the receive succeeded"),
      (e: unknown) => e,
    );
  assert.equal(attempts(), 1, "the SDK retried a throttled receive with its voided attempt id");
  assert.ok(error instanceof ReceiveThrottledError);
  assert.equal(classifyAwsError(error, { queueUrl: QUEUE_URL, region: "eu-west-1" }).kind, "throttling");
});

test("throttling of other calls, and of receives without an attempt id, keeps the SDK's retries", async (t) => {
  // The SDK waits between retries: on mocked time, moved on until the call settles.
  t.mock.timers.enable({ apis: ["setTimeout"] });
  for (const command of [
    new ReceiveMessageCommand({ QueueUrl: QUEUE_URL }),
    new DeleteMessageCommand({ QueueUrl: QUEUE_URL, ReceiptHandle: "r" }),
  ]) {
    const { client, attempts } = stubbedClient(throttled);
    let error: unknown;
    let settled = false;
    void client.send(command as never).then(
      () => (settled = true),
      (e: unknown) => ((error = e), (settled = true)),
    );
    while (!settled) {
      await new Promise((resolve) => setImmediate(resolve));
      t.mock.timers.tick(1_000);
    }
    assert.equal((error as Error | undefined)?.name, "ThrottlingException");
    assert.equal(attempts(), 3, `${command.constructor.name}: not retried`);
  }
});

/**
 * The floor between credential fetches, judged through the SDK's own cache: the provider is wrapped in
 * @smithy/core's memoizeIdentityProvider with its isIdentityExpired, as an SQS client wraps its
 * credentials, and called once per request. Without the floor, the SDK fetches before every request
 * whatever is inside its refresh window.
 */
describe("credentials that arrive inside the SDK's refresh window", () => {
  test("the window is the SDK's own", () => {
    assert.equal(SDK_REFRESH_WINDOW_MS, EXPIRATION_MS);
  });

  /** 100 requests over `spanMs` of the floor's clock, credentials arriving with `leftMs` before their stated expiry. */
  async function fetchesFor(leftMs: number, spanMs: number, rejectEvery = 0): Promise<number> {
    let fetches = 0;
    // The floor's clock, moved forward by the test; the SDK's cache reads the real one, which barely moves.
    const start = Date.now();
    let clock = start;
    const fetch = (): Promise<AwsCredentialIdentity> => {
      fetches++;
      return Promise.resolve({
        accessKeyId: `K${fetches}`,
        secretAccessKey: "s",
        expiration: new Date(Date.now() + leftMs),
      });
    };
    const floored = floorRefreshes(fetch, () => clock);
    const sdk = memoizeIdentityProvider(floored, isIdentityExpired, doesIdentityRequireRefresh)!;
    for (let request = 1; request <= 100; request++) {
      clock = start + Math.round(((request - 1) * spanMs) / 100);
      await sdk();
      if (rejectEvery > 0 && request % rejectEvery === 0) await sdk({ forceRefresh: true });
    }
    return fetches;
  }

  for (const leftS of [-7_000, -1, 10, 269, 270, 285, 299]) {
    test(`${leftS} s left: one fetch per ${CREDENTIAL_REFRESH_FLOOR_MS / 1000} s, not one per request`, async () => {
      assert.equal(await fetchesFor(leftS * 1000, 30_000), 1);
      assert.equal(await fetchesFor(leftS * 1000, 150_000), 3);
    });
  }

  test("credentials outside the window are the SDK's to cache: fetched once", async () => {
    assert.equal(await fetchesFor(301_000, 150_000), 1);
    assert.equal(await fetchesFor(3_600_000, 150_000), 1);
  });

  test("a set the chain's own cache hands back as it starts expiring is not held: the source is asked again", async () => {
    // The chain (credential-provider-node) memoises too: asked just as the SDK found its set expiring, it
    // answers with that same set, now inside the window; only a forceRefresh makes it ask the source.
    let clock = Date.now();
    let cached: AwsCredentialIdentity = {
      accessKeyId: "K1",
      secretAccessKey: "s",
      expiration: new Date(clock + 300_500),
    };
    let issued = 1;
    const chain = (props?: { readonly forceRefresh?: boolean }): Promise<AwsCredentialIdentity> => {
      if (props?.forceRefresh === true) {
        issued++;
        cached = { accessKeyId: `K${issued}`, secretAccessKey: "s", expiration: new Date(clock + 303_000) };
      }
      return Promise.resolve(cached);
    };
    const floored = floorRefreshes(chain, () => clock);
    assert.equal((await floored()).accessKeyId, "K1");
    clock += 1_000;
    assert.equal((await floored()).accessKeyId, "K2", "the stale set was held for the floor");
    clock += 1_000;
    assert.equal((await floored()).accessKeyId, "K2", "a fresh set outside the window is the SDK's to cache");
  });

  test("the SDK calls a credentialDefaultProvider's provider before every request, without a cache of its own", async () => {
    // What the serving below is for (@aws-sdk/core httpAuthSchemes, normalizeCredentialProvider marks the
    // provider memoized as it is): if the SDK ever caches it, this fails and the serving is redundant.
    let calls = 0;
    const client = new SQSClient({
      region: "eu-west-1",
      credentialDefaultProvider: () => () => {
        calls++;
        return Promise.resolve({ accessKeyId: "K", secretAccessKey: "s" });
      },
    });
    for (let i = 0; i < 3; i++) await client.config.credentials();
    assert.equal(calls, 3);
  });

  test("credentials outside the window, or without an expiry, are served without asking the chain again", async () => {
    // Called as the SDK calls it: before each of 100 requests over 150 s, with no cache in front.
    for (const expiresInMs of [3_600_000, undefined]) {
      let clock = Date.now();
      let fetches = 0;
      const floored = floorRefreshes(
        () => {
          fetches++;
          return Promise.resolve({
            accessKeyId: `K${fetches}`,
            secretAccessKey: "s",
            ...(expiresInMs === undefined ? {} : { expiration: new Date(clock + expiresInMs) }),
          });
        },
        () => clock,
      );
      for (let request = 0; request < 100; request++, clock += 1_500) assert.equal((await floored()).accessKeyId, "K1");
      assert.equal(fetches, 1, `expiry in ${expiresInMs} ms`);
      assert.equal((await floored({ forceRefresh: true })).accessKeyId, "K2", "a forceRefresh still fetches");
    }
  });

  test("a set served from the last fetch is fetched anew once it enters the window", async () => {
    let clock = Date.now();
    let fetches = 0;
    const floored = floorRefreshes(
      () => {
        fetches++;
        return Promise.resolve({
          accessKeyId: `K${fetches}`,
          secretAccessKey: "s",
          expiration: new Date(clock + 3_600_000),
        });
      },
      () => clock,
    );
    assert.equal((await floored()).accessKeyId, "K1");
    clock += 3_600_000 - SDK_REFRESH_WINDOW_MS - 1;
    assert.equal((await floored()).accessKeyId, "K1", "still outside the window");
    clock += 2;
    assert.equal((await floored()).accessKeyId, "K2", "inside the window: fetched again");
  });

  test("a forceRefresh (AWS rejected the credentials) is not held for the floor: expired credentials are replaced at once", async () => {
    // Every 10th of 100 requests over 150 s rejected (one every 15 s): each rejection fetches anew.
    assert.equal(await fetchesFor(10_000, 150_000, 10), 11);
    // Every request rejected, 100 over 30 s: at most one forced fetch per FORCED_REFRESH_FLOOR_MS.
    const forced = await fetchesFor(10_000, 30_000, 1);
    assert.ok(
      forced >= 30_000 / FORCED_REFRESH_FLOOR_MS && forced <= 30_000 / FORCED_REFRESH_FLOOR_MS + 1,
      `${forced}`,
    );
  });
});
