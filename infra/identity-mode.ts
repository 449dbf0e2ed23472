/**
 * What every identity mode (infra/irsa.ts, infra/pod-identity.ts) takes and gives back to ConsumerIdentity
 * (infra/identity.ts), which owns the one service account both modes share.
 */
import type * as pulumi from "@pulumi/pulumi";

/** Arguments every mode needs. */
export interface ModeArgs {
  /** Physical name of the mode's IAM role (up to 64 characters), scoped by stack; distinct per mode. */
  readonly roleName: string;
  /** Namespace of the service account. */
  readonly namespace: pulumi.Input<string>;
  /** Name of the service account the consumer pods run as. */
  readonly serviceAccountName: string;
  /** ARN of the queue the role may consume. */
  readonly queueArn: pulumi.Input<string>;
  /** Tags for AWS resources. */
  readonly tags: Readonly<Record<string, string>>;
}

/** What a mode gives the service account. */
export interface ModeCredentials {
  readonly roleArn: pulumi.Output<string>;
  /** Annotations the service account carries in this mode (IRSA's role ARN; none for Pod Identity). */
  readonly serviceAccountAnnotations: Readonly<Record<string, pulumi.Input<string>>>;
  /** What must exist before the service account changes, so pods that start with it get working credentials. */
  readonly ready: readonly pulumi.Resource[];
}
