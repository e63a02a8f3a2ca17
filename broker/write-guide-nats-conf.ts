// `npm run docs:nats-conf`: writes docs/self-hosting/'s NATS configurations
// from broker/nats-conf.ts, the source the integration tests start.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { guideNatsFiles } from "./nats-conf";

const folder = path.join(import.meta.dirname, "../docs/self-hosting");
for (const [name, text] of guideNatsFiles()) {
  await writeFile(path.join(folder, name), text);
  console.log(`wrote docs/self-hosting/${name}`);
}
