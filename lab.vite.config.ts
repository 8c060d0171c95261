import { resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import vue from '@vitejs/plugin-vue';

const root = import.meta.dirname;

/**
 * inlineEverything: makes the built page one self-contained file. Chromium refuses to load module
 * scripts and workers from other files of a page opened from disk (file:// has no origin), so the
 * script and the stylesheet are written into the HTML, and the lab's worker is already inlined
 * into the script (`?worker&inline`). The emitted script and stylesheet files are then dropped.
 */
function inlineEverything(): Plugin {
  return {
    name: 'raftdeck:inline-everything',
    enforce: 'post',
    generateBundle(_options, bundle) {
      const html = Object.values(bundle).find(
        (f) => f.type === 'asset' && f.fileName.endsWith('.html'),
      );
      if (!html || html.type !== 'asset') throw new Error('build:lab: no HTML page was built');
      let page = String(html.source);
      for (const [name, file] of Object.entries(bundle)) {
        if (file.type === 'chunk' && file.isEntry) {
          const tag = new RegExp(
            `<script type="module" crossorigin src="[^"]*${escape(name)}"></script>`,
          );
          if (!tag.test(page)) throw new Error(`build:lab: the page does not load ${name}`);
          const code = file.code.replace(/<\/script/gi, '<\\/script');
          page = page.replace(tag, () => `<script type="module">${code}</script>`);
          delete bundle[name];
        } else if (file.type === 'asset' && name.endsWith('.css')) {
          const tag = new RegExp(`<link rel="stylesheet" crossorigin href="[^"]*${escape(name)}">`);
          if (!tag.test(page)) throw new Error(`build:lab: the page does not load ${name}`);
          const css = String(file.source).replace(/<\/style/gi, '<\\/style');
          page = page.replace(tag, () => `<style>${css}</style>`);
          delete bundle[name];
        }
      }
      const left = Object.keys(bundle).filter((n) => n !== html.fileName);
      if (left.length > 0)
        throw new Error(`build:lab: files left beside the page: ${left.join(', ')}`);
      html.source = page;
      html.fileName = 'index.html';
    },
  };
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// The static lab build (npm run build:lab): out/lab/index.html, one file holding the dashboard and
// the lab cluster (the production Raft core on a simulated network) in a Web Worker. It needs no
// server: open it from disk or host the folder anywhere.
export default defineConfig({
  root: resolve(root, 'renderer'),
  base: './',
  plugins: [vue(), inlineEverything()],
  // A classic worker: Chromium refuses a module worker from a blob: URL on a page opened from disk.
  worker: { format: 'iife' },
  build: {
    outDir: resolve(root, 'out/lab'),
    emptyOutDir: true,
    minify: true,
    assetsInlineLimit: Number.MAX_SAFE_INTEGER,
    cssCodeSplit: false,
    rolldownOptions: {
      input: { lab: resolve(root, 'renderer/lab.html') },
      output: { codeSplitting: false },
    },
  },
});
