import {
  Alert,
  Badge,
  Button,
  Checkbox,
  Code,
  Group,
  NumberInput,
  Paper,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useState } from 'react';

import { ErrorState, Loading } from '../../../components/query-state.tsx';
import { childPath, hexDump, isGuardedPath } from '../format.ts';
import { useCreateZnode, useRemoveZnode, useSetZnode, useSetZnodeAcl, useZnode } from '../hooks.ts';

type View = 'text' | 'json' | 'hex';
type ChildMode = 'persistent' | 'persistent_sequential';

/** The selected znode: its data (text, JSON, hex), stat and ACL; edit at the version read, add a child, delete. */
export function ZnodePanel({ path, onSelect }: { path: string; onSelect: (path: string) => void }) {
  const node = useZnode(path);
  const save = useSetZnode();
  const create = useCreateZnode();
  const saveAcl = useSetZnodeAcl();
  const [aclDraft, setAclDraft] = useState<string | null>(null);
  const remove = useRemoveZnode();
  const [view, setView] = useState<View>('text');
  const [draft, setDraft] = useState<string | null>(null);
  const [editedVersion, setEditedVersion] = useState<number | null>(null);
  const [child, setChild] = useState('');
  const [childMode, setChildMode] = useState<ChildMode>('persistent');
  // ZooKeeper deletes a TTL node once it has had no children and no change for this long.
  const [ttlSec, setTtlSec] = useState<number | ''>('');
  const [confirm, setConfirm] = useState(false);
  const [pendingDelete, setPendingDelete] = useState<number | null>(null);
  // Another znode drops the edits and confirmations made on the last one (the view and the child form stay);
  // reset while rendering, so no frame shows the old draft under the new path.
  const [editedPath, setEditedPath] = useState(path);
  if (editedPath !== path) {
    setEditedPath(path);
    setDraft(null);
    setAclDraft(null);
    setEditedVersion(null);
    setPendingDelete(null);
    setConfirm(false);
  }

  if (node.isLoading) return <Loading label={`Reading ${path}`} />;
  if (!node.data) return <ErrorState title={`Could not read ${path}`} error={node.error} />;
  const v = node.data;
  const guarded = isGuardedPath(path);
  const changedMeanwhile = editedVersion !== null && editedVersion !== v.stat.version;
  const confirmFlag = guarded && confirm ? { confirm: true } : {};

  return (
    <Stack gap="md" data-testid="znode-panel">
      <Group justify="space-between">
        <Title order={3} ff="monospace">
          {path}
        </Title>
        <Group gap="xs">
          <Badge variant="light">version {v.stat.version}</Badge>
          <Badge variant="light">{v.data.sizeBytes} bytes</Badge>
          {v.data.isJson && <Badge color="teal">JSON</Badge>}
          {v.stat.ephemeralOwner !== '0x0' && <Badge color="grape">ephemeral</Badge>}
        </Group>
      </Group>
      {guarded && (
        <Alert color="orange" title="zkha and ZooKeeper run on this subtree">
          <Checkbox
            label="I know what I am changing: allow writes here"
            checked={confirm}
            onChange={(e) => setConfirm(e.currentTarget.checked)}
          />
        </Alert>
      )}
      <Paper withBorder p="sm">
        <Group justify="space-between" mb="xs">
          <SegmentedControl
            size="xs"
            value={view}
            onChange={(x) => setView(x)}
            data={[
              { value: 'text', label: 'Text' },
              { value: 'json', label: 'JSON', disabled: !v.data.isJson },
              { value: 'hex', label: 'Hex' },
            ]}
          />
          {draft === null ? (
            <Button
              size="xs"
              variant="light"
              disabled={v.data.text === null}
              onClick={() => (setDraft(v.data.text ?? ''), setEditedVersion(v.stat.version))}
            >
              Edit
            </Button>
          ) : (
            <Group gap="xs">
              <Button size="xs" variant="default" onClick={() => setDraft(null)}>
                Cancel
              </Button>
              <Button
                size="xs"
                loading={save.isPending}
                disabled={guarded && !confirm}
                onClick={() =>
                  save.mutate(
                    { path, data: { text: draft }, version: editedVersion ?? v.stat.version, ...confirmFlag },
                    { onSuccess: () => setDraft(null) },
                  )
                }
              >
                Save at version {editedVersion}
              </Button>
            </Group>
          )}
        </Group>
        {draft !== null ? (
          <>
            {changedMeanwhile && (
              <Alert color="red" mb="xs" title={`Changed since you opened it: now version ${v.stat.version}`}>
                Saving is refused and nothing is overwritten. The current data is: <Code>{v.data.text}</Code>
              </Alert>
            )}
            <Textarea
              autosize
              minRows={4}
              maxRows={20}
              value={draft}
              onChange={(e) => setDraft(e.currentTarget.value)}
              ff="monospace"
              aria-label="Data"
            />
          </>
        ) : (
          <Code block data-testid="znode-data">
            {view === 'json' && v.data.isJson
              ? JSON.stringify(v.data.json, null, 2)
              : view === 'hex'
                ? hexDump(v.data.base64)
                : (v.data.text ?? '(binary: see Hex)')}
          </Code>
        )}
      </Paper>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Paper withBorder p="sm">
          <Text fw={600} mb="xs">
            Stat
          </Text>
          <Table withRowBorders={false} verticalSpacing={1} data-testid="znode-stat">
            <Table.Tbody>
              {Object.entries(v.stat).map(([k, val]) => (
                <Table.Tr key={k}>
                  <Table.Td>
                    <Text size="sm" c="dimmed">
                      {k}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" ff="monospace">
                      {k === 'ctime' || k === 'mtime'
                        ? `${new Date(val as number).toISOString().replace('T', ' ').slice(0, 19)} UTC`
                        : String(val)}
                    </Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Paper>
        <Stack gap="md">
          <Paper withBorder p="sm">
            <Text fw={600} mb="xs">
              ACL (aversion {v.stat.aversion})
            </Text>
            {aclDraft === null ? (
              <>
                {v.acl.map((e) => (
                  <Text key={e.notation} size="sm" ff="monospace" data-testid="znode-acl" style={{ overflowWrap: 'anywhere' }}>
                    {e.notation}
                  </Text>
                ))}
                <Button
                  size="xs"
                  variant="light"
                  mt="xs"
                  disabled={guarded && !confirm}
                  onClick={() => setAclDraft(v.acl.map((e) => e.notation).join('\n'))}
                >
                  Edit ACL
                </Button>
              </>
            ) : (
              <Stack gap="xs">
                <Textarea
                  autosize
                  minRows={2}
                  value={aclDraft}
                  onChange={(e) => setAclDraft(e.currentTarget.value)}
                  ff="monospace"
                  aria-label="ACL entries"
                  description="One scheme:id:perms per line: world:anyone:r, digest:user:hash:cdrwa, ip:10.0.0.0/8:rw"
                />
                <Group gap="xs">
                  <Button
                    size="xs"
                    loading={saveAcl.isPending}
                    onClick={() =>
                      saveAcl.mutate(
                        {
                          path,
                          acl: aclDraft
                            .split('\n')
                            .map((l) => l.trim())
                            .filter(Boolean),
                          version: v.stat.aversion,
                          ...confirmFlag,
                        },
                        { onSuccess: () => setAclDraft(null) },
                      )
                    }
                  >
                    Save ACL at aversion {v.stat.aversion}
                  </Button>
                  <Button size="xs" variant="subtle" onClick={() => setAclDraft(null)}>
                    Cancel
                  </Button>
                </Group>
              </Stack>
            )}
          </Paper>
          <Paper withBorder p="sm">
            <Text fw={600} mb="xs">
              Add a child
            </Text>
            <Group gap="xs" align="end">
              <TextInput
                size="xs"
                placeholder="name"
                value={child}
                onChange={(e) => setChild(e.currentTarget.value)}
                aria-label="Child name"
              />
              <SegmentedControl
                size="xs"
                value={childMode}
                onChange={(m) => setChildMode(m)}
                data={[
                  { value: 'persistent', label: 'Persistent' },
                  { value: 'persistent_sequential', label: 'Sequential' },
                ]}
                aria-label="Child kind"
              />
              <NumberInput
                size="xs"
                w={110}
                placeholder="no TTL"
                aria-label="TTL in seconds"
                min={1}
                allowDecimal={false}
                suffix=" s TTL"
                value={ttlSec}
                onChange={(v) => setTtlSec(typeof v === 'number' ? v : '')}
              />
              <Button
                size="xs"
                disabled={child.trim() === '' || (guarded && !confirm)}
                loading={create.isPending}
                onClick={() =>
                  create.mutate(
                    {
                      path: childPath(path, child.trim()),
                      data: { text: '' },
                      mode: childMode,
                      ...(ttlSec !== '' ? { ttlMs: ttlSec * 1000 } : {}),
                      ...confirmFlag,
                    },
                    { onSuccess: (made) => (setChild(''), setTtlSec(''), onSelect(made.path)) },
                  )
                }
              >
                Create
              </Button>
            </Group>
          </Paper>
          {path !== '/' && (
            <Paper withBorder p="sm">
              <Text fw={600} mb="xs">
                Delete
              </Text>
              {pendingDelete === null ? (
                <Button
                  size="xs"
                  color="red"
                  variant="light"
                  disabled={guarded && !confirm}
                  loading={remove.isPending}
                  onClick={() =>
                    remove.mutate(
                      { path, version: v.stat.version, recursive: true, ...confirmFlag },
                      { onSuccess: (r) => setPendingDelete(r.wouldDelete) },
                    )
                  }
                >
                  Delete {v.stat.numChildren > 0 ? 'with its subtree' : 'this node'}…
                </Button>
              ) : (
                <Group gap="xs">
                  <Text size="sm">
                    {pendingDelete} znode{pendingDelete === 1 ? '' : 's'} will go.
                  </Text>
                  <Button size="xs" variant="default" onClick={() => setPendingDelete(null)}>
                    Keep
                  </Button>
                  <Button
                    size="xs"
                    color="red"
                    onClick={() =>
                      remove.mutate(
                        { path, version: -1, recursive: true, confirm: true },
                        { onSuccess: () => onSelect(path.slice(0, path.lastIndexOf('/')) || '/') },
                      )
                    }
                  >
                    Delete {pendingDelete}
                  </Button>
                </Group>
              )}
            </Paper>
          )}
        </Stack>
      </SimpleGrid>
    </Stack>
  );
}
