// Vite builds the browser app into web/dist (served by the API at /) and serves it on 5173 in development,
// proxying the API and its WebSocket to the API on 3000. Vitest reads the `test` section.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

const webRoot = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(webRoot, '..');

/**
 * Writes the repository files the bundle was made from into the build (.build-sources.json, which the API
 * does not serve: dotfiles are ignored), so scripts/web-build.mjs rebuilds when a core module the app
 * imports changes, and not for one only the worker uses.
 */
function buildSources(): Plugin {
  return {
    name: 'tessera-build-sources',
    apply: 'build',
    generateBundle(_options, bundle) {
      const files = new Set<string>();
      for (const output of Object.values(bundle)) {
        if (output.type !== 'chunk') continue;
        for (const id of output.moduleIds) {
          const file = id.split('?')[0] ?? '';
          const relative = path.relative(repoRoot, file);
          // Dependencies are covered by package-lock.json; virtual modules have no file.
          if (!path.isAbsolute(file) || relative.startsWith('..') || relative.startsWith('node_modules')) continue;
          files.add(relative.split(path.sep).join('/'));
        }
      }
      this.emitFile({ type: 'asset', fileName: '.build-sources.json', source: `${JSON.stringify([...files].sort(), null, 1)}\n` });
    },
  };
}
const apiTarget = process.env.TESSERA_API_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root: webRoot,
  plugins: [vue(), buildSources()],
  resolve: {
    alias: {
      // core/template.ts imports handlebars, whose Node entry requires `fs`; the browser build has no such
      // import. The web app only calls Handlebars.parse (no code generation, so the CSP holds).
      handlebars: path.resolve(webRoot, '../node_modules/handlebars/dist/cjs/handlebars.js'),
    },
  },
  build: {
    outDir: path.resolve(webRoot, 'dist'),
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      '/api/v1/ws': { target: apiTarget, ws: true, changeOrigin: true },
      '/api': { target: apiTarget, changeOrigin: true },
    },
  },
  test: {
    root: webRoot,
    environment: 'happy-dom',
    include: ['src/**/*.spec.ts'],
    // Vitest's 5 s default is short for a component mount on a busy machine; a hung test still fails.
    testTimeout: 30_000,
  },
});
