/**
 * Flags are boolean keys: Pulumi.yaml declares them `type: boolean`, and the program takes exactly what
 * the Pulumi SDK's `Config.getBoolean` takes (the strings "true" and "false", what the CLI passes for a
 * YAML `true`/`false`); anything else is a problem naming the key.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CONFIG_KEYS, type ConfigKeySpec } from "../../infra/config";
import { k, problems, valid } from "./helpers";

const FLAGS = Object.entries(CONFIG_KEYS as Record<string, ConfigKeySpec>)
  .filter(([, spec]) => spec.type === "boolean")
  .map(([key]) => key);

describe("boolean keys", () => {
  it('no string key stands in for a flag (a default of "true" or "false")', () => {
    const stringly = Object.entries(CONFIG_KEYS as Record<string, ConfigKeySpec>).filter(
      ([, spec]) => spec.type === "string" && /^(true|false)$/i.test(spec.default),
    );
    assert.deepEqual(
      stringly.map(([key]) => key),
      [],
    );
    assert.ok(FLAGS.includes("prometheusOperator"), FLAGS.join(", "));
  });

  it("prometheusOperator takes true and false", () => {
    assert.equal(valid({ [k("prometheusOperator")]: "true" }).telemetry.prometheusOperator, true);
    assert.equal(valid({ [k("prometheusOperator")]: "false" }).telemetry.prometheusOperator, false);
    assert.equal(valid({}).telemetry.prometheusOperator, false);
  });

  for (const key of FLAGS) {
    it(`${key}: anything but true or false is a problem naming it`, () => {
      for (const text of ["yes", "1", "True", "on"]) {
        assert.equal(
          problems({ [k("queueType")]: "fifo", [k(key)]: text }).get(k(key)),
          `must be true or false, got "${text}"`,
        );
      }
    });
  }
});
