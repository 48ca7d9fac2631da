// Reads one tokenlab report with a reader tokenlab did not write, and
// prints what that reader concludes as one JSON line:
//   node read.js tap FILE    node-tap's parser: {ok, bailout, plan, count, pass, fail, todo, skip}
//   node read.js junit FILE  test-results-parser: {status, total, passed, failed, errors, skipped}
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Parser } from 'tap-parser';

const [kind, file] = process.argv.slice(2);
if (kind === 'tap') {
  const p = new Parser((r) => {
    console.log(JSON.stringify({
      ok: r.ok, bailout: r.bailout === false ? false : String(r.bailout),
      plan: r.plan.end, count: r.count, pass: r.pass, fail: r.fail, todo: r.todo, skip: r.skip,
    }));
  });
  p.end(readFileSync(file, 'utf8'));
} else if (kind === 'junit') {
  const { parse } = createRequire(import.meta.url)('test-results-parser');
  const r = parse({ type: 'junit', files: [file] });
  console.log(JSON.stringify({ status: r.status, total: r.total, passed: r.passed, failed: r.failed, errors: r.errors, skipped: r.skipped }));
} else {
  console.error('usage: node read.js tap|junit FILE');
  process.exit(2);
}
