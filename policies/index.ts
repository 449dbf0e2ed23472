/**
 * The entry point the Pulumi CLI loads for `--policy-pack policies`. Constructing a PolicyPack starts
 * the analyzer's gRPC server, so nothing else imports this file: tests and the offline runner use
 * `pack.ts`.
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_DESCRIPTION, PACK_ENFORCEMENT_LEVEL, PACK_NAME, POLICIES } from "./pack";

new PolicyPack(PACK_NAME, {
  description: PACK_DESCRIPTION,
  enforcementLevel: PACK_ENFORCEMENT_LEVEL,
  policies: [...POLICIES],
});
