// Stylesheets imported for their side effect; Next's generated next-env.d.ts
// declares the same, but typecheck must pass before the first build.
declare module "*.css";
