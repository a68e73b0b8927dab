// mocha's spec reporter, plus the one summary line CI reads:
// "N passed, M failed[, K skipped]" as the last line of the run.
"use strict";
const Mocha = require("mocha");

class Summary extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once("end", () => {
      const s = this.stats;
      const skipped = s.pending ? `, ${s.pending} skipped` : "";
      process.stdout.write(`${s.passes} passed, ${s.failures} failed${skipped}\n`);
    });
  }
}
module.exports = Summary;
