import { Alert, Badge, Button, Card, Group, NumberInput, SimpleGrid, Stack, Switch, Text, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';

import { ErrorState, Loading } from '../../../components/query-state.tsx';
import { formatAgo, formatBytes, formatNumber } from '../../../lib/format.ts';
import { validateGenerator, type GeneratorDraft, type GeneratorErrors, type GeneratorField } from '../generator-validation.ts';
import { useConfigureGenerator, useGeneratorState, useStartGenerator, useStopGenerator, type GeneratorState } from '../hooks.ts';

function Stat({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="sm" fw={600} data-testid={testId}>
        {value}
      </Text>
    </div>
  );
}

const FIELDS: { field: GeneratorField; label: string; decimals?: boolean }[] = [
  { field: 'intervalSec', label: 'Interval (s)', decimals: true },
  { field: 'maxFiles', label: 'Max files' },
  { field: 'minSizeKb', label: 'Min size (KiB)' },
  { field: 'maxSizeKb', label: 'Max size (KiB)' },
  { field: 'extraClients', label: 'Extra clients' },
];

function draftOf(s: GeneratorState): GeneratorDraft {
  return { intervalSec: s.intervalSec, maxFiles: s.maxFiles, minSizeKb: s.minSizeKb, maxSizeKb: s.maxSizeKb, extraClients: s.extraClients };
}

function GeneratorForm({ state }: { state: GeneratorState }) {
  const configure = useConfigureGenerator();
  const [draft, setDraft] = useState<GeneratorDraft>(() => draftOf(state));
  const [errors, setErrors] = useState<GeneratorErrors>({});
  const saved = draftOf(state);
  const dirty = FIELDS.some(({ field }) => String(draft[field]) !== String(saved[field]));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const res = validateGenerator(draft, saved as Record<GeneratorField, number>);
    if (!res.ok) return setErrors(res.errors);
    setErrors({});
    if (Object.keys(res.patch).length > 0) configure.mutate(res.patch);
  };

  return (
    <form onSubmit={submit} noValidate aria-label="Workload generator settings">
      <Stack gap="sm">
        <SimpleGrid cols={{ base: 2, sm: 3 }} spacing="sm">
          {FIELDS.map(({ field, label, decimals }) => (
            <NumberInput
              key={field}
              label={label}
              value={draft[field]}
              onChange={(v) => setDraft((d) => ({ ...d, [field]: v }))}
              error={errors[field]}
              allowDecimal={decimals ?? false}
              clampBehavior="none"
              size="xs"
            />
          ))}
        </SimpleGrid>
        <Group gap="xs">
          <Button type="submit" size="xs" disabled={!dirty || configure.isPending} loading={configure.isPending}>
            Save generator settings
          </Button>
          {dirty && (
            <Button size="xs" variant="subtle" onClick={() => (setDraft(saved), setErrors({}))} disabled={configure.isPending}>
              Reset
            </Button>
          )}
        </Group>
      </Stack>
    </form>
  );
}

/** The demo workload generator (workload.state / start / stop / configure), refreshed by its own operations. */
export function GeneratorCard() {
  const state = useGeneratorState();
  const start = useStartGenerator();
  const stop = useStopGenerator();
  const busy = start.isPending || stop.isPending;
  const s = state.data;
  // While a start or stop is in flight the switch shows where it is going, then the server's answer.
  const checked = start.isPending ? true : stop.isPending ? false : (s?.running ?? false);

  return (
    <Card withBorder padding="md" component="section" aria-labelledby="generator-title" data-testid="workload-generator">
      <Group justify="space-between" mb="xs" wrap="nowrap">
        <Group gap="xs">
          <Title order={3} fz="md" id="generator-title">
            Demo workload generator
          </Title>
          {s && (
            <Badge color={s.running ? 'teal' : 'gray'} variant={s.running ? 'filled' : 'light'} data-testid="generator-status">
              {s.running ? 'running' : 'off'}
            </Badge>
          )}
        </Group>
        {s && (
          <Switch
            label="Generate"
            checked={checked}
            disabled={busy}
            onChange={(e) => (e.currentTarget.checked ? start.mutate() : stop.mutate())}
            data-testid="generator-switch"
          />
        )}
      </Group>
      {state.isPending ? (
        <Loading label="Loading the generator…" />
      ) : state.isError ? (
        <ErrorState title="Could not load the workload generator" error={state.error} />
      ) : (
        <Stack gap="sm">
          <Text size="sm" c="dimmed">
            Uploads a few files every tick (sometimes all to one hot node), walks tasks through their states and holds extra ZooKeeper
            sessions. It only deletes its own files.
          </Text>
          <SimpleGrid cols={{ base: 2, sm: 3 }} spacing="xs">
            <Stat label="Ticks" value={formatNumber(state.data.ticks)} testId="generator-ticks" />
            <Stat label="Last tick" value={formatAgo(state.data.lastTickAt)} testId="generator-last-tick" />
            <Stat
              label="Files owned"
              value={`${formatNumber(state.data.filesOwned)} / ${formatNumber(state.data.maxFiles)}`}
              testId="generator-files"
            />
            <Stat
              label="Bytes owned"
              value={`${formatBytes(state.data.bytesOwned)} / ${formatBytes(state.data.maxBytes)}`}
              testId="generator-bytes"
            />
            <Stat label="Sessions held" value={`${state.data.clientsHeld} / ${state.data.extraClients}`} testId="generator-sessions" />
          </SimpleGrid>
          {state.data.lastError && (
            <Alert color="red" title="Last error" data-testid="generator-error">
              {state.data.lastError}
            </Alert>
          )}
          <GeneratorForm key={JSON.stringify(draftOf(state.data))} state={state.data} />
        </Stack>
      )}
    </Card>
  );
}
