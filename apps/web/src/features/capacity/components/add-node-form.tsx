import { Button, Group, NativeSelect, NumberInput, Stack, Text, TextInput } from '@mantine/core';
import { useState, type Dispatch, type FormEvent, type SetStateAction } from 'react';

import { useAddStorageNode } from '../hooks.ts';
import { CAPACITY_UNITS, validateAddNode, type AddNodeDraft, type AddNodeErrors, type CapacityUnit } from '../validation.ts';

const EMPTY: AddNodeDraft = { node: '', capacity: '', unit: 'GiB', weight: '' };

/** The form's draft and errors; a valid draft is sent, and cleared once the node is added. */
function useAddNodeDraft() {
  const add = useAddStorageNode();
  const [draft, setDraft] = useState<AddNodeDraft>(EMPTY);
  const [errors, setErrors] = useState<AddNodeErrors>({});

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const res = validateAddNode(draft);
    if (!res.ok) return setErrors(res.errors);
    setErrors({});
    add.mutate(res.input, { onSuccess: () => setDraft(EMPTY) });
  };
  return { add, draft, setDraft, errors, submit };
}

/** Scale-up: nodes.addStorageNode, checked with ZStorageNodeAddInputSchema before it is sent. */
export function AddNodeForm() {
  const { add, draft, setDraft, errors, submit } = useAddNodeDraft();
  return (
    <form onSubmit={submit} noValidate aria-label="Add a storage node">
      <Stack gap="xs">
        <Text size="sm" fw={500}>
          Add a storage node
        </Text>
        <AddNodeFields draft={draft} setDraft={setDraft} errors={errors} />
        <Group gap="xs">
          <Button type="submit" size="sm" variant="light" loading={add.isPending} disabled={add.isPending}>
            Add node
          </Button>
          <Text size="xs" c="dimmed">
            Capacity and weight are optional: without a capacity the node gets the configured default (STORAGE_NODE_CAPACITY), and the
            weight counts for the weighted strategy.
          </Text>
        </Group>
      </Stack>
    </form>
  );
}

/** Name, capacity with its unit, and weight. */
function AddNodeFields({
  draft,
  setDraft,
  errors,
}: {
  draft: AddNodeDraft;
  setDraft: Dispatch<SetStateAction<AddNodeDraft>>;
  errors: AddNodeErrors;
}) {
  return (
    <Group gap="xs" align="flex-start" wrap="wrap">
      <TextInput
        label="Name"
        placeholder="st4"
        value={draft.node}
        onChange={(e) => {
          const node = e.currentTarget.value;
          setDraft((d) => ({ ...d, node }));
        }}
        error={errors.node}
        style={{ flex: '1 1 120px' }}
        size="sm"
      />
      <Group gap={4} align="flex-start" wrap="nowrap" style={{ flex: '1 1 170px' }}>
        <NumberInput
          label="Capacity"
          placeholder="default"
          value={draft.capacity}
          onChange={(v) => setDraft((d) => ({ ...d, capacity: v }))}
          error={errors.capacity}
          min={0}
          decimalScale={2}
          clampBehavior="none"
          size="sm"
          style={{ flex: 1 }}
        />
        <NativeSelect
          label="Unit"
          aria-label="Capacity unit"
          data={Object.keys(CAPACITY_UNITS)}
          value={draft.unit}
          onChange={(e) => {
            const unit = e.currentTarget.value as CapacityUnit;
            setDraft((d) => ({ ...d, unit }));
          }}
          size="sm"
          w={80}
        />
      </Group>
      <NumberInput
        label="Weight"
        placeholder="1"
        value={draft.weight}
        onChange={(v) => setDraft((d) => ({ ...d, weight: v }))}
        error={errors.weight}
        allowDecimal={false}
        clampBehavior="none"
        size="sm"
        style={{ flex: '0 1 90px' }}
      />
    </Group>
  );
}
