/**
 * The SQS actions the consumer calls, and nothing more. The IAM access policy is built from this list
 * (infra/iam-documents.ts, through consumer/src/contract), and a consumer test checks that every request the consumer makes is covered by it.
 * DeleteMessageBatch and ChangeMessageVisibilityBatch are authorised by their single-message actions.
 */
export const SQS_ACTIONS_USED = [
  "sqs:ReceiveMessage",
  "sqs:DeleteMessage",
  "sqs:ChangeMessageVisibility",
  "sqs:GetQueueAttributes",
] as const;

export type SqsActionUsed = (typeof SQS_ACTIONS_USED)[number];
