import { Grid, Paper, ScrollArea, Stack, Text, Title } from '@mantine/core';
import { useSearchParams } from 'react-router';

import { FourLetterPanel } from '../../features/znodes/components/four-letter-panel.tsx';
import { ZnodePanel } from '../../features/znodes/components/znode-panel.tsx';
import { ZnodeTree } from '../../features/znodes/components/znode-tree.tsx';

/** The znode explorer: the ensemble's tree on the left, the selected node on the right (?path= keeps it in the URL). */
export default function ZnodesPage() {
  const [params, setParams] = useSearchParams();
  const path = params.get('path') ?? '/';
  const select = (p: string) => setParams({ path: p });
  return (
    <Stack gap="md">
      <Title order={2}>Znodes</Title>
      <Text c="dimmed" size="sm">
        Every znode of the ensemble. Writes are made at the version you read: if someone changed the node meanwhile, nothing is overwritten. zkha&apos;s own /zkha and ZooKeeper&apos;s /zookeeper need a confirmation.
      </Text>
      <Grid>
        <Grid.Col span={{ base: 12, md: 4 }}>
          <Stack gap="md">
            <Paper withBorder p="sm">
              <ScrollArea.Autosize mah={640}>
                <ZnodeTree selected={path} onSelect={select} />
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
