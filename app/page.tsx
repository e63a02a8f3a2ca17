export default function Home() {
  return (
    <main>
      <h1>Weirwood</h1>
      <p>A collaborative wiki whose writes are accepted at the edge.</p>
      <p>
        The origin is running: its public keys are at <a href="/.well-known/jwks.json">/.well-known/jwks.json</a>.
      </p>
    </main>
  );
}
