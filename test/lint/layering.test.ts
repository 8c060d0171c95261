// The layering rules of DESIGN.md §1, checked through ESLint's Node API with the project's own
// config: main/raft is pure and self-contained; only main/app and preload import electron.
import { fileURLToPath } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({ cwd: root });
});

async function lint(file: string, code: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}/${file}` });
  if (!result) throw new Error(`no lint result for ${file}`);
  return result.messages;
}

function errorsOf(messages: Linter.LintMessage[], ruleId: string): Linter.LintMessage[] {
  return messages.filter((m) => m.severity === 2 && m.ruleId === ruleId);
}

describe('main/raft imports nothing outside itself', () => {
  it.each([
    ["import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n", 'node:fs'],
    ["import { readFileSync } from 'fs';\nexport const r = readFileSync;\n", 'fs'],
    ["import { encode } from '@msgpack/msgpack';\nexport const e = encode;\n", 'a package'],
    ["import x from '../node/storage';\nexport const y = x;\n", '../node/storage'],
    ["import y from '../../renderer/y';\nexport const z = y;\n", '../../renderer/y'],
    ["export * from '../cluster/supervisor';\n", 'export-from ../cluster'],
    ["export const load = () => import('node:fs');\n", 'dynamic import'],
    ["export type Fs = typeof import('node:fs');\n", 'import type expression'],
  ])('rejects %j (%s)', async (code) => {
    const errors = errorsOf(await lint('main/raft/x.ts', code), 'raftdeck/layering');
    expect(errors).toHaveLength(1);
  });

  it('rejects an import that leaves main/raft from a subfolder', async () => {
    const code = "import { a } from '../../node/x';\nexport const b = a;\n";
    expect(errorsOf(await lint('main/raft/sub/y.ts', code), 'raftdeck/layering')).toHaveLength(1);
  });

  it("accepts './log' from main/raft/x.ts", async () => {
    const messages = await lint(
      'main/raft/x.ts',
      "import { a } from './log';\nexport const b = a;\n",
    );
    expect(messages).toEqual([]);
  });

  it("accepts '../log' and './deep/z' from a subfolder of main/raft", async () => {
    const code =
      "import { a } from '../log';\nimport type { Z } from './deep/z';\nexport const b: Z = a;\n";
    expect(await lint('main/raft/sub/y.ts', code)).toEqual([]);
  });
});

describe('main/raft is deterministic', () => {
  it.each([
    ['setTimeout(() => {}, 1);\n', 'setTimeout'],
    ['export const now = Date.now();\n', 'Date'],
    ['export const t = performance.now();\n', 'performance'],
    ['export const pid = process.pid;\n', 'process'],
    ['queueMicrotask(() => {});\n', 'queueMicrotask'],
  ])('rejects %j', async (code, name) => {
    const errors = errorsOf(await lint('main/raft/x.ts', code), 'no-restricted-globals');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toContain(name);
  });

  it('rejects Math.random()', async () => {
    const code = 'export const r = Math.random();\n';
    const errors = errorsOf(await lint('main/raft/x.ts', code), 'no-restricted-properties');
    expect(errors).toHaveLength(1);
  });

  it('allows the same calls outside main/raft', async () => {
    const code = 'setTimeout(() => {}, 1);\nexport const r = Math.random() + Date.now();\n';
    expect(await lint('main/node/x.ts', code)).toEqual([]);
  });
});

describe('only main/app and preload import electron', () => {
  const electronImport = "import { app } from 'electron';\nexport const a = app;\n";

  it.each(['main/node/x.ts', 'main/cluster/x.ts', 'main/web/x.ts', 'main/cli/x.ts', 'test/x.ts'])(
    'rejects electron in %s',
    async (file) => {
      expect(errorsOf(await lint(file, electronImport), 'raftdeck/layering')).toHaveLength(1);
    },
  );

  it.each(['main/app/x.ts', 'preload/x.ts'])('accepts electron in %s', async (file) => {
    expect(await lint(file, electronImport)).toEqual([]);
  });

  it('rejects importing main/app or preload from main/node and main/cluster', async () => {
    const fromNode = "import { w } from '../app/window';\nexport const x = w;\n";
    const fromCluster = "import p from '../../preload/index';\nexport const x = p;\n";
    expect(errorsOf(await lint('main/node/x.ts', fromNode), 'raftdeck/layering')).toHaveLength(1);
    expect(
      errorsOf(await lint('main/cluster/x.ts', fromCluster), 'raftdeck/layering'),
    ).toHaveLength(1);
  });
});

describe('the renderer stays out of main/', () => {
  it('rejects renderer importing main/node', async () => {
    const code = "import { s } from '../../main/node/storage';\nexport const x = s;\n";
    expect(errorsOf(await lint('renderer/src/x.ts', code), 'raftdeck/layering')).toHaveLength(1);
  });
});

describe('the renderer may read the contract and the view projection', () => {
  it.each([
    "import type { ClusterView } from '../../main/contract/view';\nexport type V = ClusterView;\n",
    "import { describeRule } from '../../main/view/faults';\nexport const d = describeRule;\n",
  ])('accepts %j', async (code) => {
    expect(await lint('renderer/src/x.ts', code)).toEqual([]);
  });
});

describe('main/view is pure', () => {
  it.each([
    [
      "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n",
      'raftdeck/layering',
    ],
    ["import { encode } from '@msgpack/msgpack';\nexport const e = encode;\n", 'raftdeck/layering'],
    ["import { s } from '../node/storage';\nexport const x = s;\n", 'raftdeck/layering'],
    ["import { s } from '../cluster/supervisor';\nexport const x = s;\n", 'raftdeck/layering'],
    ['export const now = Date.now();\n', 'no-restricted-globals'],
    ['setTimeout(() => {}, 1);\n', 'no-restricted-globals'],
    ['export const r = Math.random();\n', 'no-restricted-properties'],
  ])('rejects %j', async (code, rule) => {
    expect(errorsOf(await lint('main/view/x.ts', code), rule)).toHaveLength(1);
  });

  it('accepts the contract and the core types', async () => {
    const code =
      "import type { ClusterView } from '../contract/view';\nimport type { Status } from '../raft/types';\nexport type A = [ClusterView, Status];\n";
    expect(await lint('main/view/x.ts', code)).toEqual([]);
  });
});

describe('each room of main imports only the rooms below it', () => {
  it.each([
    ['main/app/x.ts', "import { f } from '../web/lab-host';\nexport const x = f;\n"],
    ['main/app/x.ts', "import { s } from '../cluster/supervisor';\nexport const x = s;\n"],
    ['main/node/x.ts', "import { s } from '../cluster/supervisor';\nexport const x = s;\n"],
    ['main/contract/x.ts', "import { n } from '../node/node-api';\nexport const x = n;\n"],
    ['main/cluster/x.ts', "import { w } from '../web/server';\nexport const x = w;\n"],
  ])('rejects from %s: %j', async (file, code) => {
    expect(errorsOf(await lint(file, code), 'raftdeck/layering')).toHaveLength(1);
  });

  it.each([
    ['main/app/x.ts', "import { o } from '../web/backends';\nexport const x = o;\n"],
    ['main/app/x.ts', "import { d } from '../contract/dispatch';\nexport const x = d;\n"],
    ['main/cluster/x.ts', "import { p } from '../view/projection';\nexport const x = p;\n"],
    ['main/web/x.ts', "import { s } from '../cluster/supervisor';\nexport const x = s;\n"],
  ])('accepts from %s: %j', async (file, code) => {
    expect(await lint(file, code)).toEqual([]);
  });
});

describe('hosts drive the core through RawNode', () => {
  const code = "import { Raft } from '../raft/raft';\nexport const r = Raft;\n";

  it.each(['main/node/x.ts', 'main/cluster/x.ts'])('rejects the core class in %s', async (file) => {
    expect(errorsOf(await lint(file, code), 'raftdeck/layering')).toHaveLength(1);
  });

  it('accepts RawNode', async () => {
    const raw = "import { RawNode } from '../raft/raw-node';\nexport const r = RawNode;\n";
    expect(await lint('main/node/x.ts', raw)).toEqual([]);
  });

  it('accepts the core class in the core and in its test helpers', async () => {
    expect(
      await lint(
        'main/raft/raw-node.ts',
        "import { Raft } from './raft';\nexport const r = Raft;\n",
      ),
    ).toEqual([]);
    expect(
      await lint(
        'test/raft/helpers.ts',
        "import { Raft } from '../../main/raft/raft';\nexport const r = Raft;\n",
      ),
    ).toEqual([]);
  });
});

describe('main/lab is pure and stands on the core', () => {
  it.each([
    [
      "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n",
      'raftdeck/layering',
    ],
    ["import { encode } from '@msgpack/msgpack';\nexport const e = encode;\n", 'raftdeck/layering'],
    [
      "import { f } from '../node/storage/file-storage';\nexport const x = f;\n",
      'raftdeck/layering',
    ],
    ["import { r } from '../node/raft-node';\nexport const x = r;\n", 'raftdeck/layering'],
    ["import { s } from '../cluster/supervisor';\nexport const x = s;\n", 'raftdeck/layering'],
    ["import { w } from '../web/server';\nexport const x = w;\n", 'raftdeck/layering'],
    ["import { a } from '../app/window';\nexport const x = a;\n", 'raftdeck/layering'],
    ["import { app } from 'electron';\nexport const a = app;\n", 'raftdeck/layering'],
    ['export const now = Date.now();\n', 'no-restricted-globals'],
    ['setTimeout(() => {}, 1);\n', 'no-restricted-globals'],
    ['export const r = Math.random();\n', 'no-restricted-properties'],
  ])('rejects %j', async (code, rule) => {
    expect(errorsOf(await lint('main/lab/x.ts', code), rule)).toHaveLength(1);
  });

  it('accepts the core, the contract and the named helpers of main/node', async () => {
    const code =
      "import { RawNode } from '../raft/raw-node';\n" +
      "import type { ClusterView } from '../contract/view';\n" +
      "import { WalReplay } from '../node/storage/wal-replay';\n" +
      "import { checkEntries } from '../node/storage/storage';\n" +
      "import { ReadTags } from '../node/read-tags';\n" +
      'export const x: [unknown, ClusterView | undefined, unknown, unknown] = [RawNode, undefined, WalReplay, checkEntries];\n' +
      'export const t = ReadTags;\n';
    expect(await lint('main/lab/x.ts', code)).toEqual([]);
  });

  it('keeps the helpers it reads pure: no builtins, nothing else of main/node', async () => {
    const builtin = "import { randomInt } from 'node:crypto';\nexport const r = randomInt;\n";
    const other = "import { f } from './fs-ops';\nexport const x = f;\n";
    expect(
      errorsOf(await lint('main/node/read-tags.ts', builtin), 'raftdeck/layering'),
    ).toHaveLength(1);
    expect(
      errorsOf(await lint('main/node/storage/wal-replay.ts', other), 'raftdeck/layering'),
    ).toHaveLength(1);
    expect(
      errorsOf(
        await lint('main/node/read-tags.ts', 'export const n = Date.now();\n'),
        'no-restricted-globals',
      ),
    ).toHaveLength(1);
  });

  it('nothing in main/raft or main/node imports the lab', async () => {
    const code = "import { SimCluster } from '../lab/lab-cluster';\nexport const x = SimCluster;\n";
    expect(errorsOf(await lint('main/raft/x.ts', code), 'raftdeck/layering')).toHaveLength(1);
    expect(errorsOf(await lint('main/node/x.ts', code), 'raftdeck/layering')).toHaveLength(1);
  });
});

describe('the lab worker runs the lab, and the renderer loads it only as a worker', () => {
  it('accepts the worker importing main/lab, the contract and the view', async () => {
    const code =
      "import { a } from '../main/lab/lab-dashboard';\nimport { b } from '../main/contract/dispatch';\nimport { c } from '../main/view/projection';\nexport const d = [a, b, c];\n";
    expect(errorsOf(await lint('lab-worker/x.ts', code), 'raftdeck/layering')).toEqual([]);
  });

  it.each([
    ["import { a } from '../main/cluster/supervisor';\nexport const b = a;\n", 'main/cluster'],
    ["import { a } from '../main/node/transport/tcp';\nexport const b = a;\n", 'main/node'],
    ["import { a } from '../renderer/src/x';\nexport const b = a;\n", 'renderer'],
    ["import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n", 'node:fs'],
    ["import { encode } from '@msgpack/msgpack';\nexport const e = encode;\n", 'a package'],
  ])('rejects the worker importing %j (%s)', async (code) => {
    expect(errorsOf(await lint('lab-worker/x.ts', code), 'raftdeck/layering')).toHaveLength(1);
  });

  it('accepts the renderer loading the worker as an inline worker', async () => {
    const code =
      "import W from '../../lab-worker/lab-worker?worker&inline';\nexport const w = W;\n";
    expect(errorsOf(await lint('renderer/src/x.ts', code), 'raftdeck/layering')).toEqual([]);
  });

  it.each([
    ["import { x } from '../../lab-worker/lab-worker';\nexport const y = x;\n", 'as a module'],
    ["import x from '../../lab-worker/lab-worker?raw';\nexport const y = x;\n", 'as text'],
    ["import { x } from '../../main/lab/lab-dashboard';\nexport const y = x;\n", 'main/lab'],
  ])('rejects the renderer importing %j (%s)', async (code) => {
    expect(errorsOf(await lint('renderer/src/x.ts', code), 'raftdeck/layering')).toHaveLength(1);
  });

  it('rejects main importing the worker', async () => {
    const code = "import { x } from '../../lab-worker/lab-worker';\nexport const y = x;\n";
    expect(errorsOf(await lint('main/web/x.ts', code), 'raftdeck/layering')).toHaveLength(1);
  });
});
