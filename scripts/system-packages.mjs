import { spawnSync } from "node:child_process";

/** `true` when `binary` is on PATH. */
export function hasBinary(binary) {
  return spawnSync("sh", ["-c", `command -v ${binary}`], { stdio: "ignore" }).status === 0;
}

/** `true` when `command` (an argv array) runs and exits with status 0. */
function succeeds([command, ...args]) {
  return spawnSync(command, args, { stdio: "ignore" }).status === 0;
}

/**
 * `true` when a requirement is met: its `binary` is on PATH, or its `check` command (an argv
 * array, e.g. `["/usr/bin/python3", "-c", "import django"]`) succeeds.
 */
function isMet(requirement) {
  return requirement.check ? succeeds(requirement.check) : hasBinary(requirement.binary);
}

/**
 * Makes sure each requirement is installed: `{ binary, pkg }` (a program on PATH) or
 * `{ check, pkg }` (a command that succeeds once `pkg` is installed, such as a Python import).
 * As root with apt-get available, missing Debian packages are installed; otherwise the process
 * exits with one line naming what to install.
 */
export function ensureSystemPackages(requirements) {
  const missing = requirements.filter((requirement) => !isMet(requirement));
  if (missing.length === 0) return;
  const packages = missing.map(({ pkg }) => pkg);
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !hasBinary("apt-get")) {
    console.error(
      `missing system packages: install ${packages.join(" ")} (e.g. sudo apt-get install -y ${packages.join(" ")})`,
    );
    process.exit(1);
  }
  console.log(`installing missing system packages with apt-get: ${packages.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const update = spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  const install =
    update.status === 0 &&
    spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], {
      stdio: "inherit",
      env,
    });
  if (install?.status !== 0 || missing.some((requirement) => !isMet(requirement))) {
    console.error(`could not install ${packages.join(" ")} with apt-get; install them and retry`);
    process.exit(1);
  }
}
