import { createHash } from "node:crypto";
import type { Message, MessageAttributeValue } from "@aws-sdk/client-sqs";

/** The part of a received message that did not match the digest SQS sent with it. */
export type ChecksumPart = "body" | "attributes";

/** Transport type bytes of the attribute digest: String and Number values are text, Binary are bytes. */
const TRANSPORT_TEXT = 1;
const TRANSPORT_BINARY = 2;

/** MD5 of the UTF-8 bytes of a body, hex: what SQS sends as MD5OfBody. */
export function md5OfBody(body: string): string {
  return createHash("md5").update(body, "utf8").digest("hex");
}

/**
 * MD5 of message attributes, hex, as SQS computes MD5OfMessageAttributes: attributes sorted by name;
 * for each, the name, the data type and the value, each as a 4-byte big-endian length and its bytes
 * (UTF-8 for text), with a transport byte before the value (1 for String and Number types, 2 for
 * Binary ones, custom types such as `Number.float` or `Binary.gif` included).
 * Source: "Calculating the MD5 message digest for message attributes",
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-attributes.html#sqs-attributes-md5-message-digest-calculation
 */
export function md5OfMessageAttributes(attributes: Readonly<Record<string, MessageAttributeValue>>): string {
  const hash = createHash("md5");
  const field = (bytes: Uint8Array): void => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.byteLength);
    hash.update(length).update(bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const { DataType = "", StringValue, BinaryValue } = attributes[name]!;
    field(Buffer.from(name, "utf8"));
    field(Buffer.from(DataType, "utf8"));
    const binary = DataType.startsWith("Binary");
    hash.update(Uint8Array.of(binary ? TRANSPORT_BINARY : TRANSPORT_TEXT));
    field(binary ? (BinaryValue ?? new Uint8Array()) : Buffer.from(StringValue ?? "", "utf8"));
  }
  return hash.digest("hex");
}

/**
 * Checks one received message against its digests: the body always, the message attributes whenever
 * the message has any or SQS sent their digest. Returns the first part that does not match, or
 * undefined when the message is intact. A message that fails was damaged between SQS and here (or
 * by a proxy on the way): its content cannot be trusted, so it must not be handled.
 */
export function checkMessage(message: Message): ChecksumPart | undefined {
  if (message.MD5OfBody === undefined || md5OfBody(message.Body ?? "") !== message.MD5OfBody.toLowerCase())
    return "body";
  const attributes = message.MessageAttributes ?? {};
  const hasAttributes = Object.keys(attributes).length > 0;
  if (!hasAttributes && message.MD5OfMessageAttributes === undefined) return undefined;
  if (
    message.MD5OfMessageAttributes === undefined ||
    md5OfMessageAttributes(attributes) !== message.MD5OfMessageAttributes.toLowerCase()
  )
    return "attributes";
  return undefined;
}
