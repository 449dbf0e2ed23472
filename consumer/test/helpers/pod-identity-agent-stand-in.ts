import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";

/** One set of credentials the stand-in issued, and the token that asked for it. */
export interface AgentIssue {
  readonly accessKeyId: string;
  readonly token: string;
  readonly at: number;
}

export interface PodIdentityAgentStandInOptions {
  /** The projected token file (audience pods.eks.amazonaws.com): the only Authorization accepted is its current content. */
  readonly tokenFile: string;
  /** Lifetime of issued credentials. The SDK refreshes them 5 minutes before they expire. */
  readonly lifetimeSeconds: number;
}

/**
 * A loopback stand-in for the EKS Pod Identity Agent's credentials endpoint (`GET /v1/credentials`), as the
 * SDK's container provider calls it (@aws-sdk/credential-provider-http): the token file's content in
 * `Authorization`, a JSON answer `{AccessKeyId, SecretAccessKey, Token, Expiration}`, a 4xx answer carrying
 * `{Code, Message}` (EKS Auth's AssumeRoleForPodIdentity error names). It rejects any token but the file's
 * current one, answers ResourceNotFoundException while `association` is false, and drops connections while
 * `available` is false, like an agent that is not running. Each accepted request issues a new key.
 * The SDK allows plain http to loopback, so the stand-in needs no TLS.
 */
export class PodIdentityAgentStandIn {
  readonly issued: AgentIssue[] = [];
  readonly rejected: string[] = [];
  available = true;
  association = true;
  private server: Server | undefined;
  private port = 0;

  constructor(private readonly options: PodIdentityAgentStandInOptions) {}

  /** The value of AWS_CONTAINER_CREDENTIALS_FULL_URI for this stand-in. */
  get fullUri(): string {
    return `http://127.0.0.1:${this.port}/v1/credentials`;
  }

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      if (!this.available) {
        request.socket.destroy();
        return;
      }
      const answer = this.answer(request.method ?? "", request.url ?? "", request.headers.authorization ?? "");
      response.writeHead(answer.status, { "content-type": "application/json" }).end(JSON.stringify(answer.body));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", () => resolve()));
    this.port = (this.server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private answer(method: string, path: string, token: string): { status: number; body: object } {
    if (method !== "GET" || path !== "/v1/credentials") return this.error(404, "NotFound", `${method} ${path}`);
    if (token !== readFileSync(this.options.tokenFile, "utf8").trim()) {
      return this.error(400, "InvalidTokenException", "the Authorization header is not the token mounted for this pod");
    }
    if (!this.association)
      return this.error(400, "ResourceNotFoundException", "no Pod Identity association for this service account");
    const accessKeyId = `ASIAPODID${String(this.issued.length + 1).padStart(11, "0")}`;
    this.issued.push({ accessKeyId, token, at: Date.now() });
    return {
      status: 200,
      body: {
        AccessKeyId: accessKeyId,
        SecretAccessKey: randomBytes(20).toString("hex"),
        Token: randomBytes(32).toString("base64"),
        AccountId: "123456789012",
        Expiration: new Date(Date.now() + this.options.lifetimeSeconds * 1000).toISOString(),
      },
    };
  }

  private error(status: number, code: string, message: string): { status: number; body: object } {
    this.rejected.push(`${code}: ${message}`);
    return { status, body: { Code: code, Message: message } };
  }
}
