/**
 * checker-bench measures the linearizability checker: each Jepsen etcd history of the test
 * fixtures (best of several runs), then large generated histories (10 keys x 10,000 operations,
 * 8 clients), with and without calls of unknown outcome. Run: npx tsx test/bench/checker-bench.ts
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseJepsenLog } from '../../main/cluster/checker/jepsen';
import { check } from '../../main/cluster/checker/porcupine';
import type { Operation } from '../../main/cluster/checker/history';
import { generateHistory } from '../cluster/checker/generate';
import { seededRng } from '../../main/raft/rng';

const RUNS = 5;
const dir = fileURLToPath(new URL('../fixtures/jepsen-etcd/', import.meta.url));

function timed(ops: Operation[], runs: number): { ms: number; result: string; steps: number } {
  let best = Infinity;
  let result = '';
  let steps = 0;
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    const out = check(ops, { timeoutMs: 120_000 });
    best = Math.min(best, performance.now() - t);
    result = out.result;
    steps = out.perKey.reduce((sum, k) => sum + k.steps, 0);
  }
  return { ms: best, result, steps };
}

const files = readdirSync(dir)
  .filter((f) => f.endsWith('.log'))
  .sort();
let total = 0;
let slowest = { file: '', ms: 0 };
console.log(`Jepsen etcd histories (best of ${RUNS} runs)`);
for (const file of files) {
  const ops = parseJepsenLog(readFileSync(dir + file, 'utf8'));
  const { ms, result, steps } = timed(ops, RUNS);
  total += ms;
  if (ms > slowest.ms) slowest = { file, ms };
  console.log(
    `  ${file}  ${String(ops.length).padStart(3)} ops  ${result.padEnd(16)}` +
      `${ms.toFixed(2).padStart(9)} ms  ${steps.toLocaleString('en-US').padStart(10)} steps`,
  );
}
console.log(
  `  all ${files.length}: ${total.toFixed(1)} ms; slowest ${slowest.file} ${slowest.ms.toFixed(1)} ms`,
);

const shapes = [
  { name: '10 keys x 10,000 ops', keys: 10, ops: 100_000 },
  { name: '1 hot key x 10,000 ops', keys: 1, ops: 10_000 },
];
console.log('\nGenerated histories, 8 clients, 1% failed writes (best of 3 runs)');
for (const shape of shapes) {
  for (const unknownRate of [0, 0.01, 0.05]) {
    const ops = generateHistory(seededRng(42), {
      clients: 8,
      keys: shape.keys,
      ops: shape.ops,
      unknownRate,
      failRate: 0.01,
    });
    const { ms, result, steps } = timed(ops, 3);
    console.log(
      `  ${shape.name.padEnd(24)} unknown ${(unknownRate * 100).toFixed(0).padStart(2)}%  ` +
        `${result.padEnd(16)}${ms.toFixed(0).padStart(7)} ms  ` +
        `${steps.toLocaleString('en-US').padStart(12)} steps` +
        `  ${((ops.length / ms) * 1000).toFixed(0).padStart(8)} ops/s`,
    );
  }
}
