/**
 * The offline check renders Helm charts when given Helm and the pinned archive (offline/packaged.ts), so the
 * chart's pods are judged as under `pulumi preview`. Helm is not on the build machines: a stand-in prints a
 * fixed manifest and records its arguments, so these tests show the runner's part (the archive's digest,
 * the values and namespace passed, each object added under the Chart), not Helm's rendering.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ChartRenderError, expandCharts, unseenPackagedObjects } from "../offline/packaged";
import { runPack } from "../offline/run-pack";
import { goodStack, resource } from "./fixtures/good-stack";

const container = (image: string, extra: Record<string, unknown> = {}) => ({
  name: "keda-operator",
  image,
  resources: { requests: { cpu: "100m", memory: "100Mi" }, limits: { memory: "1000Mi" } },
  securityContext: {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
    ...extra,
  },
});
const manifest = (extra: Record<string, unknown>) => `---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: keda-operator
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: keda-operator
spec:
  template:
    spec:
      securityContext: { runAsNonRoot: true }
      containers: ${JSON.stringify([container("ghcr.io/kedacore/keda:2.20.2", extra)])}
`;

let dir: string;
let archive: string;
let sha256: string;

/** A stand-in for helm: records its arguments and the values file, prints `manifest`. */
async function standIn(output: string): Promise<string> {
  const script = join(dir, `helm-${createHash("sha1").update(output).digest("hex")}`);
  await writeFile(join(dir, "manifest.yaml"), output);
  await writeFile(
    script,
    `#!/bin/sh\necho "$@" > "${dir}/args"\nwhile [ $# -gt 0 ]; do [ "$1" = --values ] && cp "$2" "${dir}/values.json"; shift; done\ncat "${dir}/manifest.yaml"\n`,
  );
  await chmod(script, 0o755);
  return script;
}

const chart = resource("kubernetes:helm.sh/v4:Chart", "keda-chart", {
  chart: "oci://123456789012.dkr.ecr.eu-west-1.amazonaws.com/sqs-eks-consumer/charts/keda",
  version: "2.20.2",
  namespace: "keda",
  values: { crds: { install: true } },
});

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "packaged-test-"));
  archive = join(dir, "keda-2.20.2.tgz");
  await writeFile(archive, "not really a chart");
  sha256 = createHash("sha256").update("not really a chart").digest("hex");
});
after(async () => rm(dir, { recursive: true, force: true }));

describe("packaged objects in the offline check", () => {
  it("adds the chart's objects under the Chart, rendered with its values and namespace", async () => {
    const helm = await standIn(manifest({}));
    const expanded = await expandCharts([...goodStack(), chart], { helm, archive, sha256 });
    const added = expanded.slice(goodStack().length + 1);
    assert.deepEqual(
      added.map((r) => [r.type, r.name, r.parent]),
      [
        ["kubernetes:core/v1:ServiceAccount", "keda-chart:keda/keda-operator", chart.urn],
        ["kubernetes:apps/v1:Deployment", "keda-chart:keda/keda-operator", chart.urn],
      ],
    );
    assert.equal(
      await readFile(join(dir, "args"), "utf8").then((a) => a.split(" ").slice(0, 5).join(" ")),
      `template keda-chart ${archive} --namespace keda`,
    );
    assert.deepEqual(JSON.parse(await readFile(join(dir, "values.json"), "utf8")), { crds: { install: true } });
    // The chart's upstream images pass by the documented exception; nothing else is reported.
    assert.deepEqual((await runPack(expanded)).violations, []);
  });

  it("judges the chart's pods: a privileged container is reported", async () => {
    const helm = await standIn(manifest({ privileged: true }));
    const expanded = await expandCharts([...goodStack(), chart], { helm, archive, sha256 });
    const violations = (await runPack(expanded)).violations.map((v) => `${v.policy} ${v.name}`);
    assert.deepEqual(violations, ["pod-security-restricted keda-chart:keda/keda-operator"]);
  });

  it("refuses an archive other than the pinned one", async () => {
    const helm = await standIn(manifest({}));
    await assert.rejects(expandCharts([chart], { helm, archive, sha256: "0".repeat(64) }), ChartRenderError);
  });

  it("without Helm and the archive, names the chart whose objects went unjudged", async () => {
    assert.deepEqual(unseenPackagedObjects([...goodStack(), chart]), ['Chart "keda-chart"']);
    const helm = await standIn(manifest({}));
    assert.deepEqual(unseenPackagedObjects(await expandCharts([chart], { helm, archive, sha256 })), []);
  });
});
