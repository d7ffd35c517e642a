import { Alert, Button, Checkbox, Group, List, Modal, Skeleton, Stack, Table, Text } from '@mantine/core';
import { useState } from 'react';

import { errorMessage } from '../../../lib/notify.ts';
import { useAddServer, useChangePlan, useRemoveServer, type ChangeInput, type ChangePlan, type QuorumFigures } from '../hooks.ts';

/** A membership change the operator asked for; the dialog fetches what it would do. */
export type ChangeRequest = { action: 'add'; role: 'participant' | 'observer' } | { action: 'remove'; node: string };

function titleOf(req: ChangeRequest): string {
  if (req.action === 'remove') return `Remove ${req.node}?`;
  return req.role === 'observer' ? 'Add an observer?' : 'Add a participant?';
}

function explain(plan: ChangePlan): string {
  if (plan.action === 'add') {
    return plan.role === 'observer'
      ? `zkha starts ${plan.node} (server id ${plan.id}), waits until it has synced, then runs reconfig -add as an observer: it serves reads and forwards writes, but does not vote.`
      : `zkha starts ${plan.node} (server id ${plan.id}), waits until it has synced, then runs reconfig -add as a voting participant.`;
  }
  return `zkha runs reconfig -remove ${plan.node} (server id ${plan.id}, ${plan.role}), then stops it and deletes its data. zkha's clients move to the remaining servers.`;
}

const ROWS: { key: keyof QuorumFigures; label: string }[] = [
  { key: 'voters', label: 'Voters' },
  { key: 'observers', label: 'Observers' },
  { key: 'quorum', label: 'Quorum (votes per write)' },
  { key: 'tolerates', label: 'Failures tolerated' },
];

