// mocha's spec reporter, plus the one summary line CI reads:
// "N passed, M failed[, K skipped]" as the last line of the run.
// Just above it, the files by wall time, so a CI log shows where the minutes
// go without a rerun.
"use strict";
const path = require("node:path");
const Mocha = require("mocha");

class Summary extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const perFile = new Map();
    const started = new Map();
    // Top-level suites only: a file's time includes its hooks (cluster
    // starts), which is what a slow file costs CI.
    const topLevel = (suite) => suite.parent && suite.parent.root;
    runner.on("suite", (suite) => {
      if (topLevel(suite)) started.set(suite, process.hrtime.bigint());
    });
    runner.on("suite end", (suite) => {
      const t0 = started.get(suite);
      if (t0 === undefined) return;
      const file = suite.file ? path.relative(process.cwd(), suite.file) : suite.fullTitle();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      perFile.set(file, (perFile.get(file) ?? 0) + ms);
    });
    runner.once("end", () => {
      const s = this.stats;
      if (perFile.size > 0) process.stdout.write("slowest files:\n");
      for (const [file, ms] of [...perFile].sort((a, b) => b[1] - a[1])) {
        process.stdout.write(`${(ms / 1000).toFixed(1).padStart(7)} s  ${file}\n`);
      }
      const skipped = s.pending ? `, ${s.pending} skipped` : "";
      process.stdout.write(`${s.passes} passed, ${s.failures} failed${skipped}\n`);
    });
  }
}
module.exports = Summary;
