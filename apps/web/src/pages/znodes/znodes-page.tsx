import { Grid, Paper, ScrollArea, Stack, Text, Title } from '@mantine/core';
import { useCallback, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router';

import { FourLetterPanel } from '../../features/znodes/components/four-letter-panel.tsx';
import { ZnodePanel } from '../../features/znodes/components/znode-panel.tsx';
import { ZnodeFind } from '../../features/znodes/components/znode-find.tsx';
import { ZnodeTree } from '../../features/znodes/components/znode-tree.tsx';
import { useZnodeWatch } from '../../features/znodes/hooks.ts';

/** The znode explorer: the ensemble's tree on the left, the selected node on the right (?path= keeps it in the URL). */
export default function ZnodesPage() {
  const [params, setParams] = useSearchParams();
  const path = params.get('path') ?? '/';
  const select = (p: string) => setParams({ path: p });
  // The open tree levels, which the watch subscription follows along with the open node.
  const [levels, setLevels] = useState<ReadonlySet<string>>(new Set());
  const onLevel = useCallback((p: string, open: boolean) => {
    setLevels((prev) => {
      if (prev.has(p) === open) return prev;
      const next = new Set(prev);
      if (open) next.add(p);
      else next.delete(p);
      return next;
    });
  }, []);
  const expanded = useMemo(() => [...levels].sort(), [levels]);
  useZnodeWatch(path, expanded);
  return (
    <Stack gap="md">
      <Title order={2}>Znodes</Title>
      <Text c="dimmed" size="sm">
        Every znode of the ensemble. Writes are made at the version you read: if someone changed the node meanwhile, nothing is overwritten.
        zkha&apos;s own /zkha and ZooKeeper&apos;s /zookeeper need a confirmation.
      </Text>
      <Grid>
        <Grid.Col span={{ base: 12, md: 4 }}>
          <Stack gap="md">
            <Paper withBorder p="sm">
              <ScrollArea.Autosize mah={640}>
                <ZnodeFind onSelect={select}>
                  <ZnodeTree selected={path} onSelect={select} onLevel={onLevel} />
                </ZnodeFind>
              </ScrollArea.Autosize>
            </Paper>
            <FourLetterPanel />
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 8 }}>
          <ZnodePanel path={path} onSelect={select} />
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
