// Import cycles, found on the TypeScript import graph of main/ (static imports, re-exports,
// dynamic imports and `import type`, as ts.preProcessFile lists them): there are none. The command
// line and the scenarios are layered (a registry over one file per command or scenario, over what
// they share), and the node's API names the servers' figures without importing the servers.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) return sourcesUnder(p);
    return /\.ts$/.test(e) && !e.endsWith('.d.ts') ? [p] : [];
  });
}

/** importGraph maps every source file of main/ to the source files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourcesUnder(join(root, 'main'))) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles
      .map((i) => i.fileName)
      .filter((s) => s.startsWith('.'))
      .map((s) => resolve(dirname(file), s))
      .map((base) => [`${base}.ts`, join(base, 'index.ts'), base].find((c) => existsSync(c)))
      .filter((t): t is string => t !== undefined && t.endsWith('.ts'));
    graph.set(file, targets);
  }
  return graph;
}

/** cycles lists the strongly connected components of more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(relative(root, w));
    } while (w !== v);
    if (component.length > 1) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('import cycles', () => {
  const graph = importGraph();

  it('sees the imports of main/cli and main/cluster/scenarios', () => {
    const main = join(root, 'main/cli/main.ts');
    expect(graph.get(main)).toContain(join(root, 'main/cli/commands/index.ts'));
    const scenarios = join(root, 'main/cluster/scenarios/index.ts');
    expect(graph.get(scenarios)).toContain(join(root, 'main/cluster/scenarios/context.ts'));
  });

  it('finds a cycle where there is one', () => {
    const a = '/x/a.ts';
    const b = '/x/b.ts';
    expect(
      cycles(
        new Map([
          [a, [b]],
          [b, [a]],
          ['/x/c.ts', [a]],
        ]),
      ),
    ).toHaveLength(1);
  });

  it('there is none anywhere in main/', () => {
    expect(cycles(graph)).toEqual([]);
  });
});
