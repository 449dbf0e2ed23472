import type { AgentOptions } from "node:http";
import type { EnvLike, ParseResult, SettingProblem } from "./settings";

/**
 * Egress through an HTTP proxy: the standard variables HTTPS_PROXY, HTTP_PROXY and NO_PROXY, read
 * once, and handed to Node's own HTTP agents (`proxyEnv`, Node.js "Built-in Proxy Support", 24.5 and
 * later), which tunnel HTTPS with CONNECT, forward plain HTTP to the proxy, send the proxy URL's
 * credentials as Proxy-Authorization, and decide per request whether NO_PROXY names its host. The SQS
 * client, the STS client of the credential chain and the OTLP exporter use such agents; the container
 * credentials endpoint (EKS Pod Identity) and instance metadata, link-local addresses, never do.
 * Nothing here opens a connection.
 *
 * Source: Node.js API, http "Built-in Proxy Support" and `new Agent({ proxyEnv })`; curl's
 * documentation of the same variables (CURLOPT_NOPROXY), which the NO_PROXY rules below follow.
 */

/** The proxy variables as set, each the lower-case one when both spellings are (as curl, Node and undici read them). */
export interface ProxySettings {
  /** Proxy for https:// requests (SQS and STS), from https_proxy or HTTPS_PROXY. */
  readonly httpsProxy?: string;
  /** Proxy for http:// requests (an http:// endpoint or OTLP collector), from http_proxy or HTTP_PROXY. */
  readonly httpProxy?: string;
  /**
   * Hosts reached directly, from no_proxy or NO_PROXY: comma-separated; `*` (every host), a host name
   * or IP address, `host:port`, `.example.com` or `*.example.com` (the domain and its subdomains), a
   * bare `example.com` (the same: it also matches its subdomains, as in curl), an IPv4 range
   * `10.0.0.1-10.0.0.255`, an IPv4 CIDR block `10.0.0.0/16`, and an IPv6 address with or without brackets.
   * Case does not matter.
   */
  readonly noProxy?: string;
}

/** Which variable each setting came from, for messages that name it. */
const VARIABLES = {
  httpsProxy: ["https_proxy", "HTTPS_PROXY"],
  httpProxy: ["http_proxy", "HTTP_PROXY"],
  noProxy: ["no_proxy", "NO_PROXY"],
} as const;

/** The variable a setting is read from: the lower-case one when it is set (non-empty), else the upper-case one. */
function source(env: EnvLike, names: readonly [string, string]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return { name, value };
  }
  return undefined;
}

/**
 * Reads the proxy variables. An empty variable counts as unset. Errors name every variable whose proxy
 * URL is not an absolute http:// or https:// URL (Node's agents support no other proxy, and would
 * otherwise ignore it silently): the consumer exits 78.
 */
export function parseProxySettings(env: EnvLike): ParseResult<ProxySettings> {
  const problems: SettingProblem[] = [];
  const read = (names: readonly [string, string]): string | undefined => {
    const found = source(env, names);
    if (found === undefined || names === VARIABLES.noProxy) return found?.value;
    let protocol: string | undefined;
    try {
      protocol = new URL(found.value).protocol;
    } catch {
      protocol = undefined;
    }
    if (protocol !== "http:" && protocol !== "https:") {
      problems.push({
        key: found.name,
        reason: `${redactProxyUrl(found.value)} is not an http:// or https:// proxy URL (the only kinds Node's agents support)`,
      });
    } else if (!credentialsInUserInfo(found.value)) {
      problems.push({
        key: found.name,
        reason:
          `${redactProxyUrl(found.value)} has an @ outside the URL's user information, so the proxy would be taken ` +
          "from the credentials: percent-encode the user name and password (/ as %2F, ? as %3F, # as %23; RFC 3986, 3.2.1)",
      });
    }
    return found.value;
  };
  const httpsProxy = read(VARIABLES.httpsProxy);
  const httpProxy = read(VARIABLES.httpProxy);
  const noProxy = read(VARIABLES.noProxy);
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: {
      ...(httpsProxy ? { httpsProxy } : {}),
      ...(httpProxy ? { httpProxy } : {}),
      ...(noProxy ? { noProxy } : {}),
    },
  };
}

/**
 * False when an absolute URL holds an `@` that `new URL()` does not read as the end of the user
 * information: a user name or password with an unencoded `/`, `?`, `#` or `\\`, which moves the proxy's
 * host into the credentials (Node would connect to the wrong host, and name it in its errors).
 */
function credentialsInUserInfo(url: string): boolean {
  if (!url.includes("@")) return true;
  const parsed = new URL(url);
  return (
    (parsed.username !== "" || parsed.password !== "") &&
    !`${parsed.pathname}${parsed.search}${parsed.hash}`.includes("@")
  );
}

/** True when a proxy is set for either scheme. */
export function hasProxy(proxy: ProxySettings): boolean {
  return proxy.httpsProxy !== undefined || proxy.httpProxy !== undefined;
}

