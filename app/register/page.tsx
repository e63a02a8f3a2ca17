import { AccountForm } from "@/components/auth/AccountForm";

export const metadata = { title: "Create an account" };

type Props = { searchParams: Promise<{ next?: string | string[] }> };

export default async function RegisterPage({ searchParams }: Props) {
  const { next } = await searchParams;
  return (
    <section className="narrow">
      <h1>Create an account</h1>
      <p className="muted">The first account of a new wiki is its admin.</p>
      <AccountForm mode="register" next={typeof next === "string" ? next : undefined} />
    </section>
  );
}
