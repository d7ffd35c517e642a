import { Button, Group, Paper, Stack, Text, Textarea } from '@mantine/core';
import { useState } from 'react';

import { useSetZnodeAcl, type ZnodeView } from '../hooks.ts';

/** The ACL editor's state: the draft (one entry a line) and the save. */
export function useZnodeAclEdit() {
  const save = useSetZnodeAcl();
  const [draft, setDraft] = useState<string | null>(null);
  return { save, draft, setDraft, reset: () => setDraft(null) };
}

export type ZnodeAclEdit = ReturnType<typeof useZnodeAclEdit>;

/** The ACL entries; Edit ACL opens them as text, saved at the ACL version read. */
export function ZnodeAclEditor({
  path,
  znode,
  edit,
  locked,
  confirmFlag,
}: {
  path: string;
  znode: ZnodeView;
  edit: ZnodeAclEdit;
  locked: boolean;
  confirmFlag: { confirm?: true };
}) {
  const { draft, setDraft } = edit;
  return (
    <Paper withBorder p="sm">
      <Text fw={600} mb="xs">
        ACL (aversion {znode.stat.aversion})
      </Text>
      {draft === null ? (
        <>
          {znode.acl.map((e) => (
            <Text key={e.notation} size="sm" ff="monospace" data-testid="znode-acl" style={{ overflowWrap: 'anywhere' }}>
              {e.notation}
            </Text>
          ))}
          <Button size="xs" variant="light" mt="xs" disabled={locked} onClick={() => setDraft(znode.acl.map((e) => e.notation).join('\n'))}>
            Edit ACL
          </Button>
        </>
      ) : (
        <AclDraftForm path={path} znode={znode} draft={draft} edit={edit} confirmFlag={confirmFlag} />
      )}
    </Paper>
  );
}

/** The ACL as text, one entry a line, saved at the ACL version read. */
function AclDraftForm({
  path,
  znode,
  draft,
  edit,
  confirmFlag,
}: {
  path: string;
  znode: ZnodeView;
  draft: string;
  edit: ZnodeAclEdit;
  confirmFlag: { confirm?: true };
}) {
  const { save, setDraft } = edit;
  return (
    <Stack gap="xs">
      <Textarea
        autosize
        minRows={2}
        value={draft}
        onChange={(e) => setDraft(e.currentTarget.value)}
        ff="monospace"
        aria-label="ACL entries"
        description="One scheme:id:perms per line: world:anyone:r, digest:user:hash:cdrwa, ip:10.0.0.0/8:rw"
      />
      <Group gap="xs">
        <Button
          size="xs"
          loading={save.isPending}
          onClick={() =>
            save.mutate(
              {
                path,
                acl: draft
                  .split('\n')
                  .map((l) => l.trim())
                  .filter(Boolean),
                version: znode.stat.aversion,
                ...confirmFlag,
              },
              { onSuccess: () => setDraft(null) },
            )
          }
        >
          Save ACL at aversion {znode.stat.aversion}
        </Button>
        <Button size="xs" variant="subtle" onClick={() => setDraft(null)}>
          Cancel
        </Button>
      </Group>
    </Stack>
  );
}
