// Builds the dashboard into dist/web/dashboard, served by the service at /dashboard/.
// Dev: LEDGER_API_URL=http://localhost:4000 npx vite --config examples/dashboard/vite.config.ts
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));
const apiUrl = process.env.LEDGER_API_URL ?? "http://localhost:4000";

export default defineConfig({
  root,
  base: "/dashboard/",
  // No @vitejs/plugin-react: esbuild's automatic JSX runtime is enough (no fast refresh).
  esbuild: { jsx: "automatic" },
  build: {
    outDir: fileURLToPath(new URL("../../dist/web/dashboard", import.meta.url)),
    emptyOutDir: true,
  },
  server: {
    proxy: { "/graphql": { target: apiUrl, ws: true } },
  },
  preview: {
    proxy: { "/graphql": { target: apiUrl, ws: true } },
  },
});
