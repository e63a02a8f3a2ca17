import { defineConfig } from "prisma/config";

// The datasource URL lives here, not in the schema (Prisma 7). The CLI is not
// used on this project's machines (it downloads engines; see
// docs/troubleshooting.md): `npm run db:migrate` applies the migrations. The
// config stays valid for `prisma migrate deploy` on a connected machine.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/weirwood" },
});
