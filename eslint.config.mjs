// Lint configuration: @eslint/js and typescript-eslint recommended rules for the TypeScript folders,
// @eslint/js alone for the plain Node scripts (.mjs/.js).
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

const typescriptFolders = ['core', 'db', 'migrations', 'workflows', 'activities', 'worker', 'server', 'scripts', 'test', 'bench', 'web'];

// The Node globals the plain scripts use (the `globals` package is not a dependency).
const nodeGlobals = Object.fromEntries(
  [
    'process', 'console', 'Buffer', 'URL', 'URLSearchParams', 'fetch', 'AbortController', 'AbortSignal',
    'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'queueMicrotask', 'structuredClone',
  ].map((name) => [name, 'readonly']),
);
const commonJsGlobals = { require: 'readonly', module: 'writable', exports: 'writable', __dirname: 'readonly', __filename: 'readonly' };

export default defineConfig(
  globalIgnores(['node_modules/', 'dist/', 'coverage/', 'web/dist/', 'test-artifacts/', '.data/']),
  {
    files: ['**/*.{js,mjs,cjs}'],
    extends: [js.configs.recommended],
    languageOptions: { globals: nodeGlobals },
  },
  {
    files: ['**/*.{js,cjs}'],
    ignores: ['web/**'],
    languageOptions: { sourceType: 'commonjs', globals: { ...nodeGlobals, ...commonJsGlobals } },
  },
  {
    files: typescriptFolders.map((folder) => `${folder}/**/*.{ts,mts,cts,tsx}`),
    extends: [js.configs.recommended, tseslint.configs.recommended],
  },
  {
    // Tests read the JSON bodies of HTTP and WebSocket answers loosely and assert on the fields they care
    // about: that boundary is the one place where `any` is the honest type.
    files: ['test/**/*.ts', '**/*.test.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
