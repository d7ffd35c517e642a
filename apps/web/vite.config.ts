import react from '@vitejs/plugin-react';
import { defineConfig, type ProxyOptions } from 'vite';

/** Charting code and its helpers: only the workload page draws charts, so they stay out of the first load. */
const CHART_MODULES =
  /node_modules[\\/](recharts|victory-vendor|d3-[a-z-]+|internmap|@reduxjs|react-redux|redux|redux-thunk|immer|reselect|decimal\.js-light|es-toolkit|eventemitter3|tiny-invariant)[\\/]/;
/** What both the shell and the charts use: captured first, so the chart group cannot pull it into its chunk. */
const REACT_MODULES = /node_modules[\\/](react|react-dom|scheduler|use-sync-external-store|clsx)[\\/]/;

const API_URL = process.env.ZKHA_API_URL ?? 'http://127.0.0.1:8080';

/**
 * The server refuses changes whose Origin is not its own (CSRF): requests from this dev page are re-addressed as
 * the server's origin, and only those, so a foreign page still cannot act through the dev server.
 */
const apiProxy: ProxyOptions = {
  target: API_URL,
  changeOrigin: true,
  configure: (proxy) =>
    proxy.on('proxyReq', (proxyReq, req) => {
      if (req.headers.origin === `http://${req.headers.host}`) proxyReq.setHeader('origin', new URL(API_URL).origin);
    }),
};

export default defineConfig({
  base: '/ui/',
  plugins: [react()],
  server: {
    // `npm run dev` next to `npm start`: the API stays on the server.
    proxy: {
      '/trpc': apiProxy,
      '/api': apiProxy,
      '/healthz': { target: API_URL, changeOrigin: true },
    },
  },
  build: {
    target: 'es2022',
    // The server's CSP allows no inline script: keep Vite from ever adding its inline preload polyfill.
    modulePreload: { polyfill: false },
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