/** Before → after of each quorum figure; what changes is bold, fewer failures tolerated red. */
export function QuorumChange({ before, after }: { before: QuorumFigures; after: QuorumFigures }) {
  return (
    <Table fz="sm" withTableBorder aria-label="Quorum before and after" data-testid="quorum-change">
      <Table.Thead>
        <Table.Tr>
          <Table.Th />
          <Table.Th>Before</Table.Th>
          <Table.Th>After</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {ROWS.map((r) => (
          <Table.Tr key={r.key} data-testid={`quorum-${r.key}`}>
            <Table.Td>{r.label}</Table.Td>
            <Table.Td data-testid="before">{before[r.key]}</Table.Td>
            <Table.Td
              data-testid="after"
              fw={before[r.key] !== after[r.key] ? 700 : undefined}
              c={r.key === 'tolerates' && after.tolerates < before.tolerates ? 'red' : undefined}
            >
              {after[r.key]}
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

/** The guards' verdict: refusal in red, warnings and the even-voters confirmation in yellow. */
function Verdict({
  plan,
  confirmed,
  onConfirmed,
  disabled,
}: {
  plan: ChangePlan;
  confirmed: boolean;
  onConfirmed: (v: boolean) => void;
  disabled: boolean;
}) {
  const { check } = plan;
  return (
    <Stack gap="sm">
      <Text size="sm" fw={600} data-testid="change-summary">
        {check.summary}
      </Text>
      <QuorumChange before={check.before} after={check.after} />
      {!plan.supported && (
        <Alert color="gray" title="Not available on this deployment" data-testid="change-unsupported">
          {plan.unsupportedReason}
        </Alert>
      )}
      {!check.allowed && (
        <Alert color="red" variant="filled" title="Refused" role="alert" data-testid="change-refusal" data-refusal={check.refusal ?? ''}>
          <List size="sm" c="white">
            {check.problems.map((p) => (
              <List.Item key={p}>{p}</List.Item>
            ))}
          </List>
        </Alert>
      )}
      {check.warnings.length > 0 && (
        <Alert
          color="yellow"
          title={check.needsConfirmation ? 'Even number of voters: confirm' : 'Worth knowing'}
          data-testid="change-warnings"
        >
          <List size="sm">
            {check.warnings.map((w) => (
              <List.Item key={w}>{w}</List.Item>
            ))}
          </List>
        </Alert>
      )}
      {check.allowed && check.needsConfirmation && (
        <Checkbox
          label={`Yes, leave ${check.after.voters} voters (an even number)`}
          checked={confirmed}
          onChange={(e) => onConfirmed(e.currentTarget.checked)}
          disabled={disabled}
          data-testid="change-confirm-even"
        />
      )}
    </Stack>
  );
}

/** The change's plan (fetched for `request`), the second yes for even voters, and the add or remove that runs it. */
function useMembershipChange(request: ChangeRequest | null, onClose: () => void) {
  const input: ChangeInput | null =
    request === null ? null : request.action === 'add' ? { action: 'add', role: request.role } : { action: 'remove', node: request.node };
  const plan = useChangePlan(input);
  const add = useAddServer();
  const remove = useRemoveServer();
  const busy = add.isPending || remove.isPending;
  const [confirmed, setConfirmed] = useState(false);
  // Another request (or none) starts unconfirmed: reset while rendering, so no frame shows the old yes.
  const key = request === null ? '' : request.action === 'add' ? `add-${request.role}` : `remove-${request.node}`;
  const [confirmedKey, setConfirmedKey] = useState(key);
  if (confirmedKey !== key) {
    setConfirmedKey(key);
    setConfirmed(false);
  }

  const p = plan.data;
  const canRun = p !== undefined && p.supported && p.check.allowed && (!p.check.needsConfirmation || confirmed);
  const run = () => {
    if (!p || !request) return;
    const done = { onSuccess: onClose };
    if (request.action === 'add') add.mutate({ role: request.role, confirm: p.check.needsConfirmation && confirmed }, done);
    else remove.mutate({ node: request.node, confirm: p.check.needsConfirmation && confirmed }, done);
  };
  return { plan, busy, confirmed, setConfirmed, canRun, run };
}

/** The run button's text: the server an add would start, once the plan names it. */
function runLabel(request: ChangeRequest, plan: ChangePlan | undefined): string {
  if (request.action === 'remove') return `Remove ${request.node}`;
  return plan ? `Add ${plan.node} as ${request.role}` : `Add ${request.role}`;
}

/**
 * Confirmation of a membership change: what it does, the quorum before → after from ensemble.planChange
 * (fetched fresh when it opens), refusals in red, and a second yes for an even number of voters. The change
 * itself takes seconds (start, sync, reconfig): the dialog stays open and busy until it answers.
 */
export function ChangeDialog({ request, onClose }: { request: ChangeRequest | null; onClose: () => void }) {
  const { plan, busy, confirmed, setConfirmed, canRun, run } = useMembershipChange(request, onClose);

  return (
    <Modal
      opened={request !== null}
      onClose={busy ? () => undefined : onClose}
      title={request ? titleOf(request) : ''}
      centered
      size="lg"
      closeOnEscape={!busy}
    >
      {request && (
        <Stack gap="sm">
          {plan.isPending ? (
            <Skeleton height={160} aria-label="Checking the change against the guards" />
          ) : plan.isError ? (
            <Alert color="red" title="Could not check the change" role="alert">
              {errorMessage(plan.error)}
            </Alert>
          ) : (
            <>
              <Text size="sm">{explain(plan.data)}</Text>
              <Verdict plan={plan.data} confirmed={confirmed} onConfirmed={setConfirmed} disabled={busy} />
            </>
          )}
          {busy && (
            <Text size="sm" c="dimmed" role="status">
              {request.action === 'add'
                ? 'Starting the server, waiting for it to sync, reconfiguring…'
                : 'Reconfiguring, stopping the server…'}{' '}
              This takes a few seconds.
            </Text>
          )}
          <Group justify="flex-end">
            {/* Enter on a freshly opened removal must not remove: the focus starts on Cancel there. */}
            <Button variant="default" onClick={onClose} disabled={busy} data-autofocus={request.action === 'remove' ? true : undefined}>
              Cancel
            </Button>
            <Button
              color={request.action === 'remove' ? 'red' : 'indigo'}
              onClick={run}
              loading={busy}
              disabled={!canRun || busy}
              data-autofocus={request.action === 'add' ? true : undefined}
            >
              {runLabel(request, plan.data)}
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}