/** An IPv4 address in dotted decimal, as a number; undefined when it is not one. */
function ipv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

const dotted = (n: number): string => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");

/**
 * One NO_PROXY entry in a form Node's agents match, or undefined when they cannot match it. Node reads
 * exact hosts, `.domain`, `*.domain`, `host:port`, `*` and IPv4 ranges `a-b`, but neither CIDR blocks nor
 * bracketed IPv6 addresses, which curl and Go accept (and which AWS's guidance for EKS behind a proxy
 * puts in NO_PROXY, the VPC's CIDR): an IPv4 block becomes the range it covers, `[::1]` and `[::1]:8080`
 * lose their brackets, an IPv6 block of one address (/128) becomes that address.
 */
function forNode(entry: string): string[] | undefined {
  const bracketed = /^\[([0-9a-f:.]+)\](:\d+)?$/i.exec(entry);
  if (bracketed) return [`${bracketed[1]}${bracketed[2] ?? ""}`];
  const cidr = /^([^/]+)\/(\d{1,3})$/.exec(entry);
  if (cidr) {
    const address = ipv4(cidr[1]!);
    const bits = Number(cidr[2]);
    if (address !== undefined && bits <= 32) {
      const size = 2 ** (32 - bits);
      const first = address - (address % size);
      return [bits === 32 ? dotted(first) : `${dotted(first)}-${dotted(first + size - 1)}`];
    }
    const v6 = cidr[1]!.replace(/^\[(.*)\]$/, "$1");
    if (v6.includes(":") && bits === 128) return [v6];
    return undefined;
  }
  // A bare host name (not an IP address) also covers its subdomains, as in curl, Go and undici.
  if (/^[a-z0-9-]+(\.[a-z0-9-]+)*$/i.test(entry) && /[a-z]/i.test(entry)) return [entry, `.${entry}`];
  return [entry];
}

const entriesOf = (noProxy: string): string[] =>
  noProxy
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);

/**
 * NO_PROXY as Node's agents should read it (see forNode): a bare `example.com`, which Node matches only
 * as that exact host, is given its dotted form as well; IPv4 CIDR blocks become ranges; brackets around
 * IPv6 addresses go. Entries Node cannot match (an IPv6 CIDR block wider than one address) are left out:
 * `ignoredNoProxyEntries` names them.
 */
export function normalizeNoProxy(noProxy: string): string {
  return entriesOf(noProxy)
    .flatMap((entry) => forNode(entry) ?? [])
    .join(",");
}

/** The NO_PROXY entries no agent will honour (IPv6 CIDR blocks, malformed blocks): the start-up log warns of each. */
export function ignoredNoProxyEntries(noProxy: string): string[] {
  return entriesOf(noProxy).filter((entry) => forNode(entry) === undefined);
}

/**
 * Options for an http.Agent or https.Agent that sends its requests through the proxy the settings name
 * (none when no proxy is set): merge them into the agent's other options. Node creates the tunnel (or
 * forwards plain HTTP) per request, and reaches hosts NO_PROXY names directly.
 */
export function proxyAgentOptions(proxy: ProxySettings): Pick<AgentOptions, "proxyEnv"> {
  if (!hasProxy(proxy)) return {};
  return {
    proxyEnv: {
      ...(proxy.httpsProxy ? { HTTPS_PROXY: proxy.httpsProxy } : {}),
      ...(proxy.httpProxy ? { HTTP_PROXY: proxy.httpProxy } : {}),
      ...(proxy.noProxy ? { NO_PROXY: normalizeNoProxy(proxy.noProxy) } : {}),
    },
  };
}

/**
 * A proxy URL fit for a log line: when it holds an `@`, everything between the scheme (if any) and the
 * last `@` is replaced by `[credentials]`, whatever a URL parser would make of it. Reading it with
 * `new URL()` is not enough: a password with an unencoded `/`, `?` or `#` ends the parsed authority
 * early (`http://svc:2024/Secret!@proxy:3128` parses as host `svc`, port 2024, the secret in the path),
 * and a URL without a scheme (`user:pw@proxy:3128`) parses as scheme `user:`. Never throws.
 */
export function redactProxyUrl(url: string): string {
  const at = url.lastIndexOf("@");
  if (at === -1) return url;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0] ?? "";
  return `${scheme}[credentials]@${url.slice(at + 1)}`;
}

/** What the start-up log and the hints say about the proxy: URLs without credentials, and NO_PROXY as set. */
export interface ProxySummary {
  readonly httpsProxy?: string;
  readonly httpProxy?: string;
  readonly noProxy?: string;
}

export function summarizeProxy(proxy: ProxySettings): ProxySummary {
  return {
    ...(proxy.httpsProxy ? { httpsProxy: redactProxyUrl(proxy.httpsProxy) } : {}),
    ...(proxy.httpProxy ? { httpProxy: redactProxyUrl(proxy.httpProxy) } : {}),
    ...(proxy.noProxy ? { noProxy: proxy.noProxy } : {}),
  };
}
