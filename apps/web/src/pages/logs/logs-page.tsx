import { Stack, Tabs, Title } from '@mantine/core';
import { useSearchParams } from 'react-router';

import { LogSearchPanel } from '../../features/logs/components/log-search-panel.tsx';
import { OperationsAudit } from '../../features/logs/components/operations-audit.tsx';

/** Logs: the operations audit trail and the server's and ZooKeeper nodes' own logs, each with a live tail. */
export default function LogsPage() {
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') === 'server' ? 'server' : 'operations';
  return (
    <Stack gap="md">
      <Title order={2}>Logs</Title>
      <Tabs value={tab} onChange={(v) => setParams(v === 'server' ? { tab: 'server' } : {}, { replace: true })} keepMounted={false}>
        <Tabs.List mb="md">
          <Tabs.Tab value="operations">Operations audit</Tabs.Tab>
          <Tabs.Tab value="server">Server &amp; ZooKeeper logs</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="operations">
          <OperationsAudit />
        </Tabs.Panel>
        <Tabs.Panel value="server">
          <LogSearchPanel />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
