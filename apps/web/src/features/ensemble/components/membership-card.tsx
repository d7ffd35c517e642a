import { Alert, Badge, Button, Card, Group, List, ScrollArea, Skeleton, Stack, Table, Text, Title, VisuallyHidden } from '@mantine/core';
import { useState } from 'react';

import { Fact } from '../../../components/fact.tsx';
import { ErrorState } from '../../../components/query-state.tsx';
import { formatAgo } from '../../../lib/format.ts';
import type { MemberServer, Membership } from '../hooks.ts';
import { ChangeDialog, type ChangeRequest } from './change-dialog.tsx';

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

/**
 * ensemble.membership, live: voters and observers with their roles, the committed config version, the leader,
 * a warning for every server whose own view differs, and the guarded add / remove actions.
 */
export function MembershipCard({ data, error }: { data: Membership | undefined; error: unknown }) {
  const [request, setRequest] = useState<ChangeRequest | null>(null);
  const busy = data?.busy ?? null;
  const canChange = data !== undefined && data.changesSupported && busy === null;

  return (
    <Card withBorder padding="md" component="section" aria-labelledby="membership-title" data-testid="membership-card">
      <Group justify="space-between" align="flex-start" mb="xs" wrap="wrap" gap="xs">
        <div>
          <Title order={3} fz="md" id="membership-title">
            Membership
          </Title>
          <Text size="xs" c="dimmed">
            From /zookeeper/config and each server’s own view (conf).
          </Text>
        </div>
        {data && (
          <Group gap="xs" role="group" aria-label="Change the membership">
            <Button size="xs" variant="light" onClick={() => setRequest({ action: 'add', role: 'participant' })} disabled={!canChange}>
              Add participant
            </Button>
            <Button
              size="xs"
              variant="light"
              color="grape"
              onClick={() => setRequest({ action: 'add', role: 'observer' })}
              disabled={!canChange}
            >
              Add observer
            </Button>
          </Group>
        )}
      </Group>
      {error ? (
        <ErrorState title="Could not read the membership" error={error} />
      ) : !data ? (
        <Stack gap="xs" aria-busy="true" aria-label="Loading the membership">
          <Skeleton height={40} />
          <Skeleton height={120} />
        </Stack>
      ) : (
        <Stack gap="sm">
          <Group gap="xl" wrap="wrap">
            <Fact label="Voters" testId="membership-voters">
              {data.voters.length}
              <Text span c="dimmed" fw={400} size="xs">
                {' '}
                ({data.voters.join(', ') || 'none'})
              </Text>
            </Fact>
            <Fact label="Observers" testId="membership-observers">
              {data.observers.length}
              {data.observers.length > 0 && (
                <Text span c="dimmed" fw={400} size="xs">
                  {' '}
                  ({data.observers.join(', ')})
                </Text>
              )}
            </Fact>
            <Fact label="Leader" testId="membership-leader">
              {data.leader ?? (
                <Text span c="red" inherit>
                  none
                </Text>
              )}
            </Fact>
            <Fact label="Quorum" testId="membership-quorum">
              {data.quorum.quorum} of {data.quorum.voters}, tolerates {data.quorum.tolerates}
            </Fact>
            <Fact label="Config version" testId="membership-version">
              <Text span ff="monospace" inherit>
                {data.version}
              </Text>
            </Fact>
          </Group>
          {data.divergent.length > 0 && (
            <Alert color="orange" title="Servers whose view differs from the committed config" data-testid="membership-divergent">
              <List size="sm">
                {data.divergent.map((d) => (
                  <List.Item key={d.name}>
                    <b>{d.name}</b>: {d.difference}
                  </List.Item>
                ))}
              </List>
            </Alert>
          )}
          {busy && (
            <Alert color="blue" title="A change is in progress" data-testid="membership-busy">
              {busy.kind.replace('_', ' ')}
              {busy.node ? ` of ${busy.node}` : ''}, started {formatAgo(busy.since)}. Other changes wait until it ends.
            </Alert>
          )}
          {!data.changesSupported && (
            <Text size="xs" c="dimmed" data-testid="membership-unsupported">
              Adding and removing servers is off here: {data.changesUnsupportedReason}
            </Text>
          )}
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
                  <ServerRow
                    key={s.name}
                    server={s}
                    leader={s.name === data.leader}
                    canRemove={canChange}
                    onRemove={() => setRequest({ action: 'remove', node: s.name })}
                  />
                ))}
              </Table.Tbody>
            </Table>
          </ScrollArea>
          <Text size="xs" c="dimmed" style={{ overflowWrap: 'anywhere' }}>
            zkha’s own clients use{' '}
            <Text span ff="monospace" inherit data-testid="membership-connection">
              {data.connectionString.replaceAll(',', ', ')}
            </Text>
          </Text>
        </Stack>
      )}
      <ChangeDialog request={request} onClose={() => setRequest(null)} />
    </Card>
  );
}
