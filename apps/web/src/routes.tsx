import { lazy } from 'react';
import { createBrowserRouter } from 'react-router';

import { AppShell } from './components/app-shell.tsx';
import { NotFoundPage } from './pages/not-found-page.tsx';

// Each page is its own chunk: the first paint only needs the shell and the page it lands on.
const OverviewPage = lazy(() => import('./pages/overview/overview-page.tsx'));
const WorkloadPage = lazy(() => import('./pages/workload/workload-page.tsx'));
const LogsPage = lazy(() => import('./pages/logs/logs-page.tsx'));
const FilesPage = lazy(() => import('./pages/files/files-page.tsx'));
const MigrationsPage = lazy(() => import('./pages/migrations/migrations-page.tsx'));
const EnsemblePage = lazy(() => import('./pages/ensemble/ensemble-page.tsx'));
const ZnodesPage = lazy(() => import('./pages/znodes/znodes-page.tsx'));

/** Routes under /ui/ (the server's SPA mount): /, /workload, /logs, /files?node=zk1, /migrations, /ensemble, /znodes?path=/app. */
export const router = createBrowserRouter(
  [
    {
      element: <AppShell />,
      children: [
        { index: true, element: <OverviewPage /> },
        { path: 'workload', element: <WorkloadPage /> },
        { path: 'logs', element: <LogsPage /> },
        { path: 'files', element: <FilesPage /> },
        { path: 'migrations', element: <MigrationsPage /> },
        { path: 'ensemble', element: <EnsemblePage /> },
        { path: 'znodes', element: <ZnodesPage /> },
        { path: '*', element: <NotFoundPage /> },
      ],
    },
  ],
  { basename: '/ui' },
);
