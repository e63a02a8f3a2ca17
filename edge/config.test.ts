import { describe, expect, it } from "vitest";
import { ConfigError } from "../common/env";
import { originConfigFromEnv } from "../origin/config";
import { edgeConfigFromEnv } from "./config";

describe("configuration", () => {
  it("a valid edge environment gives its settings with the documented defaults", () => {
    const config = edgeConfigFromEnv({ EDGE_POP: "us-east", EDGE_REPLICA: "us-east-a" });
    expect(config).toMatchObject({ pop: "us-east", replica: "us-east-a", durability: "edge", flushMs: 2000, originUrl: "http://127.0.0.1:3000", blockRecheckMs: 5000 });
  });

  it("the fan-out window grows with the crowd by default; a window set alone stays fixed; both set must agree", () => {
    expect(edgeConfigFromEnv({ EDGE_POP: "us-east" })).toMatchObject({ fanoutWindowMs: 5, fanoutWindowMaxMs: 25 });
    expect(edgeConfigFromEnv({ EDGE_POP: "us-east", EDGE_FANOUT_WINDOW_MS: "40" })).toMatchObject({ fanoutWindowMs: 40, fanoutWindowMaxMs: 40 });
    expect(edgeConfigFromEnv({ EDGE_POP: "us-east", EDGE_FANOUT_WINDOW_MS: "0" })).toMatchObject({ fanoutWindowMs: 0, fanoutWindowMaxMs: 0 });
    expect(edgeConfigFromEnv({ EDGE_POP: "us-east", EDGE_FANOUT_WINDOW_MS: "2", EDGE_FANOUT_WINDOW_MAX_MS: "30" })).toMatchObject({ fanoutWindowMaxMs: 30 });
  });

  it("NATS_URL takes one server or a PoP's servers comma-separated, kept in their order", () => {
    expect(edgeConfigFromEnv({ EDGE_POP: "us-east", NATS_URL: "nats://127.0.0.1:4222" }).natsServers).toEqual(["nats://127.0.0.1:4222"]);
    expect(edgeConfigFromEnv({ EDGE_POP: "us-east", NATS_URL: "nats://b:4252, nats://a:4251,nats://c:4253" }).natsServers).toEqual([
      "nats://b:4252",
      "nats://a:4251",
      "nats://c:4253",
    ]);
    expect(edgeConfigFromEnv({ EDGE_POP: "us-east" }).natsServers).toEqual([]);
  });

  it.each([
    [{ EDGE_POP: "us-east", NATS_URL: "nats://a:4251,,nats://b:4252" }, /NATS_URL must be NATS server URLs, comma-separated/],
    [{ EDGE_POP: "us-east", EDGE_FLUSH_MS: "abc" }, /EDGE_FLUSH_MS .*, got "abc"/],
    [{ EDGE_POP: "us-east", EDGE_FLUSH_MS: "-5" }, /EDGE_FLUSH_MS must be a positive integer/],
    [{ EDGE_POP: "us-east", EDGE_BLOCK_RECHECK_MS: "0" }, /EDGE_BLOCK_RECHECK_MS must be a positive integer/],
    [{ EDGE_POP: "US East" }, /EDGE_POP must be a PoP name .*, got "US East"/],
    [{ EDGE_POP: "origin" }, /EDGE_POP must not be "origin": the origin's own notices name it, got "origin"/],
    [{}, /EDGE_POP .*, got nothing/],
    [{ EDGE_POP: "us-east", EDGE_DURABILITY: "disk" }, /EDGE_DURABILITY .*, got "disk"/],
    [{ EDGE_POP: "us-east", ORIGIN_URL: "ftp://origin" }, /ORIGIN_URL must be an http:\/\/ or https:\/\/ URL/],
    [{ EDGE_POP: "us-east", EDGE_FANOUT_WINDOW_MS: "30", EDGE_FANOUT_WINDOW_MAX_MS: "20" }, /EDGE_FANOUT_WINDOW_MAX_MS \(20\) must be at least EDGE_FANOUT_WINDOW_MS \(30\)/],
  ])("a bad edge environment stops start-up naming the variable (%j)", (env, message) => {
    expect(() => edgeConfigFromEnv(env)).toThrow(ConfigError);
    expect(() => edgeConfigFromEnv(env)).toThrow(message);
  });

  it("a bad origin environment stops start-up naming the variable", () => {
    expect(() => originConfigFromEnv({ DATABASE_URL: "mysql://x" })).toThrow(/config \(origin\): DATABASE_URL must be a postgres:\/\/ URL, got "mysql:\/\/x"/);
    expect(() => originConfigFromEnv({ ORIGIN_MAX_BATCH_BYTES: "lots" })).toThrow(/ORIGIN_MAX_BATCH_BYTES .*, got "lots"/);
  });
});
