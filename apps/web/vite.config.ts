import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run build` writes apps/web/dist, which the gateway serves at `/`. For `npm run dev -w
// @saga/app-web` the dev server forwards the API to a running gateway (GATEWAY_URL, default :3000).
const gateway = process.env.GATEWAY_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 600 },
  server: { proxy: { '/api': { target: gateway, changeOrigin: true } } },
});
