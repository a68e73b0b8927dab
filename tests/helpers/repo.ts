// The repository's root, found from this file rather than the working
// directory: tests and benches run from anywhere.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findRepoRoot(start: string): string {
  // The helper runs from tests/helpers/ (ts) or dist/ts/tests/helpers/
  // (compiled); the repository is the first directory up with both.
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "tests", "slurm", "cluster.sh"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no repository (package.json + tests/slurm/cluster.sh) above ${start}`);
  }
}

export const REPO_ROOT = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
