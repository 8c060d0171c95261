import { defineConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';

// One run for everything. Tests run in Node; the renderer's tests (test/renderer) ask for a DOM
// with a `// @vitest-environment happy-dom` comment at the top of each file. The Vue plugin
// compiles the single-file components they mount.
export default defineConfig({
  plugins: [vue()],
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
  },
});
