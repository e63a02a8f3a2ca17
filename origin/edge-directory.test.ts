import { describe, expect, it } from "vitest";
import { createMemoryBus } from "../broker/memory";
import { encodeEnvelope } from "../protocol/envelope";
import { subjects } from "../protocol/subjects";
import { EdgeDirectory } from "./edge-directory";

function setup(expiryMs = 1000, goneMemoryMs = 60_000) {
  const bus = createMemoryBus();
  const origin = bus.connect("origin");
  const edge = bus.connect("edge");
  const directory = new EdgeDirectory(origin, expiryMs, goneMemoryMs);
  const heartbeat = async (replica: string, state: "up" | "draining" | "gone") => {
    edge.publish(
      subjects.members("us-east"),
      encodeEnvelope({
        type: "heartbeat",
        pop: "us-east",
        replica,
        url: `ws://127.0.0.1:1/${replica}`,
        httpUrl: `http://127.0.0.1:1/${replica}`,
        state,
        connections: 3,
        pages: 2,
      }),
    );
    await edge.flush();
    await origin.flush();
  };
  return { directory, heartbeat };
}

describe("the origin's edge directory", () => {
  it("a replica that says goodbye leaves the live list and is remembered as gone", async () => {
    const { directory, heartbeat } = setup();
    await heartbeat("us-east-a", "up");
    await heartbeat("us-east-b", "up");
    await heartbeat("us-east-b", "draining");
    expect(directory.roster().live.map((edge) => [edge.replica, edge.state])).toEqual([
      ["us-east-a", "up"],
      ["us-east-b", "draining"],
    ]);
    await heartbeat("us-east-b", "gone");
    const { live, gone } = directory.roster();
    expect(live.map((edge) => edge.replica)).toEqual(["us-east-a"]);
    expect(gone.map((edge) => [edge.replica, edge.state, edge.httpUrl])).toEqual([["us-east-b", "gone", "http://127.0.0.1:1/us-east-b"]]);
    directory.close();
  });

  it("a replica silent for longer than the expiry is gone from the moment it expired", async () => {
    const { directory, heartbeat } = setup(1000);
    await heartbeat("us-east-a", "up");
    const seen = directory.roster().live[0]!.lastSeen;
    expect(directory.roster(seen + 999).live).toHaveLength(1);
    const { live, gone } = directory.roster(seen + 1001);
    expect(live).toEqual([]);
    expect(gone).toMatchObject([{ replica: "us-east-a", state: "gone", goneAt: seen + 1000 }]);
    directory.close();
  });

  it("a gone replica that heartbeats again is live again, and the gone are forgotten after a while", async () => {
    const { directory, heartbeat } = setup(1000, 5000);
    await heartbeat("us-east-a", "gone");
    await heartbeat("us-east-b", "gone");
    await heartbeat("us-east-a", "up");
    const seen = directory.roster().live[0]!.lastSeen;
    expect(directory.roster(seen).live.map((edge) => edge.replica)).toEqual(["us-east-a"]);
    expect(directory.roster(seen).gone.map((edge) => edge.replica)).toEqual(["us-east-b"]);
    // a, silent since, went at seen + 1 s and is remembered 5 s more; b left before it and is forgotten by then.
    // (Times from a's own lastSeen: a millisecond passing between the heartbeat and Date.now() made this flaky.)
    expect(directory.roster(seen + 6000).gone.map((edge) => edge.replica)).toEqual(["us-east-a"]);
    directory.close();
  });
});
