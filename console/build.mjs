// Bundles src/main.ts and src/styles.css into ../src/mailgate/console/static with content-hashed
// names, then writes index.html naming them. Same sources, same bytes (CI compares the build).
import { build } from "esbuild";
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

const out = new URL("../src/mailgate/console/static/", import.meta.url).pathname;
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  entryPoints: ["src/main.ts", "src/styles.css"],
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
  outdir: out,
  entryNames: "[name]-[hash]",
  legalComments: "none",
  charset: "utf8",
  logLevel: "warning",
});

const files = readdirSync(out).sort();
const script = files.find((name) => name.startsWith("main-") && name.endsWith(".js"));
const style = files.find((name) => name.startsWith("styles-") && name.endsWith(".css"));
const page = readFileSync("src/index.html", "utf8")
  .replace("{{script}}", basename(script))
  .replace("{{style}}", basename(style));
writeFileSync(join(out, "index.html"), page);
