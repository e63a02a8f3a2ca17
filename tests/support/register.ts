/** Registers an account on a served origin and answers its session cookie (`name=value`). */
export async function registerAccount(originUrl: string, name: string): Promise<string> {
  const response = await fetch(`${originUrl}/api/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, password: "correct horse battery" }),
  });
  if (response.status !== 201) throw new Error(`registering ${name} answered ${response.status}: ${await response.text()}`);
  return response.headers.getSetCookie()[0]!.split(";")[0]!;
}
