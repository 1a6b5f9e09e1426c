import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'

// `widget.js`, the loader host sites embed: one classic script at a fixed URL (no hash, no
// module, no imports), added to the main build's output.
export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    target: 'es2019',
    lib: {
      entry: fileURLToPath(new URL('./src/widget/loader.ts', import.meta.url)),
      formats: ['iife'],
      name: 'AtriumWidgetLoader',
      fileName: () => 'widget.js',
    },
  },
})
