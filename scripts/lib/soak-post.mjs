// The fault soak's post step (wrappedAction in scripts/lib/soak-faults.ts): runs the action's real post step,
// passes its output on, sends it SOAK_POST_KILL as its cleanup phase line arrives, kills it at
// SOAK_POST_DEADLINE_MS, and says how it ended in a last `soak-post:` line.
import { spawn } from 'node:child_process';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';

const env = process.env;
const say = (what) => process.stdout.write(`\nsoak-post: ${what}\n`);
const child = spawn(process.execPath, [env.SOAK_POST_REAL ?? ''], { stdio: ['ignore', 'pipe', 'inherit'] });
const deadline = setTimeout(
  () => {
    say('deadline');
    child.kill('SIGKILL');
  },
  Number(env.SOAK_POST_DEADLINE_MS ?? 600_000),
);
let partial = '';
let sent = false;
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  const lines = (partial + chunk.toString()).split('\n');
  partial = lines.pop() ?? '';
  if (env.SOAK_POST_KILL && !sent && lines.includes(env.SOAK_POST_LINE)) {
    sent = true;
    child.kill(env.SOAK_POST_KILL);
    say(`sent ${env.SOAK_POST_KILL} at cleanup`);
  }
});
child.on('close', (code, signal) => {
  clearTimeout(deadline);
  say(`ended code=${code} signal=${signal}`);
  process.exitCode = code ?? 128;
});
