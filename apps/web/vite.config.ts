import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** Charting code and its helpers: only the workload page draws charts, so they stay out of the first load. */
const CHART_MODULES = /node_modules[\\/](recharts|victory-vendor|d3-[a-z-]+|internmap|@reduxjs|react-redux|redux|redux-thunk|immer|reselect|decimal\.js-light|es-toolkit|eventemitter3|tiny-invariant)[\\/]/;
/** What both the shell and the charts use: captured first, so the chart group cannot pull it into its chunk. */
const REACT_MODULES = /node_modules[\\/](react|react-dom|scheduler|use-sync-external-store|clsx)[\\/]/;

export default defineConfig({
  base: '/ui/',
  plugins: [react()],
  server: {
    // `npm run dev` next to `npm start`: the API stays on the server.
    proxy: {
      '/trpc': { target: process.env.ZKHA_API_URL ?? 'http://127.0.0.1:8080', changeOrigin: true },
      '/api': { target: process.env.ZKHA_API_URL ?? 'http://127.0.0.1:8080', changeOrigin: true },
      '/healthz': { target: process.env.ZKHA_API_URL ?? 'http://127.0.0.1:8080', changeOrigin: true },
    },
  },
  build: {
    target: 'es2022',
    sourcemap: true,
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            { name: 'react', test: REACT_MODULES, priority: 2 },
            { name: 'recharts', test: CHART_MODULES, priority: 1 },
          ],
        },
      },
    },
  },
});
