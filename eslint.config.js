import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import vue from 'eslint-plugin-vue';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import raftdeck, { LAB_HELPERS } from './eslint-rules/layering.js';

// Everything main/raft must not touch: time, randomness, the process and the host. Time advances
// only through tick(); randomness comes from an injected seeded rng.
const RAFT_FORBIDDEN_GLOBALS = [
  'setTimeout',
  'setInterval',
  'setImmediate',
  'clearTimeout',
  'clearInterval',
  'clearImmediate',
  'queueMicrotask',
  'Date',
  'performance',
  'process',
  'require',
  'globalThis',
].map((name) => ({
  name,
  message: `main/raft, main/view and main/lab are pure: no ${name}. Time comes from tick() or the caller, randomness from an injected rng.`,
}));

export default defineConfig(
  globalIgnores([
    'out/',
    'dist/',
    'node_modules/',
    'test-results/',
    'coverage/',
    '.raftdeck-data/',
  ]),

  js.configs.recommended,
  tseslint.configs.recommended,
  vue.configs['flat/recommended'],

  {
    files: ['**/*.vue'],
    languageOptions: {
      parserOptions: {
        parser: tseslint.parser,
        extraFileExtensions: ['.vue'],
        sourceType: 'module',
      },
    },
  },

  {
    files: ['**/*.{js,mjs,cjs}', 'main/**', 'test/**', '*.config.ts'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['renderer/**'],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ['lab-worker/**'],
    languageOptions: { globals: globals.worker },
  },
  {
    files: ['preload/**'],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
  },

  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },

  // The layering rule, everywhere.
  {
    files: ['**/*.{ts,mts,cts,tsx,js,mjs,cjs,vue}'],
    plugins: { raftdeck },
    rules: { 'raftdeck/layering': 'error' },
  },

  // main/raft, the view projection and the lab (with the helpers of main/node it reads, see
  // LAB_HELPERS in eslint-rules/layering.js) are deterministic and do no I/O.
  {
    files: ['main/raft/**', 'main/view/**', 'main/lab/**', ...LAB_HELPERS],
    rules: {
      'no-restricted-globals': ['error', ...RAFT_FORBIDDEN_GLOBALS],
      'no-restricted-properties': [
        'error',
        {
          object: 'Math',
          property: 'random',
          message:
            'main/raft, main/view and main/lab are pure: randomness comes from an injected seeded rng.',
        },
      ],
    },
  },

  prettier,
);
