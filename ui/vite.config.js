// Builds ui/src into ../web, the static root xenithd serves. The output is
// plain files: an index.html that loads one module script and one
// stylesheet (the CSP forbids inline script and style).
import { defineConfig } from 'vite';

export default defineConfig({
    root: 'src',
    base: '/',
    esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
    build: {
        outDir: '../../web',
        emptyOutDir: true,
        // es2022: noVNC uses top-level await.
        target: 'es2022',
        modulePreload: { polyfill: false },
        reportCompressedSize: false,
        chunkSizeWarningLimit: 600,
    },
});
