// One drill pod: the consumer's real process entry (settings, signals, graceful drain on SIGTERM,
// exit codes) with the scenario's handler: wait DRILL_HANDLER_MS, as an I/O call would, then log the
// message as the shipped default handler does, so the drill can account for every message.
import { setTimeout as sleep } from "node:timers/promises";
import { createLogHandler, DEFAULT_TUNABLES, runAsProcess } from "../consumer/src/index";

const handlerMs = Number(process.env.DRILL_HANDLER_MS);
if (!Number.isInteger(handlerMs) || handlerMs < 0) {
  console.error(
    `DRILL_HANDLER_MS must be a whole number of milliseconds, got ${JSON.stringify(process.env.DRILL_HANDLER_MS)}`,
  );
  process.exit(78);
}
const log = createLogHandler(DEFAULT_TUNABLES.logBodyMaxChars);

runAsProcess({
  handler: async (message, context) => {
    await sleep(handlerMs, undefined, { signal: context.signal });
    await log(message, context);
  },
}).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
