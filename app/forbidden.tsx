import Link from "next/link";

/** What forbidden() renders, with status 403 (next.config.js: experimental.authInterrupts). */
export default function Forbidden() {
  return (
    <section data-testid="forbidden">
      <h1>403 · Not for you</h1>
      <p>
        This page is for the wiki&apos;s admins. <Link href="/login">Log in</Link> with an admin account, or go back to the{" "}
        <Link href="/">main page</Link>.
      </p>
    </section>
  );
}
