// Builds the console into console/dist, which the gateway serves; in dev it proxies the API to a running gateway.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist', emptyOutDir: true, sourcemap: true, target: 'es2022', chunkSizeWarningLimit: 1200,
    // Two pages: the console, and the display page a wall's screens run in kiosk mode.
    rollupOptions: { input: { main: `${root}/index.html`, wall: `${root}/wall.html` } },
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080', '/media': 'http://127.0.0.1:8080' },
  },
});
