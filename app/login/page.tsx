import { AccountForm } from "@/components/auth/AccountForm";

export const metadata = { title: "Log in" };

type Props = { searchParams: Promise<{ next?: string | string[] }> };

export default async function LoginPage({ searchParams }: Props) {
  const { next } = await searchParams;
  return (
    <section className="narrow">
      <h1>Log in</h1>
      <AccountForm mode="login" next={typeof next === "string" ? next : undefined} />
    </section>
  );
}
