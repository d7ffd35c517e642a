import { Alert, Button, Code, Group, Paper, SegmentedControl, Textarea } from '@mantine/core';
import { useState } from 'react';

import { hexDump } from '../format.ts';
import { useSetZnode, type ZnodeView } from '../hooks.ts';

type View = 'text' | 'json' | 'hex';

/** The data editor's state: the view, the draft with the version it was read at, and the save. */
export function useZnodeDataEdit() {
  const save = useSetZnode();
  const [view, setView] = useState<View>('text');
  const [draft, setDraft] = useState<string | null>(null);
  const [editedVersion, setEditedVersion] = useState<number | null>(null);
  /** Another znode drops the draft; the view stays. */
  const reset = () => {
    setDraft(null);
    setEditedVersion(null);
  };
  return { save, view, setView, draft, setDraft, editedVersion, setEditedVersion, reset };
}

export type ZnodeDataEdit = ReturnType<typeof useZnodeDataEdit>;

/** The data as text, JSON or hex; Edit opens a draft saved at the version read. */
export function ZnodeDataView({
  path,
  znode,
  edit,
  locked,
  confirmFlag,
}: {
  path: string;
  znode: ZnodeView;
  edit: ZnodeDataEdit;
  locked: boolean;
  confirmFlag: { confirm?: true };
}) {
  const { save, view, setView, draft, setDraft, editedVersion, setEditedVersion } = edit;
  return (
    <Paper withBorder p="sm">
      <Group justify="space-between" mb="xs">
        <SegmentedControl
          size="xs"
          value={view}
          onChange={(x) => setView(x)}
          data={[
            { value: 'text', label: 'Text' },
            { value: 'json', label: 'JSON', disabled: !znode.data.isJson },
            { value: 'hex', label: 'Hex' },
          ]}
        />
        {draft === null ? (
          <Button
            size="xs"
            variant="light"
            disabled={znode.data.text === null}
            onClick={() => (setDraft(znode.data.text ?? ''), setEditedVersion(znode.stat.version))}
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
              disabled={locked}
              onClick={() =>
                save.mutate(
                  { path, data: { text: draft }, version: editedVersion ?? znode.stat.version, ...confirmFlag },
                  { onSuccess: () => setDraft(null) },
                )
              }
            >
              Save at version {editedVersion}
            </Button>
          </Group>
        )}
      </Group>
      <ZnodeDataBody znode={znode} edit={edit} />
    </Paper>
  );
}

/** The draft under edit (with a warning once the node changed since it was read), or the data in the chosen view. */
function ZnodeDataBody({ znode, edit }: { znode: ZnodeView; edit: ZnodeDataEdit }) {
  const { view, draft, setDraft, editedVersion } = edit;
  const changedMeanwhile = editedVersion !== null && editedVersion !== znode.stat.version;
  if (draft === null) {
    return (
      <Code block data-testid="znode-data">
        {view === 'json' && znode.data.isJson
          ? JSON.stringify(znode.data.json, null, 2)
          : view === 'hex'
            ? hexDump(znode.data.base64)
            : (znode.data.text ?? '(binary: see Hex)')}
      </Code>
    );
  }
  return (
    <>
      {changedMeanwhile && (
        <Alert color="red" mb="xs" title={`Changed since you opened it: now version ${znode.stat.version}`}>
          Saving is refused and nothing is overwritten. The current data is: <Code>{znode.data.text}</Code>
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
  );
}
