import { Alert, Button, Group, Menu, Modal, Skeleton, Stack, Text } from '@mantine/core';
import { useState } from 'react';

import { errorMessage } from '../../../lib/notify.ts';
import { useNodeAction, useNodeImpact, type NodeAction, type NodeView } from '../hooks.ts';

const LABEL: Record<NodeAction, string> = { stop: 'Stop', start: 'Start', restart: 'Restart', kill: 'Kill' };
const EXPLAIN: Record<NodeAction, string> = {
  stop: 'The ZooKeeper server and its storage agent stop cleanly.',
  start: 'The ZooKeeper server and its storage agent start again and rejoin the ensemble.',
  restart: 'The ZooKeeper server and its storage agent stop, then start again.',
  kill: 'Failure drill: the ZooKeeper server and its storage agent get SIGKILL, as if the machine died. Nothing is shut down cleanly.',
};

/** The confirmation of one action: the quorum impact in words (red when it loses quorum), confirm or cancel. */
function ConfirmAction({
  node,
  action,
  busy,
  onConfirm,
  onClose,
}: {
  node: string;
  action: NodeAction | null;
  busy: boolean;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const impact = useNodeImpact(node, action);
  const danger = action === 'kill' || (impact.data ? !impact.data.keepsQuorum : false);
  return (
    <Modal opened={action !== null} onClose={busy ? () => undefined : onClose} title={action ? `${LABEL[action]} ${node}?` : ''} centered>
      {action && (
        <Stack>
          <Text size="sm">{EXPLAIN[action]}</Text>
          {impact.isPending ? (
            <Skeleton height={48} aria-label="Checking the quorum impact" />
          ) : impact.isError ? (
            <Alert color="red" title="Could not compute the quorum impact" role="alert">
              {errorMessage(impact.error)}
            </Alert>
          ) : (
            <Alert
              color={impact.data.keepsQuorum ? 'teal' : 'red'}
              variant={impact.data.keepsQuorum ? 'light' : 'filled'}
              title={impact.data.keepsQuorum ? 'Quorum impact' : 'Quorum will be lost'}
            >
              <Text size="sm" fw={600} data-testid="node-action-impact" data-keeps-quorum={impact.data.keepsQuorum}>
                {impact.data.message}
              </Text>
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose} disabled={busy}>
              Cancel
            </Button>
            <Button color={danger ? 'red' : 'indigo'} onClick={onConfirm} loading={busy} disabled={busy || impact.isPending} data-autofocus>
              {LABEL[action]} {node}
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}

/** Stop / Start / Restart a node, and Kill as a failure drill in a menu; each asks for confirmation first. */
export function NodeControls({ node }: { node: NodeView }) {
  const [action, setAction] = useState<NodeAction | null>(null);
  const run = useNodeAction();
  const busy = run.isPending;
  const present = node.up || node.reachable;
  const ask = (a: NodeAction) => setAction(a);

  return (
    <>
      <Group gap={6} wrap="wrap" role="group" aria-label={`Control ${node.node}`}>
        {present ? (
          <>
            <Button
              size="xs"
              variant="light"
              color="gray"
              onClick={() => ask('stop')}
              disabled={busy}
              loading={busy && run.variables?.action === 'stop'}
            >
              Stop
            </Button>
            <Button
              size="xs"
              variant="light"
              color="gray"
              onClick={() => ask('restart')}
              disabled={busy}
              loading={busy && run.variables?.action === 'restart'}
            >
              Restart
            </Button>
          </>
        ) : (
          <Button
            size="xs"
            variant="light"
            color="teal"
            onClick={() => ask('start')}
            disabled={busy}
            loading={busy && run.variables?.action === 'start'}
          >
            Start
          </Button>
        )}
        <Menu position="bottom-end" withinPortal>
          <Menu.Target>
            <Button size="xs" variant="subtle" color="red" disabled={busy} aria-label={`Failure drills for ${node.node}`}>
              Drill ▾
            </Button>
          </Menu.Target>
          <Menu.Dropdown>
            <Menu.Label>Failure drill</Menu.Label>
            <Menu.Item color="red" onClick={() => ask('kill')} disabled={!present}>
              Kill {node.node} (SIGKILL)
            </Menu.Item>
          </Menu.Dropdown>
        </Menu>
      </Group>
      <ConfirmAction
        node={node.node}
        action={action}
        busy={busy}
        onClose={() => setAction(null)}
        onConfirm={() => action && run.mutate({ node: node.node, action }, { onSettled: () => setAction(null) })}
      />
    </>
  );
}
