/** An account registered on a served origin: its session cookie (`name=value`) and the edge token the origin answered with. */
export interface RegisteredAccount {
  cookie: string;
  token: string;
}

/** Registers an account on a served origin (the first one registered is its admin). */
export async function register(originUrl: string, name: string): Promise<RegisteredAccount> {
  const response = await fetch(`${originUrl}/api/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, password: "correct horse battery" }),
  });
  const body = await response.text();
  if (response.status !== 201) throw new Error(`registering ${name} answered ${response.status}: ${body}`);
  return { cookie: response.headers.getSetCookie()[0]!.split(";")[0]!, token: (JSON.parse(body) as { token: string }).token };
}

/** Registers an account on a served origin and answers its session cookie (`name=value`). */
export async function registerAccount(originUrl: string, name: string): Promise<string> {
  return (await register(originUrl, name)).cookie;
}
