// raftdeck/layering: the architecture's import rules, checked on every import, export-from,
// dynamic import, require() call and `import('x')` type.
//
//   main/raft/**      imports nothing outside main/raft: no packages, no node:* builtins,
//                     no relative path that leaves main/raft.
//   main/view/**      the view projection: pure like main/raft, and may read main/contract and
//                     main/raft (types and pure helpers) only.
//   main/lab/**       the simulated cluster (lab): pure like main/raft, so it can run in a Web
//                     Worker; it may read main/raft, main/contract and the pure helpers of
//                     main/node named in LAB_HELPERS only, and nothing in main/raft may read it.
//   electron          only main/app/** and preload/** may import it.
//   main/app, preload only themselves may import their files (the shell stays at the edge).
//   main/raft/raft    the core's private class: outside main/raft only its test helpers
//                     (test/raft/helpers.ts, test/raft/handlers.test.ts) may import it;
//                     hosts drive the core through RawNode (main/raft/raw-node.ts).
//   main/<room>/**    imports from another room of main only as ROOMS allows (below).
//   renderer/**       may not import from main/** except the shared contract and view rooms,
//                     and may load lab-worker/ only as a worker (a `?worker` import), never
//                     import its modules: the static lab build's page gets the core that way.
//   lab-worker/**     runs a lab cluster in a Web Worker: imports main/lab and the rooms main/lab
//                     stands on (WORKER_MAY_IMPORT), no packages and no node:* builtins.
//
// Paths are taken relative to ESLint's cwd, which is the repository root.
import path from 'node:path';

const RAFT = 'main/raft';
const ELECTRON_ALLOWED = ['main/app', 'preload'];
const SHELL = ['main/app', 'preload'];
const RENDERER = 'renderer';
const RENDERER_MAY_IMPORT_FROM_MAIN = ['main/contract', 'main/view'];
const VIEW = 'main/view';
const LAB = 'main/lab';
const WORKER = 'lab-worker';
const WORKER_MAY_IMPORT = ['main/lab', 'main/contract', 'main/view', 'main/raft'];
/**
 * LAB_HELPERS: the modules of main/node the lab shares with the real node so that it models the
 * node's own rules rather than a copy of them: the storage's entry checks, its WAL replay rules
 * (and the pure format and checksum code they read), and the read tags. They import nothing but
 * main/raft and each other, no packages and no node:* builtins.
 */
export const LAB_HELPERS = [
  'main/node/storage/storage.ts',
  'main/node/storage/wal-replay.ts',
  'main/node/storage/wal-format.ts',
  'main/node/storage/crc32c.ts',
  'main/node/read-tags.ts',
];
/**
 * LAB_CLUSTER_HELPERS: the pure modules of main/cluster the lab's dashboard (lab-dashboard.ts)
 * shares with the real one, so a lab cluster is checked, recorded, inspected and narrated by the
 * same code: the linearizability checker and its history model, the log inspector's merge (it
 * imports only types of main/node), the in-memory recording (recording.ts is read for its types
 * and its pure search helpers; its recordPushes, which sets timers, is not used by the lab) and
 * the scenario control, and the narration of a node's events. None imports node:* builtins,
 * Buffer or packages.
 */
export const LAB_CLUSTER_HELPERS = [
  'main/cluster/checker/porcupine.ts',
  'main/cluster/checker/history.ts',
  'main/cluster/log-inspection.ts',
  'main/cluster/recording/memory-recording.ts',
  'main/cluster/recording/recording.ts',
  'main/cluster/scenarios/control.ts',
  'main/cluster/narration.ts',
];
const CORE_CLASS = 'main/raft/raft';
const CORE_CLASS_READERS = ['test/raft/helpers.ts', 'test/raft/handlers.test.ts'];

/**
 * ROOMS: for each room of main, the other rooms (or single modules) its files may import. The
 * Electron shell sees only the contract and the one place that opens a backend; the contract and
 * the view projection stand on the core's types alone; the cluster and web rooms sit on top.
 */
