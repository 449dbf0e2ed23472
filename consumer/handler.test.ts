// Tests of your handler (consumer/handler.ts), run by `npm test`: no queue and no emulator. The helpers in
// ./src/testing make what the consumer would hand your handler from a body and attributes:
// receivedMessage(...) for handleMessage, sqsEvent([...]) for handleBatch, and testContext() for either,
// which keeps the lines your handler logged in `context.logs`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { handleMessage } from "./handler";
import { receivedMessage, testContext } from "./src/testing";

test("the handler logs the message it is given", async () => {
  const context = testContext();
  const message = receivedMessage({ body: "Hello world!", messageAttributes: { tenant: "acme" } });

  await handleMessage(message, context);

  assert.equal(context.logs.length, 1);
  assert.equal(context.logs[0]?.msg, "message received");
  assert.equal(context.logs[0]?.body, "Hello world!");
  assert.equal(context.logs[0]?.messageId, message.messageId);
});

test("a long body is logged up to LOG_BODY_MAX_CHARS", async () => {
  const context = testContext({ env: { LOG_BODY_MAX_CHARS: "5" } });

  await handleMessage(receivedMessage("Hello world!"), context);

  assert.equal(context.logs[0]?.body, "Hello");
  assert.equal(context.logs[0]?.bodyTruncated, true);
});
