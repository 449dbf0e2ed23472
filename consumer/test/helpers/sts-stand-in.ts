import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";

/** One set of credentials the stand-in issued. */
export interface Issued {
  readonly accessKeyId: string;
  readonly token: string;
  readonly at: number;
}

export interface StsStandInOptions {
  /** The only role it lets anyone assume. */
  readonly roleArn: string;
  /** The projected token file: the only token it accepts is the file's current content. */
  readonly tokenFile: string;
  /** Lifetime of issued credentials. The SDK refreshes them 5 minutes before they expire. */
  readonly lifetimeSeconds: number;
  /**
   * How far its clock is from this machine's, seconds (default 0): -7200 is a node whose clock is 2 hours
   * ahead of AWS's. Expirations and the Date header follow it.
   */
  readonly clockOffsetSeconds?: number;
}

/**
 * A small STS on loopback answering AssumeRoleWithWebIdentity (the AWS query protocol, XML), the way
 * IRSA's web identity provider calls it, reached through AWS_ENDPOINT_URL_STS. It rejects any other
 * role (AccessDenied, as STS does when a trust policy does not match) and any token but the file's
 * (InvalidIdentityToken). While `available` is false it drops connections, like an unreachable STS;
 * while `stalled` is true it accepts requests and never answers.
 */
export class StsStandIn {
  readonly issued: Issued[] = [];
  readonly rejected: string[] = [];
  available = true;
  /** While true it reads each request and never answers it (a stalled STS or proxy). */
  stalled = false;
  private server: Server | undefined;
  port = 0;

  constructor(private readonly options: StsStandInOptions) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      let body = "";
      request.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      request.on("end", () => {
        if (this.stalled) return;
        if (!this.available) {
          request.socket.destroy();
          return;
        }
        const form = new URLSearchParams(body);
        const answer = this.answer(form);
        response
          .writeHead(answer.status, { "content-type": "text/xml", date: new Date(this.now()).toUTCString() })
          .end(answer.xml);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, "127.0.0.1", () => resolve()));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Its own clock, ms since epoch. */
  private now(): number {
    return Date.now() + (this.options.clockOffsetSeconds ?? 0) * 1000;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private answer(form: URLSearchParams): { status: number; xml: string } {
    if (form.get("Action") !== "AssumeRoleWithWebIdentity")
      return this.error(400, "InvalidAction", `unsupported action ${form.get("Action")}`);
    const roleArn = form.get("RoleArn");
    const token = form.get("WebIdentityToken") ?? "";
    if (roleArn !== this.options.roleArn) {
      return this.error(403, "AccessDenied", `Not authorized to perform sts:AssumeRoleWithWebIdentity on ${roleArn}`);
    }
    if (token !== readFileSync(this.options.tokenFile, "utf8").trim()) {
      return this.error(400, "InvalidIdentityToken", "The web identity token is not the one mounted for this pod");
    }
    const accessKeyId = `ASIASTANDIN${String(this.issued.length + 1).padStart(9, "0")}`;
    this.issued.push({ accessKeyId, token, at: Date.now() });
    const expiration = new Date(this.now() + this.options.lifetimeSeconds * 1000).toISOString();
    const session = form.get("RoleSessionName") ?? "session";
    return {
      status: 200,
      xml: `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <AccessKeyId>${accessKeyId}</AccessKeyId>
      <SecretAccessKey>${randomBytes(20).toString("hex")}</SecretAccessKey>
      <SessionToken>${randomBytes(32).toString("base64")}</SessionToken>
      <Expiration>${expiration}</Expiration>
    </Credentials>
    <SubjectFromWebIdentityToken>system:serviceaccount:test:consumer</SubjectFromWebIdentityToken>
    <AssumedRoleUser>
      <Arn>${this.options.roleArn.replace(":iam::", ":sts::").replace(":role/", ":assumed-role/")}/${session}</Arn>
      <AssumedRoleId>AROASTANDIN:${session}</AssumedRoleId>
    </AssumedRoleUser>
    <Audience>sts.amazonaws.com</Audience>
    <Provider>arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/STANDIN</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>${randomBytes(8).toString("hex")}</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`,
    };
  }

  private error(status: number, code: string, message: string): { status: number; xml: string } {
    this.rejected.push(`${code}: ${message}`);
    return {
      status,
      xml: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomBytes(8).toString("hex")}</RequestId></ErrorResponse>`,
    };
  }
}
