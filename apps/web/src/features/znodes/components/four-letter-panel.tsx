import { Code, Group, Paper, Select, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';

import { useTRPC } from '../../../lib/trpc.ts';
import { useNodesLive } from '../../nodes/hooks.ts';

const COMMANDS = ['srvr', 'stat', 'mntr', 'conf', 'cons', 'wchs', 'envi', 'ruok', 'isro', 'dirs'] as const;

/** A server's answer to one of ZooKeeper's read-only four-letter words. */
export function FourLetterPanel() {
  const trpc = useTRPC();
  const live = useNodesLive();
  const nodes = live.data?.nodes.map((n) => n.node) ?? [];
  const [node, setNode] = useState<string | null>(null);
  const [command, setCommand] = useState<(typeof COMMANDS)[number]>('srvr');
  const chosen = node ?? nodes[0] ?? null;
  const answer = useQuery({ ...trpc.znodes.fourLetter.queryOptions({ node: chosen ?? 'zk1', command }), enabled: chosen !== null });
  return (
    <Paper withBorder p="sm" data-testid="four-letter-panel">
      <Text fw={600} mb="xs">
        Four-letter words
      </Text>
      <Group gap="xs" mb="xs">
        <Select size="xs" w={110} aria-label="Server" data={nodes} value={chosen} onChange={setNode} allowDeselect={false} />
        <Select
          size="xs"
          w={110}
          aria-label="Command"
          data={[...COMMANDS]}
          value={command}
          onChange={(c) => c && setCommand(c)}
          allowDeselect={false}
        />
      </Group>
      {/* Focusable, so its scrolled text can be read from the keyboard too. */}
      <Code block mah={300} style={{ overflow: 'auto' }} data-testid="four-letter-output" tabIndex={0} aria-label="Four-letter word answer">
        {answer.data?.text ?? (answer.error ? answer.error.message : '…')}
      </Code>
    </Paper>
  );
}
