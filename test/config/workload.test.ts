/** The workload concern (infra/config/workload.ts): the pods, and the consumer block checked by the consumer's own schema. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { k, problems, valid } from "./helpers";

describe("parseStackConfig: the consumer block", () => {
  it("reads the consumer block with the consumer's schema (numbers or numeric strings)", () => {
    const config = valid({
      [k("consumer")]: JSON.stringify({ handlerTimeoutSeconds: 300, receiveLoops: "4", logLevel: "debug" }),
    });
    assert.equal(config.tunables.handlerTimeoutSeconds, 300);
    assert.equal(config.tunables.receiveLoops, 4);
    assert.equal(config.tunables.logLevel, "debug");
  });

  it("rejects exactly what the consumer would reject (the shared schema's limits and cross-checks)", () => {
    const bad = problems({
      [k("consumer")]: JSON.stringify({ retryBaseSeconds: 30, retryMaxSeconds: 10, maxMessages: 11 }),
    });
    assert.match(bad.get(k("consumer.maxMessages"))!, /between 1 and 10/);
    const crossChecked = problems({ [k("consumer")]: JSON.stringify({ retryBaseSeconds: 30, retryMaxSeconds: 10 }) });
    assert.match(crossChecked.get(k("consumer.retryMaxSeconds"))!, /below .*retryBaseSeconds \(30\)/);
  });

  it("requires a health port Kubernetes can probe and a non-root pod can bind", () => {
    assert.match(
      problems({ [k("consumer")]: JSON.stringify({ healthPort: 0 }) }).get(k("consumer.healthPort"))!,
      /at least 1024/,
    );
    assert.match(
      problems({ [k("consumer")]: JSON.stringify({ healthPort: 80 }) }).get(k("consumer.healthPort"))!,
      /at least 1024/,
    );
  });

  it("rejects a consumer block that is not an object", () => {
    assert.match(problems({ [k("consumer")]: "[1,2]" }).get(k("consumer"))!, /must be an object/);
    assert.match(problems({ [k("consumer")]: "fast" }).get(k("consumer"))!, /must be an object/);
  });
});
