import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'
import VueI18nPlugin from '@intlify/unplugin-vue-i18n/vite'

const src = (path: string): string => fileURLToPath(new URL(path, import.meta.url))

// The output is embedded in the Rust binary and served under a strict Content-Security-Policy
// (`script-src 'self'; style-src 'self'`, no 'unsafe-eval', no 'unsafe-inline'). Everything below
// keeps the build compatible with it:
// - locale messages are precompiled to message functions at build time and vue-i18n's runtime-only
//   build is used, so no message compiler (and no `new Function`) ships to the browser;
// - CSS is extracted to files (never injected as <style> elements);
// - the module-preload polyfill is off: all supported browsers have modulepreload natively.
export default defineConfig({
  base: '/',
  plugins: [
    vue(),
    // Unit tests read the message files as plain objects (to compare key sets and texts), so the
    // precompiler is only used for dev and build.
    process.env.VITEST === undefined &&
      VueI18nPlugin({
        include: [
          src('./src/i18n/zh-CN.ts'),
          src('./src/i18n/en.ts'),
          src('./src/i18n/settings2/*.ts'),
          src('./src/i18n/workspace/*.ts'),
          src('./src/i18n/wechat/*.ts'),
        ],
        runtimeOnly: true,
        compositionOnly: true,
        fullInstall: false,
        strictMessage: true,
        escapeHtml: true,
      }),
  ],
  resolve: {
    alias: { '@': src('./src') },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    cssCodeSplit: true,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 900,
    rollupOptions: {
      input: {
        index: src('./index.html'),
        'api-docs': src('./api-docs.html'),
        widget: src('./widget.html'),
      },
      output: {
        // Code shared by both pages (Vue, the Element Plus parts both use, vue-i18n) lands in
        // automatically split chunks; give them a neutral name instead of a module's name.
        chunkFileNames: 'assets/shared-[hash].js',
        assetFileNames: (info) =>
          info.names.some((n) => n.endsWith('.css')) && !info.names.some((n) => /^(index|api-docs)/.test(n))
            ? 'assets/shared-[hash][extname]'
            : 'assets/[name]-[hash][extname]',
      },
    },
  },
  server: {
    host: '127.0.0.1',
    // `npm run dev` against a running `atrium serve` (ATRIUM_DEV_API, default port 18080); the
    // agent WebSocket goes through the same proxy.
    proxy: {
      '/api': { target: process.env.ATRIUM_DEV_API ?? 'http://127.0.0.1:18080', ws: true },
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
})
