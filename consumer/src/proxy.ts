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
   * bare `example.com` (the same: it also matches its subdomains, as in curl), and an IPv4 range
   * `10.0.0.1-10.0.0.255`. Case does not matter.
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

/** True when a proxy is set for either scheme. */
export function hasProxy(proxy: ProxySettings): boolean {
  return proxy.httpsProxy !== undefined || proxy.httpProxy !== undefined;
}

/**
 * NO_PROXY as Node's agents should read it. Node matches a bare `example.com` only as that exact host,
 * while curl, Go and undici let it match subdomains too; `.example.com` matches both in every one of
 * them, so a bare domain is given its dotted form as well. IP addresses, ranges, `host:port` and `*` stay
 * as they are (Node matches `host:port` against that host only).
 */
export function normalizeNoProxy(noProxy: string): string {
  const entries = noProxy
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  const out: string[] = [];
  for (const entry of entries) {
    out.push(entry);
    // A host name without a port (IP addresses, ranges, `host:port`, `.domain` and `*` are left as they are).
    if (/^[a-z0-9-]+(\.[a-z0-9-]+)*$/i.test(entry) && /[a-z]/i.test(entry)) out.push(`.${entry}`);
  }
  return out.join(",");
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

/** A proxy URL fit for a log line: user name and password replaced, the rest as given. */
export function redactProxyUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === "" && parsed.password === "") return url;
    parsed.username = "";
    parsed.password = "";
    return `${parsed.protocol}//[credentials]@${parsed.host}${parsed.pathname === "/" ? "" : parsed.pathname}`;
  } catch {
    // Not a URL: keep only what cannot be a password (the part after the last @, if any).
    return url.includes("@") ? `[credentials]@${url.slice(url.lastIndexOf("@") + 1)}` : url;
  }
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
