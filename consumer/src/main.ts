// The container's entrypoint (bundled to dist/main.js): run the consumer with the user's handler,
// consumer/handler.ts (checked at start-up: exactly one of handleMessage and handleBatch, a function of
// at most two parameters, else exit 78).
import * as handler from "../handler";
import { runAsProcess } from "./app";
import type { Handler } from "./handler";

// `satisfies Handler`: `npm run lint` type-checks the file's exports against the two forms (a third,
// callback parameter, or a handler that returns no promise, is a type error here).
runAsProcess({ handlerFile: { path: "consumer/handler.ts", exports: handler satisfies Handler } }).catch(
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
