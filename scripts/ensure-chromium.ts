// The console's browser tests (gateway/test/console.component.test.ts) drive Debian's Chromium with
// playwright-core: installed here when missing (as root, with apt-get), or named clearly when it cannot be.
import { existsSync } from "node:fs";
import { ensureDebianPackage } from "./debian-package.ts";

const path = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
if (
  !ensureDebianPackage(
    "chromium",
    () => existsSync(path),
    "Chromium is missing (the console's browser tests)",
  )
) {
  console.error(
    `Chromium is not at ${path}: install Debian's chromium package (apt-get install --no-install-recommends chromium) or set CHROMIUM_PATH; .ci/run installs it on a fresh machine`,
  );
  process.exit(1);
}
console.log(`ok   Chromium at ${path}`);
