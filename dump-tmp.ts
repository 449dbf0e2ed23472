import { readFileSync } from "node:fs";
import { runPack, formatViolations } from "./policies/offline/run-pack";
async function main() {
  for (const f of ["dev", "rich", "pod"]) {
    const res = JSON.parse(readFileSync(`/tmp/pol/${f}.json`, "utf8"));
    console.log(f, formatViolations(await runPack(res)));
  }
}
main();
