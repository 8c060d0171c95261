#!/usr/bin/env node
// cpuprofile-top prints where a V8 CPU profile (node --cpu-prof) spent its time: the functions
// with the most self time, and the most inclusive time, each with its share of the samples.
// usage: node scripts/cpuprofile-top.mjs FILE.cpuprofile [--top N]
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
if (!file || !Number.isInteger(top) || top <= 0) {
  console.error('usage: node scripts/cpuprofile-top.mjs FILE.cpuprofile [--top N]');
  process.exit(2);
}

const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const label = (n) => {
  const f = n.callFrame;
  const where = f.url ? `${f.url.replace(/^.*\//, '')}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'} ${where}`.trim();
};

// Sample time: each sample lasts until the next one.
const self = new Map();
const total = new Map();
let all = 0;
for (let i = 0; i < prof.samples.length; i++) {
  const dt = prof.timeDeltas[i + 1] ?? 0;
  all += dt;
  const leaf = byId.get(prof.samples[i]);
  const l = label(leaf);
  self.set(l, (self.get(l) ?? 0) + dt);
  const seen = new Set();
  for (let id = leaf.id; id !== undefined; id = parent.get(id)) {
    const k = label(byId.get(id));
    if (seen.has(k)) continue;
    seen.add(k);
    total.set(k, (total.get(k) ?? 0) + dt);
  }
}

const idle = self.get('(idle)') ?? 0;
const busy = all - idle;
const pct = (v) => `${((v / busy) * 100).toFixed(1).padStart(5)}%`;
console.log(
  `${file}: ${(all / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy (shares below are of busy time)`,
);
const print = (title, m) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...m]
    .filter(([k]) => k !== '(idle)' && k !== '(root)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, top))
    console.log(`${pct(v)}  ${(v / 1000).toFixed(0).padStart(7)} ms  ${k}`);
};
print('self time', self);
print('inclusive time', total);
