import Link from "next/link";

export default function NotFound() {
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is nothing at this address. Try <Link href="/search">searching</Link> or the <Link href="/">main page</Link>.
      </p>
    </section>
  );
}
