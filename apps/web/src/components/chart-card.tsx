import { Card, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';

/** One colour per node, in node order, shared by every per-node chart so a node keeps its colour across pages. */
export const NODE_COLORS = ['#4c6ef5', '#12b886', '#fd7e14', '#e64980', '#7950f2', '#15aabf', '#82c91e', '#fab005', '#868e96'];

/** A chart as a figure: title above, a fixed-height plot area (recharts needs one), caption below. */
export function ChartCard({
  title,
  caption,
  testId,
  height,
  children,
}: {
  title: string;
  caption: ReactNode;
  testId: string;
  height: number;
  children: ReactNode;
}) {
  return (
    <Card withBorder padding="sm" component="figure" m={0} data-testid={testId} aria-label={title}>
      <Title order={4} fz="sm" mb={4}>
        {title}
      </Title>
      <div style={{ width: '100%', height }}>{children}</div>
      <Text size="xs" c="dimmed" component="figcaption" mt={4}>
        {caption}
      </Text>
    </Card>
  );
}
