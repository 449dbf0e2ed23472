import { writeFileSync } from "node:fs";
import { packResources, scenario, runProgram } from "./test/helpers/program";
async function main() {
  for (const [name, values] of [
    ["rich", { autoscaling: "keda", maxReplicas: 6, alarmEmails: ["ops@example.com"], prometheusOperator: "true", developerStacks: ["alice=arn:aws:iam::123456789012:role/alice"], ciDeployRoleArn: "arn:aws:iam::123456789012:role/ci-deploy", ciPreviewRoleArn: "arn:aws:iam::123456789012:role/ci-preview", clusterAdminPrincipalArns: ["arn:aws:iam::123456789012:role/admin"], endpointPublicAccessCidrs: ["203.0.113.0/24"] }],
    ["pod", { identity: "pod-identity", autoscaling: "keda" }],
  ] as const) {
    const run = await runProgram(await scenario(name, values as never));
    console.log(name, run.errors);
    const res = packResources(run);
    writeFileSync(`/tmp/pol/${name}.json`, JSON.stringify(res, null, 1));
    const types = new Map<string, number>();
    for (const r of res) types.set(r.type, (types.get(r.type) ?? 0) + 1);
    console.log([...types].map(([t, n]) => `${n} ${t}`).join("\n"));
  }
}
main();
