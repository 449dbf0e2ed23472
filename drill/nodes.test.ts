import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NodeFleet, podsPerNode } from "./nodes";

describe("the drill's nodes", () => {
  it("holds as many pods per node as max pods, CPU and memory allow, whichever is fewest", () => {
    // Oracle from upstream figures: m6i.large admits 29 pods (awslabs/amazon-eks-ami eni-max-pods.txt), two of
    // them aws-node and kube-proxy; its 2 vCPUs leave 1930m after kube-reserved (6% of the first core, 1% of
    // the second), so 100m pods are CPU-bound at 19. t3.micro admits 4 pods: 2 besides the host-network pair.
    assert.equal(podsPerNode("m6i.large", 100, 128), 19);
    assert.equal(podsPerNode("m6i.large", 50, 128), 27);
    assert.equal(podsPerNode("t3.micro", 100, 128), 2);
    assert.throws(() => podsPerNode("m5.metal", 100, 128), /not in infra\/config\/instance-types\.ts/);
  });

  it("launches a node only when none has room, and a pod waits until its node is ready", () => {
    const fleet = new NodeFleet({ instanceType: "t3.micro", podsPerNode: 2, provisionSeconds: 3 });
    const placed = [0, 0, 0].map((at) => fleet.place(at));
    assert.deepEqual(
      placed.map((node) => [node.name, node.readyAt]),
      [
        ["node-1", 3000],
        ["node-1", 3000],
        ["node-2", 3000],
      ],
    );
    // Once ready, a node with room takes the next pod at once; a freed place is taken before a launch.
    assert.equal(fleet.place(5000).name, "node-2");
    fleet.release(placed[0]!);
    assert.deepEqual([fleet.place(6000).name, fleet.nodes.length], ["node-1", 2]);
    assert.deepEqual([fleet.place(7000).readyAt, fleet.nodes.length], [10_000, 3]);
  });
});
