// Copy the built YASGUI assets from node_modules into the Python package's
// static folder, so the query UI is served by filmgraph itself (no CDN).
// Run after `npm ci`: `npm run build`. The hatchling build hook (hatch_build.py)
// runs both when the assets are missing or were built from another lock file.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const pkgDir = join(here, "node_modules", "@zazuko", "yasgui");
const outDir = join(here, "..", "src", "filmgraph", "web", "static", "vendor", "yasgui");

// The UMD bundle (defines window.Yasgui) and its stylesheet; the CSS refers to
// no fonts or images (icons are inline SVG), so nothing else is needed.
const files = ["yasgui.min.js", "yasgui.min.css"];
const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
const lock = readFileSync(join(here, "package-lock.json"));

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
for (const name of files) {
  let text = readFileSync(join(pkgDir, "build", name), "utf8");
  // The source maps are not shipped: drop the comment that points at them.
  text = text.replace(/\n\/[/*]# sourceMappingURL=\S+?(\s*\*\/)?\s*$/, "\n");
  writeFileSync(join(outDir, name), text);
}

// The stamp says what was copied and from which lock file; the build hook
// compares the lock's hash to decide whether the assets are current.
const stamp = {
  package: pkg.name,
  version: pkg.version,
  license: pkg.license,
  homepage: pkg.homepage,
  files,
  lockSha256: createHash("sha256").update(lock).digest("hex"),
};
writeFileSync(join(outDir, "ASSETS.json"), JSON.stringify(stamp, null, 2) + "\n");
console.log(`copied ${pkg.name}@${pkg.version} (${files.join(", ")}) to ${outDir}`);
