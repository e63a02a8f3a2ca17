import type { ClusterOptions } from "./cluster";
import { testDatabases } from "./databases";
import { natsAnswers, TEST_NATS_URL } from "./test-nats";

export interface ClusterSetup {
  name: string;
  options: Pick<ClusterOptions, "database" | "broker">;
}

/**
 * Both sides of the broker and database seams, paired so that a suite runs
 * twice rather than four times: the in-process broker with the embedded
 * database (what `npm start` runs), and NATS with the real Postgres (a
 * self-hosted deployment). NATS is required in CI (natsAnswers throws there).
 */
export const clusterSetups: ClusterSetup[] = [
  { name: "the memory broker and PGlite", options: { database: testDatabases[0]!, broker: "memory" } },
  ...((await natsAnswers())
    ? [
        {
          name: `NATS and ${testDatabases.at(-1)!.name}`,
          options: { database: testDatabases.at(-1)!, broker: { nats: TEST_NATS_URL } },
        },
      ]
    : []),
];
