// Log lines stay valid for every message body: truncation counts Unicode code points and never leaves
// half of a surrogate pair behind.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { logMessage, type ReceivedMessage } from "../src/handler";
import { createLogger } from "../src/logger";
import { receivedMessage, sqsEvent, testContext } from "../src/testing";

/** Code points SQS accepts in a body: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF. */
const sqsCodePoint = fc.oneof(
  fc.constantFrom(0x9, 0xa, 0xd),
  fc.integer({ min: 0x20, max: 0xd7ff }),
  fc.integer({ min: 0xe000, max: 0xfffd }),
  // Characters outside the BMP (emoji, CJK extensions) are two UTF-16 units: the case that used to break.
  fc.integer({ min: 0x10000, max: 0x10ffff }),
  fc.integer({ min: 0x1f600, max: 0x1f64f }),
);
const sqsBody = fc.array(sqsCodePoint, { maxLength: 64 }).map((points) => String.fromCodePoint(...points));

/** Logs one message with the default handler, LOG_BODY_MAX_CHARS=maxChars; returns the raw lines written. */
async function logLines(body: string, maxChars: number): Promise<string[]> {
  let written = "";
  const logger = createLogger("info", { write: (text: string) => void (written += text) });
  const message: ReceivedMessage = {
    messageId: "m-1",
    body,
    md5OfBody: "",
    receiveCount: 1,
    attributes: {},
    messageAttributes: {},
  };
  await logMessage(message, { ...testContext({ env: { LOG_BODY_MAX_CHARS: String(maxChars) } }), logger });
  return written.split("\n").filter((line) => line !== "");
}

/** Every string in a parsed JSON value, keys included. */
function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)]);
  return [];
}

test("LOG_BODY_MAX_CHARS=5 and body abcd😀xyz log abcd😀, five code points", async () => {
  const [line] = await logLines("abcd😀xyz", 5);
  const parsed = JSON.parse(line!) as { body: string; bodyTruncated: boolean; bodyLength: number };
  assert.equal(parsed.body, "abcd😀");
  assert.equal(parsed.bodyTruncated, true);
  assert.equal(parsed.bodyLength, 8, "bodyLength counts code points too");
});

test("property: for any SQS body and limit, every line is JSON whose strings re-encode as UTF-8 unchanged", async () => {
  await fc.assert(
    fc.asyncProperty(sqsBody, fc.integer({ min: 0, max: 70 }), async (body, maxChars) => {
      const lines = await logLines(body, maxChars);
      assert.equal(lines.length, 1);
      for (const line of lines) {
        assert.equal(Buffer.from(line, "utf8").toString("utf8"), line);
        const parsed = JSON.parse(line) as { body: string; bodyLength?: number };
        for (const text of strings(parsed)) {
          // In a /u pattern a surrogate pair is one code point, so \p{Cs} only matches a lone surrogate.
          assert.doesNotMatch(text, /\p{Cs}/u, "a lone surrogate");
          assert.equal(Buffer.from(text, "utf8").toString("utf8"), text);
        }
        const points = [...body];
        assert.equal(parsed.body, points.slice(0, maxChars).join(""), "the first LOG_BODY_MAX_CHARS code points");
        assert.equal(parsed.bodyLength, points.length > maxChars ? points.length : undefined);
      }
    }),
    { numRuns: 2_000 },
  );
});

test("the test helper's message attributes: DataType derived from the value when left out, values SQS would not send refused", () => {
  const bytes = Uint8Array.of(1, 2, 3);
  const [record] = sqsEvent([
    { body: "b", messageAttributes: { image: { BinaryValue: bytes }, tenant: "acme" } },
  ]).Records;
  assert.equal(record!.messageAttributes.image!.dataType, "Binary");
  assert.equal(record!.messageAttributes.image!.binaryValue, Buffer.from(bytes).toString("base64"));
  assert.equal(record!.messageAttributes.tenant!.dataType, "String");
  const message = receivedMessage({ body: "b", messageAttributes: { n: { StringValue: "1", DataType: "Number" } } });
  assert.equal(message.messageAttributes.n!.DataType, "Number");
  for (const [value, reason] of [
    [{ DataType: "Binary.gif", StringValue: "x" }, /DataType Binary\.gif needs a BinaryValue/],
    [{ DataType: "String", BinaryValue: bytes }, /DataType String needs a StringValue/],
    [{ StringValue: "x", BinaryValue: bytes }, /not both/],
  ] as const)
    assert.throws(() => receivedMessage({ body: "b", messageAttributes: { a: value } }), reason);
});
