// The container's entrypoint (bundled to dist/main.js): run the consumer with the default handler.
import { runAsProcess } from "./app";

runAsProcess().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
