// Build, dev server and unit tests of the browser client.
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

const proto = fileURLToPath(new URL("../proto/ts", import.meta.url));

// `npm run dev` serves the client with hot reload and forwards the API (and the
// WebSocket) to a running `makefx dev`; MAKEFX_API_URL says where it listens.
const api = process.env.MAKEFX_API_URL ?? "http://127.0.0.1:8000";
const proxy = { "/api": { target: api, changeOrigin: false, ws: true } };

export default defineConfig({
  plugins: [react()],
  resolve: { alias: { "@proto": proto } },
  server: { proxy, fs: { allow: [".", proto] } },
  preview: { proxy },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true },
  test: {
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
    environment: "node",
  },
});
