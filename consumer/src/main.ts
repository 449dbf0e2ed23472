// The container's entrypoint (bundled to dist/main.js): run the consumer with the user's handler,
// consumer/handler.ts (checked at start-up: exactly one of handleMessage and handleBatch, else exit 78).
import * as handler from "../handler";
import { runAsProcess } from "./app";

runAsProcess({ handlerFile: { path: "consumer/handler.ts", exports: handler } }).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
