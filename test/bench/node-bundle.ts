/**
 * node-bundle builds the node process (main/node/index.ts) from the current sources into one
 * plain JavaScript file, as the app's build does for out/main/node.js, so that the benchmark's
 * nodes run under plain `node`: no TypeScript loader in their start time, memory or CPU.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, stop } from 'esbuild';
import type { NodeCommand } from '../../main/cluster/node-command';

/**
 * bundle builds `entry` (a path relative to this folder) and what it imports into one ESM file
 * for plain node at `outfile`.
 */
export async function bundle(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
  });
  // esbuild keeps a service process for further builds; there are none.
  await stop();
}

export async function buildNodeBundle(dir: string): Promise<NodeCommand> {
  const outfile = join(dir, 'raftdeck-node.mjs');
  await bundle('../../main/node/index.ts', outfile);
  return { exe: process.execPath, args: [outfile], env: {} };
}
