// What the project installs from Debian's packages where a fresh machine of ours lacks it (as root,
// with apt-get): promtool for the alerting rules, Chromium for the console's browser tests.
import { spawnSync } from "node:child_process";

/** Installs `pkg` when `present()` is false and the machine can; whether it is present after. */
export function ensureDebianPackage(pkg: string, present: () => boolean, why: string): boolean {
  if (present()) return true;
  if (!spawnSync("apt-get", ["--version"]).error && process.getuid?.() === 0) {
    console.log(`${why}: installing Debian's ${pkg} package`);
    spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
    spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", pkg], {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  }
  return present();
}
