import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import vue from '@vitejs/plugin-vue';

const root = import.meta.dirname;

// Build layout (all under out/):
//   out/main/index.js      Electron main process (main/app)
//   out/main/node.js       one Raft node process (main/node); runs under plain `node`
//                          or under Electron with ELECTRON_RUN_AS_NODE=1, never imports electron
//   out/preload/index.cjs  sandboxed preload; sandboxed preloads cannot be ES modules
//   out/renderer/          the Vue dashboard
export default defineConfig({
  main: {
    build: {
      outDir: resolve(root, 'out/main'),
      rolldownOptions: {
        input: {
          index: resolve(root, 'main/app/index.ts'),
          node: resolve(root, 'main/node/index.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: resolve(root, 'out/preload'),
      rolldownOptions: {
        input: {
          index: resolve(root, 'preload/index.ts'),
        },
        output: {
          format: 'cjs',
          entryFileNames: '[name].cjs',
        },
      },
    },
  },
  renderer: {
    root: resolve(root, 'renderer'),
    build: {
      outDir: resolve(root, 'out/renderer'),
      // Minified: the dashboard loads faster in a browser tab and the app; source maps stay off.
      minify: true,
      rolldownOptions: {
        input: {
          index: resolve(root, 'renderer/index.html'),
        },
      },
    },
    plugins: [vue()],
  },
});
