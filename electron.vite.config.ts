import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';

const root = import.meta.dirname;

/**
 * The dev server injects inline scripts (React Fast Refresh preamble), inline styles (CSS
 * HMR) and a websocket (HMR) that the shipped CSP forbids. Relax the CSP for `serve` only;
 * the build keeps renderer/index.html's policy untouched.
 */
function devCsp(): Plugin {
  return {
    name: 'hpc-relay:dev-csp',
    apply: 'serve',
    transformIndexHtml(html) {
      return html
        .replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
        .replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
        .replace("connect-src 'self'", "connect-src 'self' ws://localhost:* ws://127.0.0.1:*");
    },
  };
}

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: { input: { index: resolve(root, 'main/index.ts') } },
      // Dependencies stay in node_modules (electron-builder ships them); the native ones must
      // never be bundled. cpu-features is ssh2's optional native part, not a direct dependency.
      externalizeDeps: { include: ['keytar', 'better-sqlite3', 'ssh2', 'cpu-features'] },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // A sandboxed preload can require only `electron` and a few built-ins, so everything it
      // imports (zod, via the contract) is bundled in, and it must be CommonJS: `.cjs`,
      // because package.json says "type": "module".
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve(root, 'preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs', inlineDynamicImports: true },
        onwarn(warning, warn) {
          // zod's sources carry comments next to @__PURE__ that Rollup drops with a warning: noise.
          if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('/node_modules/zod/')) return;
          warn(warning);
        },
      },
    },
  },
  renderer: {
    root: resolve(root, 'renderer'),
    plugins: [react(), devCsp()],
    build: {
      outDir: resolve(root, 'out/renderer'),
      rollupOptions: { input: { index: resolve(root, 'renderer/index.html') } },
    },
  },
});
