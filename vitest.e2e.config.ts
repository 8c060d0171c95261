import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vitest/config';

// End-to-end tests: the built dashboard in Chromium against real node processes.
export default defineConfig({
  plugins: [vue()],
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
