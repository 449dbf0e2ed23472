/**
 * The pack as the Pulumi CLI runs it: `@pulumi/pulumi/cmd/run-policy-pack` compiles `policies/` with
 * ts-node and serves the analyzer over gRPC on loopback; this test is the engine's side of that
 * conversation. The CLI itself is not available on the build machines.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as proto from "@pulumi/pulumi/proto/analyzer_pb";
import { POLICIES } from "../pack";
import type { RecordedResource } from "../offline/evaluate";
import { edit } from "./harness";
import { goodResources } from "./fixtures/good-stack";

// google-protobuf ships no type declarations; load the copy the Pulumi protocol code itself uses.
const fromPulumiProto = createRequire(createRequire(__filename).resolve("@pulumi/pulumi/proto/analyzer_pb"));
const { Struct } = fromPulumiProto("google-protobuf/google/protobuf/struct_pb") as {
  Struct: { fromJavaScript(value: Record<string, unknown>): Parameters<proto.AnalyzeRequest["setProperties"]>[0] };
};
const { Empty } = fromPulumiProto("google-protobuf/google/protobuf/empty_pb") as {
  Empty: new () => Parameters<AnalyzerClient["getAnalyzerInfo"]>[0];
};

const PACK_DIR = join(__dirname, "..");
const STARTUP_TIMEOUT_MS = 180_000;

/** Starts the pack the way the Node.js language host does and resolves with the port it prints. */
function servePack(): Promise<{ child: ChildProcess; port: number }> {
  const runner = createRequire(__filename).resolve("@pulumi/pulumi/cmd/run-policy-pack");
  const child = spawn(process.execPath, [runner, "127.0.0.1:0", "."], {
    cwd: PACK_DIR,
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(
      () => reject(new Error(`no port within ${STARTUP_TIMEOUT_MS} ms; stderr: ${stderr}`)),
      STARTUP_TIMEOUT_MS,
    );
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const port = /^(\d+)\s*$/m.exec(stdout)?.[1];
      if (port !== undefined) {
        clearTimeout(timer);
        resolve({ child, port: Number(port) });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`run-policy-pack exited with ${code}; stderr: ${stderr}`));
    });
  });
}

function options(): proto.AnalyzerResourceOptions {
  return new proto.AnalyzerResourceOptions().setProtect(false);
}

function analyzeRequest(r: RecordedResource): proto.AnalyzeRequest {
  return new proto.AnalyzeRequest()
    .setType(r.type)
    .setName(r.name)
    .setUrn(r.urn)
    .setProperties(Struct.fromJavaScript({ ...r.props }))
    .setOptions(options());
}

function stackResource(r: RecordedResource): proto.AnalyzerResource {
  return new proto.AnalyzerResource()
    .setType(r.type)
    .setName(r.name)
    .setUrn(r.urn)
    .setProperties(Struct.fromJavaScript({ ...r.props }))
    .setOptions(options());
}

function call<Req, Res>(
  method: (request: Req, callback: (error: grpc.ServiceError | null, response: Res) => void) => unknown,
  request: Req,
): Promise<Res> {
  return new Promise((resolve, reject) =>
    method(request, (error, response) => (error === null ? resolve(response) : reject(error))),
  );
}

describe("the pack served as the Pulumi CLI runs it", { timeout: STARTUP_TIMEOUT_MS + 60_000 }, () => {
  let child: ChildProcess | undefined;
  let client: AnalyzerClient;

  before(async () => {
    const served = await servePack();
    child = served.child;
    client = new AnalyzerClient(`127.0.0.1:${served.port}`, grpc.credentials.createInsecure());
  });

  after(() => {
    client?.close();
    child?.removeAllListeners("exit");
    child?.kill();
  });

  it("describes itself and every rule", async () => {
    const info = await call<InstanceType<typeof Empty>, proto.AnalyzerInfo>(
      client.getAnalyzerInfo.bind(client),
      new Empty(),
    );
    assert.equal(info.getName(), "sqs-eks-consumer");
    assert.equal(info.getVersion(), "0.1.0");
    assert.deepEqual(
      info.getPoliciesList().map((p) => p.getName()),
      POLICIES.map((p) => p.name),
    );
  });

  it("reports a resource violation as mandatory", async () => {
    const queue = edit(goodResources().queue, { sqsManagedSseEnabled: false });
    const response = await call<proto.AnalyzeRequest, proto.AnalyzeResponse>(
      client.analyze.bind(client),
      analyzeRequest(queue),
    );
    assert.deepEqual(
      response.getDiagnosticsList().map((d) => [d.getPolicyname(), d.getEnforcementlevel(), d.getMessage()]),
      [
        [
          "queue-encrypted",
          proto.EnforcementLevel.MANDATORY,
          // The SDK prefixes the rule's description; the CLI prints both lines, as formatViolations does.
          `Every SQS queue is encrypted at rest, with SQS-managed keys or a KMS key.\nQueue "consumer-queue" is not encrypted at rest; set sqsManagedSseEnabled: true, or kmsMasterKeyId to a KMS key.`,
        ],
      ],
    );
  });

  it("finds nothing in the good stack, and reports a missing PodDisruptionBudget as advisory", async () => {
    const good = goodResources();
    const analyzeStack = (resources: RecordedResource[]) =>
      call<proto.AnalyzeStackRequest, proto.AnalyzeResponse>(
        client.analyzeStack.bind(client),
        new proto.AnalyzeStackRequest().setResourcesList(resources.map(stackResource)),
      );
    const clean = await analyzeStack(Object.values(good));
    assert.deepEqual(clean.getDiagnosticsList(), []);
    const { pdb: _pdb, ...withoutPdb } = good;
    const response = await analyzeStack(Object.values(withoutPdb));
    assert.deepEqual(
      response.getDiagnosticsList().map((d) => [d.getPolicyname(), d.getEnforcementlevel(), d.getUrn()]),
      [["pdb-for-replicated-deployments", proto.EnforcementLevel.ADVISORY, good.deployment.urn]],
    );
  });
});
