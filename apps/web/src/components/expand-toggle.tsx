import { ActionIcon, Text } from '@mantine/core';

/**
 * The disclosure button of an expandable table row: says what it shows or hides to screen readers and points
 * at the region it controls, so every expandable row in the console behaves (and is tested) the same way.
 */
export function ExpandToggle({ open, controls, what, onToggle }: { open: boolean; controls: string; what: string; onToggle: () => void }) {
  return (
    <ActionIcon
      variant="subtle"
      aria-expanded={open}
      aria-controls={controls}
      aria-label={`${open ? 'Hide' : 'Show'} ${what}`}
      onClick={onToggle}
    >
      <Text span aria-hidden fz="sm">
        {open ? '▾' : '▸'}
      </Text>
    </ActionIcon>
  );
}
