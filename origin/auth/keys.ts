import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, importJWK, importPKCS8, type JWK } from "jose";
import { TOKEN_ALGORITHM } from "../../protocol/token";

export interface SigningKeys {
  /** Key id in every token header; the thumbprint of the public key. */
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** What /.well-known/jwks.json publishes. */
  jwks: { keys: JWK[] };
}

/**
 * The origin's Ed25519 signing key: read from `keyFile` when the operator
 * gives one, otherwise generated once into `<dataDir>/keys/` and reused, so
 * that tokens stay valid across restarts and across processes sharing it.
 */
export async function loadSigningKeys(options: { keyFile: string | undefined; dataDir: string }): Promise<SigningKeys> {
  const pem = options.keyFile
    ? await readKeyFile(options.keyFile)
    : await readOrCreateKey(path.join(options.dataDir, "keys", "signing-key.pem"));
  const privateKey = await importPKCS8(pem, TOKEN_ALGORITHM, { extractable: true });
  const publicJwk = await exportJWK(privateKey);
  delete publicJwk.d;
  const kid = await calculateJwkThumbprint(publicJwk);
  const publicKey = (await importJWK(publicJwk, TOKEN_ALGORITHM)) as CryptoKey;
  return { kid, privateKey, publicKey, jwks: { keys: [{ ...publicJwk, kid, alg: TOKEN_ALGORITHM, use: "sig" }] } };
}

async function readKeyFile(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new Error(`ORIGIN_SIGNING_KEY_FILE: cannot read ${file} (${(error as Error).message})`, { cause: error });
  }
}

async function readOrCreateKey(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const { privateKey } = await generateKeyPair(TOKEN_ALGORITHM, { crv: "Ed25519", extractable: true });
  const pem = await exportPKCS8(privateKey);
  try {
    // "wx": if another process created the key meanwhile, keep theirs.
    await writeFile(file, pem, { mode: 0o600, flag: "wx" });
    return pem;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return readFile(file, "utf8");
    throw error;
  }
}
