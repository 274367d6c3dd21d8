// Vite builds the browser app into web/dist (served by the API at /) and serves it on 5173 in development,
// proxying the API and its WebSocket to the API on 3000. Vitest reads the `test` section.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vitest/config';

const webRoot = path.dirname(fileURLToPath(import.meta.url));
const apiTarget = process.env.TESSERA_API_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root: webRoot,
  plugins: [vue()],
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
  },
});
