import { Badge, Group, Text, Timeline } from '@mantine/core';

import { formatTime } from '../../../lib/format.ts';
import type { FileRecord } from '../hooks.ts';

/** Where a file has been: created, then each move with its origin and destination. */
export function FileHistory({ file }: { file: FileRecord }) {
  return (
    <Timeline bulletSize={14} lineWidth={2} active={file.history.length - 1} data-testid="file-history">
      {file.history.map((h, i) => (
        <Timeline.Item
          key={`${h.at}-${i}`}
          title={
            <Group gap={6}>
              <Badge size="sm" variant="light">
                {h.action}
              </Badge>
              <Text size="sm" span>
                {h.from && h.to ? `${h.from} → ${h.to}` : (h.node ?? '')}
              </Text>
            </Group>
          }
        >
          <Text size="xs" c="dimmed">
            {formatTime(h.at)}
          </Text>
        </Timeline.Item>
      ))}
    </Timeline>
  );
}
