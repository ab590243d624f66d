import { fileURLToPath } from 'node:url';
import { defineConfig, type ProxyOptions } from 'vite';

// The ledger service the dev server and `vite preview` forward /graphql (HTTP and WebSocket) to.
const serviceUrl = process.env.LEDGER_SERVICE_URL ?? 'http://localhost:4000';
const apiProxy: Record<string, ProxyOptions> = {
  '/graphql': { target: serviceUrl, ws: true, changeOrigin: true },
};

export default defineConfig(({ command }) => ({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // The service serves this build at /graphiql/.
  base: '/graphiql/',
  publicDir: false,
  // A build started from a test run inherits NODE_ENV=test, which would bundle the development
  // builds of React and others and compile JSX to jsxDEV (undefined in production React): a
  // build is always production, whatever NODE_ENV says.
  define: command === 'build' ? { 'process.env.NODE_ENV': JSON.stringify('production') } : {},
  resolve: command === 'build' ? { conditions: ['module', 'browser', 'production'] } : {},
  // No @vitejs/plugin-react: esbuild's automatic JSX runtime is all a production build needs.
  esbuild: { jsx: 'automatic', jsxDev: command !== 'build' },
  build: {
    outDir: fileURLToPath(new URL('../dist/web/graphiql', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // Monaco and GraphiQL are one big chunk by nature; the warning would only be noise.
    chunkSizeWarningLimit: 6000,
    rollupOptions: {
      onwarn(warning, warn) {
        // framer-motion's "use client" directives mean nothing outside React Server Components.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
  // Monaco's workers (editor, JSON, GraphQL) import ES modules.
  worker: { format: 'es' },
  server: { proxy: apiProxy },
  preview: { proxy: apiProxy },
}));
