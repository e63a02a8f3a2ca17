// The npm registry this project's machines reach serves no macOS or Windows
// builds of platform packages (e.g. @next/swc-darwin-arm64 is a 404), so
// `npm install` leaves them out of package-lock.json and `npm ci` then
// refuses the lock ("Missing: @next/swc-darwin-arm64@ from lock file").
// This adds the missing optional platform entries with their os/cpu, which
// npm ci skips on Linux. Run it after changing dependencies:
//   node .ci/lock-platforms.cjs          # fix package-lock.json
//   node .ci/lock-platforms.cjs --check  # exit 1 if entries are missing
const fs = require("node:fs");

const file = "package-lock.json";
const lock = JSON.parse(fs.readFileSync(file, "utf8"));
const PLATFORM = /(darwin|win32|linux|freebsd|android)-(arm64|x64|ia32|arm)\b/;
const missing = [];
for (const [where, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = `${where ? `${where}/` : ""}node_modules/${name}`;
    if (lock.packages[`node_modules/${name}`] || lock.packages[nested]) continue;
    const match = PLATFORM.exec(name);
    if (!match) continue;
    missing.push(name);
    lock.packages[`node_modules/${name}`] = { version, cpu: [match[2]], optional: true, os: [match[1]] };
  }
}
if (process.argv.includes("--check")) {
  if (missing.length > 0) {
    console.error(`package-lock.json lacks ${missing.join(", ")}: run node .ci/lock-platforms.cjs`);
    process.exit(1);
  }
  process.exit(0);
}
const [root, ...rest] = Object.keys(lock.packages);
lock.packages = Object.fromEntries([root, ...rest.sort()].map((key) => [key, lock.packages[key]]));
fs.writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(missing.length ? `added ${missing.join(", ")}` : "package-lock.json lists every platform package");
