#!/usr/bin/env node
// The npm registry mirror of this workplace serves only the platform packages of this machine
// (linux x64/arm64), so `npm install` leaves the other platforms' optional binaries (Biome CLI,
// Next.js SWC) out of package-lock.json, and `npm ci` then refuses the lock as out of sync.
// This adds those entries back (version, os, cpu, optional), exactly as npm writes them where the
// whole registry is reachable; npm ci skips them on other platforms without downloading anything.
// Run after `npm install` changes the lock: `node scripts/complete-lockfile.mjs`.
import { readFileSync, writeFileSync } from "node:fs";

const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8"));
const platform = (name) => {
  const os = ["darwin", "linux", "win32", "android", "freebsd"].find((o) => name.includes(o));
  const cpu = ["arm64", "x64", "ia32", "arm"].find((c) => name.includes(`-${c}`));
  const libc = name.includes("musl") ? "musl" : name.includes("gnu") ? "glibc" : undefined;
  return { os, cpu, libc };
};
let added = 0;
for (const entry of Object.values(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const where = `node_modules/${name}`;
    if (lock.packages[where] || !/^\d+\.\d+\.\d+$/.test(version)) continue;
    const { os, cpu, libc } = platform(name);
    if (!os || !cpu) continue; // not a platform binary
    lock.packages[where] = {
      version,
      cpu: [cpu],
      ...(entry.dev && { dev: true }),
      ...(libc && { libc: [libc] }),
      optional: true,
      os: [os],
    };
    added++;
  }
}
const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)),
);
lock.packages = sorted;
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} platform entries`);
