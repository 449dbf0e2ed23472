/**
 * The IAM role every identity in this program gets (the consumer's, in either identity mode, KEDA's
 * operator's and each stack's scaler role): a fixed physical name scoped by stack, one trust policy as a
 * typed document (iam-documents.ts), the stack's tags.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PolicyDocument } from "./iam-documents";

export interface TrustedRoleArgs {
  /** Physical role name (IAM allows up to 64 characters), scoped by stack. */
  readonly roleName: pulumi.Input<string>;
  /** What the role is for, shown in the IAM console. */
  readonly description: string;
  /** Who may assume the role. */
  readonly trust: pulumi.Input<PolicyDocument>;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * Registers the role `name` under `parent`. The physical name is fixed, so a replacement deletes the old role
 * first (deleteBeforeReplace): creating the new one first would fail with EntityAlreadyExists.
 */
export function trustedRole(name: string, args: TrustedRoleArgs, parent: pulumi.Resource): aws.iam.Role {
  return new aws.iam.Role(
    name,
    {
      name: args.roleName,
      description: args.description,
      assumeRolePolicy: pulumi.jsonStringify(args.trust),
      tags: args.tags,
    },
    { parent, deleteBeforeReplace: true },
  );
}
