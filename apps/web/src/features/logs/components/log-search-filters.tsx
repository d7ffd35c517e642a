import { Button, Group, MultiSelect, Select, SimpleGrid, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useEffect, useState } from 'react';

import { useNodeNames } from '../../nodes/hooks.ts';
import { LOG_LEVELS, type LogLevelName } from '../highlight.ts';
import type { LogSearchFilters as Filters } from '../hooks.ts';

/** Query box, minimum level and sources (backend, each node, each node's agent) of the log search. */
export function LogSearchFilters({ onChange }: { onChange: (f: Filters) => void }) {
  const nodes = useNodeNames();
  const [text, setText] = useState('');
  const [level, setLevel] = useState<string | null>(null);
  const [sources, setSources] = useState<string[]>([]);
  const [debouncedText] = useDebouncedValue(text.trim(), 300);
  const sourceOptions = ['backend', ...nodes, ...nodes.map((n) => `agent:${n}`)];

  useEffect(() => {
    const f: Filters = {};
    if (debouncedText) f.text = debouncedText.slice(0, 500);
    if (level) f.level = level as LogLevelName;
    if (sources.length > 0) f.sources = [...sources].sort();
    onChange(f);
  }, [debouncedText, level, sources, onChange]);

  const any = text || level || sources.length > 0;
  return (
    <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="sm" component="form" aria-label="Search the logs" onSubmit={(e) => e.preventDefault()}>
      <TextInput
        label="Query"
        placeholder="e.g. LEADER ELECTION TOOK"
        value={text}
        onChange={(e) => setText(e.currentTarget.value)}
        type="search"
      />
      <Select label="Minimum level" placeholder="Any level" data={[...LOG_LEVELS]} value={level} onChange={setLevel} clearable />
      <Group align="flex-end" gap="xs" wrap="nowrap">
        <MultiSelect
          label="Sources"
          placeholder={sources.length ? undefined : 'All sources'}
          data={sourceOptions}
          value={sources}
          onChange={setSources}
          clearable
          searchable
          style={{ flex: 1 }}
        />
        <Button variant="subtle" onClick={() => (setText(''), setLevel(null), setSources([]))} disabled={!any} style={{ flexShrink: 0 }}>
          Clear
        </Button>
      </Group>
    </SimpleGrid>
  );
}
