import { Alert, Button, Card, Group, List, Skeleton, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';

import { Fact } from '../../../components/fact.tsx';
import { ErrorState } from '../../../components/query-state.tsx';
import { formatAgo } from '../../../lib/format.ts';
import type { Membership } from '../hooks.ts';
import { ChangeDialog, type ChangeRequest } from './change-dialog.tsx';
import { MembershipTable } from './membership-table.tsx';

/** The card's title, and the add buttons once the membership is known. */
function MembershipHeader({
  data,
  canChange,
  onRequest,
}: {
  data: Membership | undefined;
  canChange: boolean;
  onRequest: (request: ChangeRequest) => void;
}) {
  return (
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
          <Button size="xs" variant="light" onClick={() => onRequest({ action: 'add', role: 'participant' })} disabled={!canChange}>
            Add participant
          </Button>
          <Button
            size="xs"
            variant="light"
            color="grape"
            onClick={() => onRequest({ action: 'add', role: 'observer' })}
            disabled={!canChange}
          >
            Add observer
          </Button>
        </Group>
      )}
    </Group>
  );
}

/** Voters, observers, leader, quorum and the committed config version. */
function MembershipFacts({ data }: { data: Membership }) {
  return (
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
  );
}

/** What stands in the way of a change: servers that disagree, a change in progress, no support here. */
function MembershipNotices({ data }: { data: Membership }) {
  const busy = data.busy;
  return (
    <>
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
    </>
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
      <MembershipHeader data={data} canChange={canChange} onRequest={setRequest} />
      {error ? (
        <ErrorState title="Could not read the membership" error={error} />
      ) : !data ? (
        <Stack gap="xs" aria-busy="true" aria-label="Loading the membership">
          <Skeleton height={40} />
          <Skeleton height={120} />
        </Stack>
      ) : (
        <Stack gap="sm">
          <MembershipFacts data={data} />
          <MembershipNotices data={data} />
          <MembershipTable data={data} canRemove={canChange} onRemove={(node) => setRequest({ action: 'remove', node })} />
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
