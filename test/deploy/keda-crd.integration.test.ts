/**
 * Every KEDA object the program registers, in every configuration of the matrix, is one the API server
 * accepts under the CRDs of the KEDA chart version the program installs (test/deploy/keda-crd.ts, transcribed
 * from kedacore/charts v2.20.2). `@kubernetes-models/keda` is looser (it does not bound the HPA's
 * stabilization window), so the program is judged here against the chart's own schema; and a configuration
 * that would render a window the CRD refuses fails at preview, naming the key.
 */
import Ajv from "ajv";
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { KEDA_CHART } from "../../infra/keda";
import type { ProgramRun } from "../helpers/mocks";
import { runProgram, scenario } from "../helpers/program";
import {
  KEDA_CRD_CHART_VERSION,
  SCALED_OBJECT_SPEC,
  TRIGGER_AUTHENTICATION_SPEC,
  scaledObjectCelProblems,
} from "./keda-crd";
import { recordMatrix, type MatrixRun } from "./matrix";

const ajv = new Ajv({ allErrors: true, strict: false });
const scaledObject = ajv.compile(SCALED_OBJECT_SPEC);
const triggerAuthentication = ajv.compile(TRIGGER_AUTHENTICATION_SPEC);

/** The CRD's verdict on every KEDA object of a run, as `kind name: problem` lines. */
function crdProblems(run: ProgramRun): string[] {
  const problems: string[] = [];
  for (const resource of run.resources) {
    const spec = resource.inputs.spec as Record<string, unknown>;
    if (resource.type === "kubernetes:keda.sh/v1alpha1:ScaledObject") {
      if (!scaledObject(spec)) problems.push(`ScaledObject ${resource.name}: ${ajv.errorsText(scaledObject.errors)}`);
      for (const problem of scaledObjectCelProblems(spec)) problems.push(`ScaledObject ${resource.name}: ${problem}`);
    } else if (resource.type === "kubernetes:keda.sh/v1alpha1:TriggerAuthentication") {
      if (!triggerAuthentication(spec))
        problems.push(`TriggerAuthentication ${resource.name}: ${ajv.errorsText(triggerAuthentication.errors)}`);
    } else if (resource.type.startsWith("kubernetes:keda.sh/")) {
      problems.push(`${resource.type} ${resource.name}: no CRD schema transcribed for this kind`);
    }
  }
  return problems;
}

let matrix: MatrixRun[];
let longBudget: ProgramRun;

before(async () => {
  matrix = await recordMatrix();
  longBudget = await runProgram(
    await scenario("slow", {
      autoscaling: "keda",
      consumer: { shutdownBudgetSeconds: 3_600, handlerTimeoutSeconds: 3_000 },
    }),
  );
});

describe("KEDA objects against the CRDs of the installed chart", () => {
  it("judges the chart version the program installs", () => {
    assert.equal(KEDA_CHART.version, KEDA_CRD_CHART_VERSION, "re-transcribe test/deploy/keda-crd.ts for the new chart");
  });

  it("the schemas refuse what the CRD refuses", () => {
    const base = {
      scaleTargetRef: { name: "consumer" },
      triggers: [{ type: "aws-sqs-queue", metadata: { queueURL: "https://sqs" } }],
    };
    assert.ok(scaledObject(base));
    const window = (seconds: number) => ({
      ...base,
      advanced: { horizontalPodAutoscalerConfig: { behavior: { scaleDown: { stabilizationWindowSeconds: seconds } } } },
    });
    assert.ok(scaledObject(window(3_600)));
    assert.ok(!scaledObject(window(3_610)));
    assert.ok(!scaledObject({ ...base, triggers: [{ type: "aws-sqs-queue", metadata: { queueLength: 5 } }] }));
    assert.ok(!scaledObject({ ...base, pollingInterval: 0 }));
    assert.ok(!scaledObject({ ...base, unknownField: true }));
    assert.deepEqual(scaledObjectCelProblems({ minReplicaCount: 5, maxReplicaCount: 2 }).length, 1);
    assert.ok(!triggerAuthentication({ podIdentity: { provider: "aws", identityOwner: "operator" } }));
  });

  it("every KEDA object of every configuration is accepted", () => {
    let seen = 0;
    for (const { label, run } of matrix) {
      seen += run.resources.filter((r) => r.type.startsWith("kubernetes:keda.sh/")).length;
      assert.deepEqual(crdProblems(run), [], label);
    }
    assert.ok(seen >= 4, "the matrix records KEDA objects");
  });

  it("a shutdown budget whose scale-down window the CRD would refuse fails at preview, naming the key", () => {
    assert.deepEqual(crdProblems(longBudget), [], "no ScaledObject the API server would refuse is registered");
    assert.match(longBudget.errors.join("\n"), /sqs-eks-consumer:consumer\.shutdownBudgetSeconds/);
  });
});
