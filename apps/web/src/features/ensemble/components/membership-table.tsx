import { Badge, Button, Group, ScrollArea, Table, Text, VisuallyHidden } from '@mantine/core';

import type { MemberServer, Membership } from '../hooks.ts';

const MODE_COLOR: Record<string, string> = { leader: 'indigo', follower: 'gray', observer: 'grape', standalone: 'indigo', unknown: 'red' };
/** A badge's text clips by default; in a narrow table it would shrink to "VO…": let the table scroll instead. */
const NO_SHRINK = { minWidth: 'max-content' } as const;

function roleLabel(s: MemberServer): string {
  if (s.role === 'participant') return 'voter';
  if (s.role === 'observer') return 'observer';
  return 'not a member';
}

function ServerRow({
  server,
  leader,
  canRemove,
  onRemove,
}: {
  server: MemberServer;
  leader: boolean;
  canRemove: boolean;
  onRemove: () => void;
}) {
  return (
    <Table.Tr data-testid="member-row" data-node={server.name} data-role={server.role ?? 'none'} data-agrees={server.agrees}>
      <Table.Td>
        <Group gap={6} wrap="nowrap">
          <Text fw={600} size="sm">
            {server.name}
          </Text>
          {server.id !== null && (
            <Text size="xs" c="dimmed">
              id {server.id}
            </Text>
          )}
        </Group>
      </Table.Td>
      <Table.Td>
        <Badge
          variant="light"
          color={server.role === 'observer' ? 'grape' : server.role === null ? 'orange' : 'blue'}
          size="sm"
          style={NO_SHRINK}
          data-testid="member-role"
        >
          {roleLabel(server)}
        </Badge>
      </Table.Td>
      <Table.Td>
        <Badge
          variant={leader ? 'filled' : 'light'}
          color={server.reachable ? (MODE_COLOR[server.mode] ?? 'gray') : 'red'}
          size="sm"
          style={NO_SHRINK}
          data-testid="member-mode"
        >
          {server.reachable ? server.mode : 'unreachable'}
        </Badge>
      </Table.Td>
      <Table.Td style={{ whiteSpace: 'nowrap' }}>
        <Text size="sm" ff="monospace" data-testid="member-version" c={server.agrees ? undefined : 'orange'}>
          {server.configVersion ?? '—'}
        </Text>
      </Table.Td>
      <Table.Td style={{ whiteSpace: 'nowrap' }}>
        <Text size="sm">{`${server.host}:${server.port}`}</Text>
      </Table.Td>
      <Table.Td>
        {server.role !== null && (
          <Button
            size="compact-xs"
            variant="subtle"
            color="red"
            onClick={onRemove}
            disabled={!canRemove}
            aria-label={`Remove ${server.name}`}
          >
            Remove
          </Button>
        )}
      </Table.Td>
    </Table.Tr>
  );
}

/** Every server of the ensemble, one row each: role, mode (the leader filled), config version, address, Remove. */
export function MembershipTable({ data, canRemove, onRemove }: { data: Membership; canRemove: boolean; onRemove: (node: string) => void }) {
  return (
    <ScrollArea type="auto">
      <Table
        fz="sm"
        verticalSpacing={6}
        miw={560}
        style={{ whiteSpace: 'nowrap' }}
        aria-label="Servers of the ensemble"
        data-testid="membership-table"
      >
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Server</Table.Th>
            <Table.Th>Role</Table.Th>
            <Table.Th>Mode</Table.Th>
            <Table.Th>Config</Table.Th>
            <Table.Th>Address</Table.Th>
            <Table.Th>
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {data.servers.map((s) => (
            <ServerRow key={s.name} server={s} leader={s.name === data.leader} canRemove={canRemove} onRemove={() => onRemove(s.name)} />
          ))}
        </Table.Tbody>
      </Table>
    </ScrollArea>
  );
}