const ROOMS = {
  'main/contract': ['main/raft'],
  'main/view': ['main/contract', 'main/raft'],
  'main/lab': [
    'main/raft',
    'main/contract',
    'main/view',
    ...LAB_HELPERS,
    ...LAB_HELPERS.map(withoutTs),
    ...LAB_CLUSTER_HELPERS,
    ...LAB_CLUSTER_HELPERS.map(withoutTs),
  ],
  'main/node': ['main/raft'],
  'main/cluster': ['main/contract', 'main/view', 'main/node', 'main/raft'],
  'main/web': ['main/contract', 'main/view', 'main/cluster', 'main/node', 'main/raft', 'main/lab'],
  'main/cli': [
    'main/contract',
    'main/view',
    'main/cluster',
    'main/node',
    'main/raft',
    'main/web',
    'main/lab',
  ],
  'main/app': ['main/contract', 'main/web/backends.ts', 'main/web/backends'],
};

/** withoutTs: a module path as an import spells it, without its .ts extension. */
function withoutTs(p) {
  return p.replace(/\.ts$/, '');
}

/** roomOf: the room of main a repo-relative path is in, if any. */
function roomOf(p) {
  return Object.keys(ROOMS).find((room) => isUnder(p, room));
}

/** isUnder reports whether the posix path p is dir itself or inside it. */
function isUnder(p, dir) {
  return p === dir || p.startsWith(`${dir}/`);
}

function isRelative(spec) {
  return spec === '.' || spec === '..' || spec.startsWith('./') || spec.startsWith('../');
}

function isElectron(spec) {
  return spec === 'electron' || spec.startsWith('electron/');
}

/** check returns a message id and data when importing spec from file (both repo-relative). */
function check(file, spec) {
  const query = spec.indexOf('?');
  const bare = query === -1 ? spec : spec.slice(0, query);
  const asWorker = query !== -1 && /^\?worker(&|$)/.test(spec.slice(query));
  const resolved = isRelative(bare)
    ? path.posix.normalize(path.posix.join(path.posix.dirname(file), bare))
    : null;

  if (isUnder(file, WORKER)) {
    if (resolved === null) return { messageId: 'workerExternal', data: { spec } };
    if (!isUnder(resolved, WORKER) && !WORKER_MAY_IMPORT.some((dir) => isUnder(resolved, dir))) {
      return { messageId: 'workerRoom', data: { spec, resolved } };
    }
    return null;
  }
  if (resolved !== null && isUnder(resolved, WORKER) && !(isUnder(file, RENDERER) && asWorker)) {
    return { messageId: 'workerModule', data: { spec } };
  }

  if (isUnder(file, RAFT)) {
    if (resolved === null) return { messageId: 'raftExternal', data: { spec } };
    if (!isUnder(resolved, RAFT)) return { messageId: 'raftEscape', data: { spec, resolved } };
    return null;
  }

  if (
    resolved !== null &&
    (resolved === CORE_CLASS || resolved === `${CORE_CLASS}.ts`) &&
    !isUnder(file, RAFT) &&
    !CORE_CLASS_READERS.includes(file)
  ) {
    return { messageId: 'coreClass', data: { spec } };
  }

  if (isUnder(file, VIEW)) {
    if (resolved === null) return { messageId: 'viewExternal', data: { spec } };
  }

  if (isUnder(file, LAB) || LAB_HELPERS.includes(file)) {
    if (resolved === null) return { messageId: 'labExternal', data: { spec } };
  }
  if (
    LAB_HELPERS.includes(file) &&
    !isUnder(resolved, RAFT) &&
    !LAB_HELPERS.includes(resolved) &&
    !LAB_HELPERS.includes(`${resolved}.ts`)
  ) {
    return { messageId: 'labHelper', data: { spec, resolved } };
  }

  if (isElectron(spec) && !ELECTRON_ALLOWED.some((dir) => isUnder(file, dir))) {
    return { messageId: 'electron', data: { spec } };
  }

  if (resolved !== null) {
    for (const dir of SHELL) {
      if (isUnder(resolved, dir) && !isUnder(file, dir)) {
        return { messageId: 'shell', data: { spec, dir } };
      }
    }
    const from = roomOf(file);
    const to = roomOf(resolved);
    if (from && to && from !== to && !ROOMS[from].some((ok) => isUnder(resolved, ok))) {
      return { messageId: 'room', data: { spec, from, to } };
    }
    if (
      isUnder(file, RENDERER) &&
      isUnder(resolved, 'main') &&
      !RENDERER_MAY_IMPORT_FROM_MAIN.some((dir) => isUnder(resolved, dir))
    ) {
      return { messageId: 'renderer', data: { spec } };
    }
  }
  return null;
}

