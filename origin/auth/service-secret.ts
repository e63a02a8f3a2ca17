import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * The secret edges present to the origin's internal endpoints (flush, page
 * state). From EDGE_SERVICE_SECRET or EDGE_SERVICE_SECRET_FILE; otherwise
 * generated once into `<dataDir>/keys/` so that edges started with the same
 * data folder (the embedded default) share it.
 */
export async function loadServiceSecret(options: {
  secret: string | undefined;
  secretFile: string | undefined;
  dataDir: string;
}): Promise<string> {
  if (options.secret) return options.secret;
  if (options.secretFile) {
    try {
      return (await readFile(options.secretFile, "utf8")).trim();
    } catch (error) {
      throw new Error(`EDGE_SERVICE_SECRET_FILE: cannot read ${options.secretFile} (${(error as Error).message})`, {
        cause: error,
      });
    }
  }
  const file = path.join(options.dataDir, "keys", "edge-service-secret");
  try {
    return (await readFile(file, "utf8")).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString("base64url");
  try {
    await writeFile(file, secret, { mode: 0o600, flag: "wx" });
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return (await readFile(file, "utf8")).trim();
    throw error;
  }
}
