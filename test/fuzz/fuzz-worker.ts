// Runs a batch of fuzz jobs through the CLI in one process (a node start per input would cost
// more than the inputs): for each job a "begin" line, then an "end" line with the verdict, on
// stdout as JSON lines. The driver watches the lines: a job that never ends hung or crashed.
import { readFileSync } from 'node:fs';
import { main } from '../../src/cli.js';
import { judge } from './check.js';

export interface Job { id: number; args: string[]; cacheDir: string; format: 'json' | 'text' }

const jobs = JSON.parse(readFileSync(process.argv[2], 'utf8')) as Job[];
const say = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
for (const job of jobs) {
  say({ id: job.id, phase: 'begin' });
  let stdout = '';
  let stderr = '';
  const code = await main(job.args, {
    stdout: (s) => { stdout += s; },
    stderr: (s) => { stderr += s; },
    env: { XDG_CACHE_HOME: job.cacheDir },
    isTTY: false,
    cwd: '/',
  });
  say({ id: job.id, phase: 'end', failure: judge({ code, stdout, stderr }, job.format) ?? null, stderr: stderr.slice(0, 400) });
}
