import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer as createTlsServer, type Server as TlsServer } from "node:tls";

/** Where the proxy sends a host:port it is asked for. */
export interface Route {
  readonly host: string;
  readonly port: number;
}

/** One request the proxy received: a CONNECT (a tunnel) or a plain HTTP request in absolute form. */
export interface ProxiedRequest {
  readonly method: string;
  /** host:port for CONNECT, the absolute URL otherwise. */
  readonly target: string;
  readonly proxyAuthorization: string | undefined;
}

/**
 * An HTTP proxy on loopback, as egress proxies work (RFC 9110, CONNECT; absolute-form requests): it
 * opens a tunnel for CONNECT and forwards plain HTTP requests, to the hosts its `routes` name and no
 * other (502 otherwise), so a host the machine cannot resolve is reachable through it alone. With
 * `credentials` it answers 407 to a request without that Basic Proxy-Authorization. `silent` makes
 * it take connections and never answer. Records every request.
 */
export class HttpProxyStandIn {
  readonly requests: ProxiedRequest[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly routes: ReadonlyMap<string, Route>,
    private readonly options: { readonly credentials?: string; readonly silent?: boolean } = {},
  ) {
    this.server = createServer((req, res) => {
      this.requests.push({ method: req.method ?? "", target: req.url ?? "", proxyAuthorization: auth(req) });
      if (this.options.silent) return;
      if (!this.authorized(req)) {
        res.writeHead(407, { "proxy-authenticate": 'Basic realm="egress"' }).end();
        return;
      }
      const url = new URL(req.url ?? "");
      const route = this.routes.get(`${url.hostname}:${url.port || "80"}`);
      if (route === undefined) {
        res.writeHead(502).end("no route");
        return;
      }
      const headers = { ...req.headers };
      delete headers["proxy-authorization"];
      const upstream = httpRequest(
        { host: route.host, port: route.port, method: req.method, path: `${url.pathname}${url.search}`, headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on("error", () => res.destroy());
      req.pipe(upstream);
    });
    this.server.on("connection", (socket: Socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    this.server.on("connect", (req: IncomingMessage, client: Socket, head: Buffer) => {
      this.requests.push({ method: "CONNECT", target: req.url ?? "", proxyAuthorization: auth(req) });
      if (this.options.silent) return;
      if (!this.authorized(req)) {
        client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="egress"\r\n\r\n');
        return;
      }
      const route = this.routes.get(req.url ?? "");
      if (route === undefined) {
        client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n");
        return;
      }
      const upstream = connect(route.port, route.host, () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      this.sockets.add(upstream);
      upstream.on("close", () => this.sockets.delete(upstream));
      for (const s of [client, upstream]) s.on("error", () => s.destroy());
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
  }

  /** The proxy's URL, with the credentials in it when given. */
  url(credentials?: string): string {
    return `http://${credentials ? `${credentials}@` : ""}127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", () => resolve()));
    this.port = (this.server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private authorized(req: IncomingMessage): boolean {
    const wanted = this.options.credentials;
    return wanted === undefined || auth(req) === `Basic ${Buffer.from(wanted).toString("base64")}`;
  }
}

function auth(req: IncomingMessage): string | undefined {
  const value: string | string[] | undefined = req.headers["proxy-authorization"];
  return typeof value === "string" ? value : value?.[0];
}

/** A self-signed certificate for `hostName` (openssl), PEM. */
export function selfSignedCertificate(hostName: string): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), "proxy-tls-"));
  const key = join(dir, "key.pem");
  const cert = join(dir, "cert.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      `/CN=${hostName}`,
      "-addext",
      `subjectAltName=DNS:${hostName}`,
      "-keyout",
      key,
      "-out",
      cert,
    ],
    { stdio: "ignore" },
  );
  return { key: readFileSync(key, "utf8"), cert: readFileSync(cert, "utf8") };
}

/** TLS in front of a plain TCP service on loopback: what an HTTPS endpoint is to the emulator's HTTP. */
export async function tlsFront(
  certificate: { key: string; cert: string },
  targetPort: number,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: TlsServer = createTlsServer(certificate, (client) => {
    const upstream = connect(targetPort, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => s.destroy());
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    port: (server.address() as { port: number }).port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
