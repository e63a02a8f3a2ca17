import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", ".next/", "origin/generated/", "data/", "test-results/", "playwright-report/", "next-env.d.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: "readonly", console: "readonly", Buffer: "readonly" } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-empty": ["error", { allowEmptyCatch: false }],
    },
  },
  {
    // The wiki's pages read the origin through its seam (origin/wiki-reads.ts,
    // `origin.wiki`), never through Prisma: how pages are stored may change
    // without them knowing.
    files: ["app/**/*.{ts,tsx}", "components/**/*.{ts,tsx}"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["**/generated/prisma/**", "@prisma/*"], message: "app/ and components/ read the origin through origin.wiki (origin/wiki-reads.ts), not Prisma" }] }],
      "no-restricted-syntax": [
        "error",
        { selector: "MemberExpression[property.name='prisma']", message: "app/ and components/ read the origin through origin.wiki (origin/wiki-reads.ts), not its database" },
      ],
    },
  },
  {
    files: ["**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { require: "readonly", module: "writable", __dirname: "readonly" } },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
