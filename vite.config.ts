import { defineConfig } from 'vite';
import path from 'node:path';

// The renderer is a plain React SPA; the same build is served by `boxwood serve`
// and loaded by Electron through its app:// protocol.
export default defineConfig({
  root: path.resolve(import.meta.dirname, 'renderer'),
  publicDir: path.resolve(import.meta.dirname, 'resources/public'),
  base: './',
  build: {
    outDir: path.resolve(import.meta.dirname, 'dist/renderer'),
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
  },
});
