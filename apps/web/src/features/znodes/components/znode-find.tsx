import { Loader, Stack, Text, TextInput, UnstyledButton } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useState, type ReactNode } from 'react';

import { useZnodeFind } from '../hooks.ts';

// Path search above the tree: a prefix (/zkha/fe) or a glob (/zkha/*/q-*, /**/config). While a pattern is typed,
// its matches replace the tree (`children` is the tree); a match opens that node.
export function ZnodeFind({ onSelect, children }: { onSelect: (path: string) => void; children: ReactNode }) {
  const [text, setText] = useState('');
  const [pattern] = useDebouncedValue(text.trim(), 300);
  const found = useZnodeFind(pattern);
  const searching = pattern !== '';
  return (
    <Stack gap="xs">
      <TextInput
        size="xs"
        placeholder="Find: /zkha/fe or /zkha/*/q-*"
        aria-label="Find znodes by prefix or glob"
        value={text}
        onChange={(e) => setText(e.currentTarget.value)}
        error={searching && !pattern.startsWith('/') ? 'start with /' : found.error?.message}
      />
      {!searching && children}
      {searching && found.isLoading && <Loader size="xs" aria-label="Searching" />}
      {searching && found.data && (
        <Stack gap={2} data-testid="znode-find-results">
          <Text size="xs" c="dimmed">
            {found.data.matches.length} {found.data.mode} match{found.data.matches.length === 1 ? '' : 'es'} among {found.data.visited}{' '}
            znodes read
            {found.data.truncated ? ' (more exist: narrow the pattern)' : ''}
          </Text>
          {found.data.matches.map((p) => (
            <UnstyledButton key={p} onClick={() => onSelect(p)}>
              <Text size="sm" ff="monospace">
                {p}
              </Text>
            </UnstyledButton>
          ))}
        </Stack>
      )}
    </Stack>
  );
}
