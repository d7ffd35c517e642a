import { Text } from '@mantine/core';
import type { ReactNode } from 'react';

/** A small labelled figure (label in caps above the value), as the console's cards show their facts. */
export function Fact({
  label,
  children,
  testId,
  weight = 600,
}: {
  label: string;
  children: ReactNode;
  testId?: string;
  weight?: 500 | 600;
}) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="sm" fw={weight} component="div" data-testid={testId}>
        {children}
      </Text>
    </div>
  );
}
