import { Button, Card, Group, NumberInput, Stack, Switch, Text, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';

import { ZSchedulerConfigPatchSchema } from '@zkha/core/schemas';

import { ErrorState, Loading } from '../../../components/query-state.tsx';
import { useSchedulerConfig, useSetSchedulerConfig, type SchedulerConfig } from '../hooks.ts';

/** zod's default wording ("Too small: expected number to be >=1") in the form's words. */
function plainIssue(issue: { code: string; message: string; minimum?: number | bigint; maximum?: number | bigint }): string {
  if (issue.code === 'too_small' && issue.minimum !== undefined) return `must be at least ${String(issue.minimum)}`;
  if (issue.code === 'too_big' && issue.maximum !== undefined) return `must be at most ${String(issue.maximum)}`;
  if (issue.code === 'invalid_type') return 'enter a number';
  return issue.message;
}

/** What the threshold counts in, per strategy (see core's balance.ts). */
const THRESHOLD_UNIT: Record<NonNullable<SchedulerConfig['strategy']>, string> = {
  count: 'files',
  weighted: 'files per unit of weight',
  bytes: 'average-sized files',
  utilization: 'percentage points of capacity',
};

type Draft = { threshold: number | string; intervalSec: number | string; enabled: boolean };
type Errors = Partial<Record<'threshold' | 'intervalSec', string>>;

function ConfigForm({ config }: { config: SchedulerConfig }) {
  const save = useSetSchedulerConfig();
  const [draft, setDraft] = useState<Draft>(config);
  const [errors, setErrors] = useState<Errors>({});
  const dirty = draft.threshold !== config.threshold || draft.intervalSec !== config.intervalSec || draft.enabled !== config.enabled;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = ZSchedulerConfigPatchSchema.safeParse({
      threshold: draft.threshold === '' ? undefined : Number(draft.threshold),
      intervalSec: draft.intervalSec === '' ? undefined : Number(draft.intervalSec),
      enabled: draft.enabled,
    });
    if (!parsed.success) {
      const next: Errors = {};
      for (const i of parsed.error.issues) {
        const f = i.path[0];
        if (f === 'threshold' || f === 'intervalSec') next[f] ??= plainIssue(i);
      }
      setErrors(next);
      return;
    }
    setErrors({});
    save.mutate(parsed.data);
  };

  return (
    <form onSubmit={submit} noValidate aria-label="Scheduler settings">
      <Stack gap="sm">
        <Group grow align="flex-start">
          <NumberInput
            label="Threshold (files)"
            description={`Plan moves while the spread (max − min) reaches this, in ${THRESHOLD_UNIT[config.strategy ?? 'count']}`}
            value={draft.threshold}
            onChange={(v) => setDraft((d) => ({ ...d, threshold: v }))}
            error={errors.threshold}
            allowDecimal={false}
            clampBehavior="none"
          />
          <NumberInput
            label="Interval (seconds)"
            description="Between automatic rounds"
            value={draft.intervalSec}
            onChange={(v) => setDraft((d) => ({ ...d, intervalSec: v }))}
            error={errors.intervalSec}
            clampBehavior="none"
          />
        </Group>
        <Switch
          label="Automatic runs"
          checked={draft.enabled}
          onChange={(e) => {
            const enabled = e.currentTarget.checked;
            setDraft((d) => ({ ...d, enabled }));
          }}
        />
        <Group>
          <Button type="submit" disabled={!dirty || save.isPending} loading={save.isPending}>
            Save settings
          </Button>
          {dirty && (
            <Button variant="subtle" onClick={() => (setDraft(config), setErrors({}))} disabled={save.isPending}>
              Reset
            </Button>
          )}
        </Group>
      </Stack>
    </form>
  );
}

/** scheduler.config / scheduler.setConfig: threshold, interval and automatic runs. */
export function SchedulerConfigCard() {
  const config = useSchedulerConfig();
  return (
    <Card withBorder padding="md" component="section" aria-labelledby="config-title">
      <Title order={3} fz="md" id="config-title" mb="xs">
        Scheduler settings
      </Title>
      {config.isPending ? (
        <Loading label="Loading the settings…" />
      ) : config.isError ? (
        <ErrorState title="Could not load the scheduler settings" error={config.error} />
      ) : (
        // Keyed by the saved values: a change made elsewhere (another tab) resets the form to it.
        <ConfigForm key={`${config.data.threshold}-${config.data.intervalSec}-${config.data.enabled}`} config={config.data} />
      )}
      {config.data && (
        <Text size="xs" c="dimmed" mt="xs" data-testid="config-mode">
          Mode {config.data.mode ?? 'whole_plan'}, strategy {config.data.strategy ?? 'count'} (change them with the CLI: zkha scheduler
          config --mode / --strategy).
        </Text>
      )}
      <Text size="xs" c="dimmed" mt="xs">
        Changes apply at once and are recorded in the operations log.
      </Text>
    </Card>
  );
}
