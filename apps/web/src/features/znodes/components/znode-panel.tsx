import { Alert, Badge, Checkbox, Group, SimpleGrid, Stack, Title } from '@mantine/core';
import { useState } from 'react';

import { ErrorState, Loading } from '../../../components/query-state.tsx';
import { isGuardedPath } from '../format.ts';
import { useZnode, type ZnodeView } from '../hooks.ts';
import { ZnodeAclEditor, useZnodeAclEdit } from './znode-acl-editor.tsx';
import { ZnodeChildForm, useZnodeChildForm } from './znode-child-form.tsx';
import { ZnodeDataView, useZnodeDataEdit } from './znode-data-view.tsx';
import { ZnodeDelete, useZnodeDelete } from './znode-delete.tsx';
import { ZnodeStatTable } from './znode-stat-table.tsx';

/** The path with the node's version, size, and whether it holds JSON or is ephemeral. */
function ZnodeHeader({ path, znode }: { path: string; znode: ZnodeView }) {
  return (
    <Group justify="space-between">
      <Title order={3} ff="monospace">
        {path}
      </Title>
      <Group gap="xs">
        <Badge variant="light">version {znode.stat.version}</Badge>
        <Badge variant="light">{znode.data.sizeBytes} bytes</Badge>
        {znode.data.isJson && <Badge color="teal">JSON</Badge>}
        {znode.stat.ephemeralOwner !== '0x0' && <Badge color="grape">ephemeral</Badge>}
      </Group>
    </Group>
  );
}

/** The selected znode: its data (text, JSON, hex), stat and ACL; edit at the version read, add a child, delete. */
export function ZnodePanel({ path, onSelect }: { path: string; onSelect: (path: string) => void }) {
  const node = useZnode(path);
  // Each section's state lives here, above the loading state, so that it outlives a read of another path.
  const dataEdit = useZnodeDataEdit();
  const aclEdit = useZnodeAclEdit();
  const childForm = useZnodeChildForm();
  const deletion = useZnodeDelete();
  const [confirm, setConfirm] = useState(false);
  // Another znode drops the edits and confirmations made on the last one (the view and the child form stay);
  // reset while rendering, so no frame shows the old draft under the new path.
  const [editedPath, setEditedPath] = useState(path);
  if (editedPath !== path) {
    setEditedPath(path);
    dataEdit.reset();
    aclEdit.reset();
    deletion.reset();
    setConfirm(false);
  }

  if (node.isLoading) return <Loading label={`Reading ${path}`} />;
  if (!node.data) return <ErrorState title={`Could not read ${path}`} error={node.error} />;
  const znode = node.data;
  const guarded = isGuardedPath(path);
  const locked = guarded && !confirm;
  const confirmFlag: { confirm?: true } = guarded && confirm ? { confirm: true } : {};
  const write = { path, locked, confirmFlag };

  return (
    <Stack gap="md" data-testid="znode-panel">
      <ZnodeHeader path={path} znode={znode} />
      {guarded && (
        <Alert color="orange" title="zkha and ZooKeeper run on this subtree">
          <Checkbox
            label="I know what I am changing: allow writes here"
            checked={confirm}
            onChange={(e) => setConfirm(e.currentTarget.checked)}
          />
        </Alert>
      )}
      <ZnodeDataView {...write} znode={znode} edit={dataEdit} />
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <ZnodeStatTable stat={znode.stat} />
        <Stack gap="md">
          <ZnodeAclEditor {...write} znode={znode} edit={aclEdit} />
          <ZnodeChildForm {...write} form={childForm} onSelect={onSelect} />
          {path !== '/' && <ZnodeDelete {...write} znode={znode} state={deletion} onSelect={onSelect} />}
        </Stack>
      </SimpleGrid>
    </Stack>
  );
}
