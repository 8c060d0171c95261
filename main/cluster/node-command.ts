import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** NodeCommand is how to start a node process: the executable, the arguments before the node's flags, extra env. */
export interface NodeCommand {
  exe: string;
  args: string[];
  env: Record<string, string>;
}

/**
 * defaultNodeCommand finds the node entry point. Inside Electron it runs the built node bundle with
 * the Electron binary as plain Node (ELECTRON_RUN_AS_NODE=1); from sources (CLI, tests) it runs
 * main/node/index.ts through tsx with the current Node.
 */
export function defaultNodeCommand(): NodeCommand {
  const candidates = [
    new URL('./node.js', import.meta.url), // bundled next to the Electron main (out/main)
    new URL('../../out/main/node.js', import.meta.url), // from main/cluster in the source tree
  ];
  const source = fileURLToPath(new URL('../node/index.ts', import.meta.url));
  if (process.versions.electron) {
    for (const c of candidates) {
      const p = fileURLToPath(c);
      if (existsSync(p))
        return { exe: process.execPath, args: [p], env: { ELECTRON_RUN_AS_NODE: '1' } };
    }
  }
  if (existsSync(source))
    return { exe: process.execPath, args: ['--import', 'tsx', source], env: {} };
  for (const c of candidates) {
    const p = fileURLToPath(c);
    if (existsSync(p))
      return { exe: process.execPath, args: [p], env: { ELECTRON_RUN_AS_NODE: '1' } };
  }
  throw new Error(
    'cannot find the node entry point (main/node/index.ts or out/main/node.js); run npm run build',
  );
}
