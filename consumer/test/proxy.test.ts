import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { classifyAwsError } from "../src/errors";
import { describeProblems } from "../src/settings";
import {
  ignoredNoProxyEntries,
  normalizeNoProxy,
  parseProxySettings,
  proxyAgentOptions,
  redactProxyUrl,
  summarizeProxy,
} from "../src/proxy";

describe("proxy variables", () => {
  test("lower case wins over upper case, as curl, Node and undici read them; an empty variable is unset", () => {
    const parsed = parseProxySettings({
      https_proxy: "http://lower:3128",
      HTTPS_PROXY: "http://upper:3128",
      http_proxy: "",
      HTTP_PROXY: "http://plain-upper:3128",
      NO_PROXY: "upper.example",
      no_proxy: "lower.example",
    });
    assert.deepEqual(parsed, {
      ok: true,
      value: { httpsProxy: "http://lower:3128", httpProxy: "http://plain-upper:3128", noProxy: "lower.example" },
    });
    assert.deepEqual(parseProxySettings({}), { ok: true, value: {} });
    assert.deepEqual(proxyAgentOptions({}), {}, "no proxy: the agents are Node's plain ones");
  });

  test("a proxy URL that is not http:// or https:// is named, every one of them, without its password", () => {
    const parsed = parseProxySettings({ HTTPS_PROXY: "socks5://u:pw@proxy:1080", http_proxy: "proxy:3128" });
    assert.equal(parsed.ok, false);
    assert.deepEqual(!parsed.ok && parsed.problems.map((p) => p.key), ["HTTPS_PROXY", "http_proxy"]);
    assert.ok(!JSON.stringify(parsed).includes(":pw@"));
  });

  test("credentials never leave in what is logged", () => {
    assert.equal(redactProxyUrl("http://user:p%40ss@proxy.corp:3128"), "http://[credentials]@proxy.corp:3128");
    assert.equal(redactProxyUrl("http://proxy.corp:3128"), "http://proxy.corp:3128");
    assert.deepEqual(summarizeProxy({ httpsProxy: "https://a:b@p:443/", noProxy: ".svc" }), {
      httpsProxy: "https://[credentials]@p:443/",
      noProxy: ".svc",
    });
  });

  /**
   * Proxy values whose password a URL parser does not see as a password: an unencoded `/`, `?`, `#` or `\\`
   * ends the parsed authority early, and a value without a scheme parses as scheme `user:`. Whatever the
   * parser says, nothing before the last `@` may reach a log line, a problem or a hint.
   */
  const LEAKY: readonly [value: string, secret: string][] = [
    ["http://svc:2024/Secret!@proxy.corp:3128", "2024/Secret!"],
    ["http://svc:12?pw@proxy.corp:3128", "12?pw"],
    ["http://svc:34#pw@proxy.corp:3128", "34#pw"],
    ["http://svc:56\\pw@proxy.corp:3128", "56\\pw"],
    ["svcuser:hunter2@proxy.corp:3128", "hunter2"],
    ["http://user:p@ss@proxy.corp:3128", "p@ss"],
    ["http://user:p%40ss@proxy.corp:3128", "p%40ss"],
  ];
  for (const [value, secret] of LEAKY) {
    test(`${JSON.stringify(value)}: the password is in no problem, summary or hint`, () => {
      assert.ok(!redactProxyUrl(value).includes(secret), redactProxyUrl(value));
      assert.match(redactProxyUrl(value), /\[credentials\]@proxy\.corp:3128$/);
      for (const name of ["HTTPS_PROXY", "http_proxy"]) {
        const parsed = parseProxySettings({ [name]: value });
        const told = parsed.ok ? JSON.stringify(summarizeProxy(parsed.value)) : describeProblems(parsed.problems);
        assert.ok(!told.includes(secret), told);
        if (parsed.ok) {
          const summary = summarizeProxy(parsed.value);
          const classified = classifyAwsError(
            Object.assign(new Error("getaddrinfo ENOTFOUND x"), { code: "ENOTFOUND" }),
            {
              queueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/q",
              region: "us-east-1",
              proxy: { url: (summary.httpsProxy ?? summary.httpProxy)!, noProxy: summary.noProxy },
            },
          );
          assert.match(String(classified.hint), /\[credentials\]@proxy\.corp:3128/);
          assert.ok(!String(classified.hint).includes(secret), classified.hint);
        }
      }
    });
  }

  test("an @ outside the parsed user information is refused: Node would take the proxy's host from the password", () => {
    for (const value of [
      "http://svc:2024/Secret!@proxy.corp:3128",
      "http://svc:12?pw@proxy.corp:3128",
      "http://svc:34#pw@proxy.corp:3128",
    ]) {
      const parsed = parseProxySettings({ HTTPS_PROXY: value });
      assert.equal(parsed.ok, false, value);
      assert.match(!parsed.ok ? describeProblems(parsed.problems) : "", /HTTPS_PROXY.*percent-encode/);
    }
    assert.equal(parseProxySettings({ HTTPS_PROXY: "http://user:p%2F@proxy.corp:3128" }).ok, true);
    assert.equal(parseProxySettings({ HTTPS_PROXY: "http://user:p@ss@proxy.corp:3128" }).ok, true);
  });

  test("IPv4 CIDR blocks become the ranges they cover, IPv6 brackets go, an IPv6 block wider than one address is named", () => {
    assert.equal(
      normalizeNoProxy("127.0.0.0/8,10.1.2.3/16,10.0.0.7/32,0.0.0.0/0,[::1],[fd00::1]:8080,fd00::5/128,[fd00::6]/128"),
      "127.0.0.0-127.255.255.255,10.1.0.0-10.1.255.255,10.0.0.7,0.0.0.0-255.255.255.255,::1,fd00::1:8080,fd00::5,fd00::6",
    );
    assert.equal(normalizeNoProxy("fd00::/8,10.0.0.0/33,localhost"), "localhost,.localhost");
    assert.deepEqual(ignoredNoProxyEntries(" fd00::/8 , 10.0.0.0/33,localhost,127.0.0.0/8"), [
      "fd00::/8",
      "10.0.0.0/33",
    ]);
    assert.deepEqual(ignoredNoProxyEntries("localhost,127.0.0.1,[::1]"), []);
  });

  test("a bare domain in NO_PROXY also covers its subdomains; IPs, ranges, ports and * stay as given", () => {
    assert.equal(
      normalizeNoProxy(" Example.com ,.svc,*.corp,10.0.0.1,10.0.0.1-10.0.0.9,host:8443,*,fd00:ec2::23"),
      "Example.com,.Example.com,.svc,*.corp,10.0.0.1,10.0.0.1-10.0.0.9,host:8443,*,fd00:ec2::23",
    );
  });
});
