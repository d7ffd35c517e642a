import { Group, Loader, Stack, Text, UnstyledButton } from '@mantine/core';
import { createContext, useContext, useEffect, useState } from 'react';

import { useZnodeChildren } from '../hooks.ts';

/** Tells the page which levels are open (each open level says so while it is shown), for the watches. */
const OpenLevels = createContext<(path: string, open: boolean) => void>(() => undefined);

/** One level of the tree: a node's children, each expandable (read when opened: the tree is lazy). */
function Level({
  path,
  depth,
  selected,
  onSelect,
}: {
  path: string;
  depth: number;
  selected: string | null;
  onSelect: (path: string) => void;
}) {
  const children = useZnodeChildren(path, true);
  const setOpen = useContext(OpenLevels);
  useEffect(() => {
    setOpen(path, true);
    return () => setOpen(path, false);
  }, [path, setOpen]);
  if (children.isLoading) return <Loader size="xs" ml={depth * 14} aria-label={`Loading ${path}`} />;
  if (!children.data) return null;
  return (
    <Stack gap={0}>
      {children.data.children.map((c) => (
        <Branch key={c.path} child={c} depth={depth} selected={selected} onSelect={onSelect} />
      ))}
      {children.data.truncated && (
        <Text size="xs" c="dimmed" ml={depth * 14}>
          (more children than shown)
        </Text>
      )}
    </Stack>
  );
}

function Branch({
  child,
  depth,
  selected,
  onSelect,
}: {
  child: { name: string; path: string; numChildren: number; ephemeral: boolean };
  depth: number;
  selected: string | null;
  onSelect: (path: string) => void;
}) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Group gap={4} wrap="nowrap" pl={depth * 14}>
        <UnstyledButton
          w={16}
          onClick={() => setOpen((o) => !o)}
          disabled={child.numChildren === 0}
          aria-label={`${open ? 'Collapse' : 'Expand'} ${child.path}`}
          aria-expanded={child.numChildren === 0 ? undefined : open}
        >
          <Text size="xs" c="dimmed">
            {child.numChildren === 0 ? '·' : open ? '▾' : '▸'}
          </Text>
        </UnstyledButton>
        <UnstyledButton
          onClick={() => onSelect(child.path)}
          data-testid={`znode-${child.path}`}
          aria-current={selected === child.path ? 'true' : undefined}
        >
          <Text size="sm" ff="monospace" fw={selected === child.path ? 700 : 400}>
            {child.name}
            {child.numChildren > 0 && (
              <Text span size="xs" c="dimmed">
                {' '}
                ({child.numChildren})
              </Text>
            )}
            {child.ephemeral && (
              <Text span size="xs" c="teal">
                {' '}
                ephemeral
              </Text>
            )}
          </Text>
        </UnstyledButton>
      </Group>
      {open && <Level path={child.path} depth={depth + 1} selected={selected} onSelect={onSelect} />}
    </>
  );
}

/** The znode tree from `/`; `onLevel` hears which levels open and close. */
export function ZnodeTree({
  selected,
  onSelect,
  onLevel,
}: {
  selected: string | null;
  onSelect: (path: string) => void;
  onLevel: (path: string, open: boolean) => void;
}) {
  return (
    <OpenLevels.Provider value={onLevel}>
      <Stack gap={2} data-testid="znode-tree">
        <UnstyledButton onClick={() => onSelect('/')} data-testid="znode-/">
          <Text size="sm" ff="monospace" fw={selected === '/' ? 700 : 400}>
            /
          </Text>
        </UnstyledButton>
        <Level path="/" depth={0} selected={selected} onSelect={onSelect} />
      </Stack>
    </OpenLevels.Provider>
  );
}