/** @type {import('eslint').Rule.RuleModule} */
const layering = {
  meta: {
    type: 'problem',
    docs: {
      description: 'Enforce the layering of main/raft, main/app, preload and renderer',
    },
    schema: [],
    messages: {
      raftExternal:
        "main/raft imports nothing outside itself: '{{spec}}' is a package or builtin. Inject it from the host instead.",
      raftEscape: "main/raft imports nothing outside itself: '{{spec}}' resolves to {{resolved}}.",
      coreClass:
        "'{{spec}}' is the core's private class: drive the core through RawNode (main/raft/raw-node.ts).",
      viewExternal:
        "main/view is pure: '{{spec}}' is a package or builtin; it may read main/contract and main/raft only.",
      labExternal:
        "main/lab is pure: '{{spec}}' is a package or builtin; it may read main/raft, main/contract and the helpers in LAB_HELPERS only.",
      labHelper:
        "'{{spec}}' ({{resolved}}) is not pure enough for a module main/lab reads: LAB_HELPERS import only main/raft and each other.",
      workerExternal:
        "lab-worker runs in a browser's Web Worker: '{{spec}}' is a package or builtin; it may import main/lab and what main/lab stands on.",
      workerRoom:
        "lab-worker may import main/lab, main/contract, main/view and main/raft only: '{{spec}}' resolves to {{resolved}}.",
      workerModule:
        "'{{spec}}' is a module of the lab worker: only the renderer may load it, and only as a worker ('…?worker&inline').",
      room: "{{from}} may not import from {{to}} ('{{spec}}'): see ROOMS in eslint-rules/layering.js.",
      electron: "Only main/app and preload may import '{{spec}}'.",
      shell: "'{{spec}}' reaches into {{dir}}, which nothing outside it may import.",
      renderer:
        "The renderer may not import from main/ ('{{spec}}'); use the shared contract, the view projection or the bridge.",
    },
  },
  create(context) {
    const rel = path.relative(context.cwd, context.filename);
    if (rel.startsWith('..') || path.isAbsolute(rel)) return {};
    const file = rel.split(path.sep).join('/');

    function visit(node) {
      if (!node || node.type !== 'Literal' || typeof node.value !== 'string') return;
      const problem = check(file, node.value);
      if (problem) context.report({ node, ...problem });
    }

    return {
      ImportDeclaration: (node) => visit(node.source),
      ExportNamedDeclaration: (node) => visit(node.source),
      ExportAllDeclaration: (node) => visit(node.source),
      ImportExpression: (node) => visit(node.source),
      TSImportEqualsDeclaration: (node) => {
        if (node.moduleReference.type === 'TSExternalModuleReference') {
          visit(node.moduleReference.expression);
        }
      },
      TSImportType: (node) => {
        // typescript-eslint 8 names the specifier `source`; older versions `argument.literal`.
        if (node.source) visit(node.source);
        else if (node.argument?.type === 'TSLiteralType') visit(node.argument.literal);
      },
      CallExpression: (node) => {
        if (
          node.callee.type === 'Identifier' &&
          node.callee.name === 'require' &&
          node.arguments.length > 0
        ) {
          visit(node.arguments[0]);
        }
      },
    };
  },
};

export default {
  meta: { name: 'raftdeck' },
  rules: { layering },
};
