// Contestant (scenario T): this project's consumer started as its container starts it
// (`runAsProcess`, as consumer/src/main.ts does), so tracing turns on exactly as in a pod: from the
// OTEL_* variables, read at start. Only the handler differs from the shipped entry: the scenario's
// (a no-op in T) instead of one log line per message.
import { runAsProcess } from "../../consumer/src/index";
import { doWork, exitOnError, readContestantEnv } from "./common";

const { work } = readContestantEnv();
// "log": the shipped entry's own default handler.
runAsProcess(work === "log" ? {} : { handler: () => doWork(work).then(() => undefined) }).catch(exitOnError);
