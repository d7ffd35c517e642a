import {
  Badge,
  Button,
  Card,
  Checkbox,
  Fieldset,
  Group,
  NativeSelect,
  NumberInput,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Switch,
  Text,
  Title,
} from '@mantine/core';
import { useState, type FormEvent } from 'react';

import { Loading } from '../../../components/query-state.tsx';
import { formatAgo, formatTime } from '../../../lib/format.ts';
import { formatRate } from '../format.ts';
import {
  useAdaptiveState,
  useCapChanges,
  useSetAdaptive,
  useSetCaps,
  useSetPolicy,
  type MigrationCaps,
  type OrderingPolicy,
} from '../hooks.ts';
import { BANDWIDTH_UNITS, draftFromCaps, validateCaps, type BandwidthUnit, type CapsDraft, type CapsErrors } from '../validation.ts';

const COUNT_INPUTS = [
  { field: 'maxConcurrent', label: 'Overall' },
  { field: 'maxPerNodeOut', label: 'Out per node' },
  { field: 'maxPerNodeIn', label: 'In per node' },
] as const;

type EditCaps = (patch: Partial<CapsDraft>) => void;

/** The caps form's draft (null until a field is touched), its validation, and the save of the fields that differ. */
function useCapsDraft(caps: MigrationCaps) {
  const save = useSetCaps();
  const [draft, setDraft] = useState<CapsDraft | null>(null);
  const [errors, setErrors] = useState<CapsErrors>({});
  const values = draft ?? draftFromCaps(caps);
  const edit: EditCaps = (patch) => setDraft({ ...values, ...patch });
  const reset = () => {
    setDraft(null);
    setErrors({});
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const res = validateCaps(values, caps);
    if (!res.ok) return setErrors(res.errors);
    setErrors({});
    if (Object.keys(res.patch).length === 0) return reset();
    save.mutate(res.patch, { onSuccess: reset });
  };
  return { save, touched: draft !== null, values, errors, edit, reset, submit };
}

/**
 * The caps, editable while migrations run. The form shows the live caps until a field is touched; from then on
 * it holds the draft (a cap changed meanwhile, by adaptive mode or another tab, does not overwrite the typing),
 * and only the fields that differ are sent.
 */
function CapsForm({ caps }: { caps: MigrationCaps }) {
  const { save, touched, values, errors, edit, reset, submit } = useCapsDraft(caps);
  return (
    <form onSubmit={submit} noValidate aria-label="Migration caps">
      <Stack gap="sm">
        <ConcurrencyFields values={values} errors={errors} edit={edit} />
        <BandwidthFields values={values} errors={errors} edit={edit} />
        <Group gap="xs">
          <Button type="submit" size="sm" disabled={!touched || save.isPending} loading={save.isPending}>
            Save caps
          </Button>
          {touched && (
            <Button size="sm" variant="subtle" onClick={reset} disabled={save.isPending}>
              Reset
            </Button>
          )}
        </Group>
      </Stack>
    </form>
  );
}

function ConcurrencyFields({ values, errors, edit }: { values: CapsDraft; errors: CapsErrors; edit: EditCaps }) {
  return (
    <Fieldset legend="Max concurrent migrations" variant="unstyled">
      <Text size="xs" c="dimmed" mb={4}>
        Across the cluster, sent by one node, and received by one node, at once.
      </Text>
      <SimpleGrid cols={3} spacing="xs">
        {COUNT_INPUTS.map(({ field, label }) => (
          <NumberInput
            key={field}
            label={label}
            value={values[field]}
            onChange={(v) => edit({ [field]: v })}
            error={errors[field]}
            allowDecimal={false}
            clampBehavior="none"
            size="sm"
          />
        ))}
      </SimpleGrid>
    </Fieldset>
  );
}

function BandwidthFields({ values, errors, edit }: { values: CapsDraft; errors: CapsErrors; edit: EditCaps }) {
  return (
    <div>
      <Group gap="xs" align="flex-start" wrap="nowrap">
        <NumberInput
          label="Bandwidth per node"
          description="Shared by a node’s inbound and outbound copies"
          value={values.unlimited ? '' : values.bandwidth}
          placeholder={values.unlimited ? 'unlimited' : undefined}
          onChange={(v) => edit({ bandwidth: v, unlimited: false })}
          error={errors.bandwidth}
          min={0}
          clampBehavior="none"
          decimalScale={2}
          size="sm"
          style={{ flex: 1 }}
        />
        <NativeSelect
          label="Unit"
          description=" "
          aria-label="Bandwidth unit"
          data={Object.keys(BANDWIDTH_UNITS)}
          value={values.unit}
          onChange={(e) => edit({ unit: e.currentTarget.value as BandwidthUnit })}
          disabled={values.unlimited}
          size="sm"
          w={96}
        />
      </Group>
      <Checkbox
        mt="xs"
        label="Unlimited bandwidth"
        checked={values.unlimited}
        onChange={(e) => edit({ unlimited: e.currentTarget.checked })}
      />
    </div>
  );
}

const POLICIES: { value: OrderingPolicy; label: string }[] = [
  { value: 'priority', label: 'Priority' },
  { value: 'deadline', label: 'Deadline' },
  { value: 'importance', label: 'Importance' },
];

function PolicySwitch({ policy }: { policy: OrderingPolicy }) {
  const set = useSetPolicy();
  // While the change is in flight, show where it is going; then the live payload's value.
  const value = set.isPending ? set.variables.policy : policy;
  return (
    <div>
      <Text size="sm" fw={500} id="policy-label">
        Ordering policy
      </Text>
      <Text size="xs" c="dimmed" mb={4}>
        Which waiting task starts next: by priority, by earliest deadline, or by a score of both and size.
      </Text>
      <SegmentedControl
        size="xs"
        value={value}
        onChange={(v) => set.mutate({ policy: v })}
        data={POLICIES}
        disabled={set.isPending}
        aria-labelledby="policy-label"
        data-testid="policy-switch"
      />
    </div>
  );
}

function AdaptiveSwitch() {
  const state = useAdaptiveState();
  const set = useSetAdaptive();
  const checked = set.isPending ? set.variables.enabled : state.enabled;
  return (
    <div>
      <Switch
        label="Adaptive caps"
        description="Lower the caps when CPU load, event-loop lag or ZooKeeper latency run high; raise them again as they recover."
        checked={checked}
        disabled={set.isPending || state.isPending}
        onChange={(e) => set.mutate({ enabled: e.currentTarget.checked })}
        data-testid="adaptive-switch"
      />
      {state.at && (
        <Text size="xs" c="dimmed" mt={4} ml={54}>
          Switched {state.enabled ? 'on' : 'off'} {formatAgo(state.at)}
        </Text>
      )}
    </div>
  );
}

function capsLine(c: Partial<MigrationCaps>): string {
  const parts: string[] = [];
  if (c.maxConcurrent !== undefined) parts.push(`concurrent ${c.maxConcurrent}`);
  if (c.maxPerNodeOut !== undefined) parts.push(`out ${c.maxPerNodeOut}`);
  if (c.maxPerNodeIn !== undefined) parts.push(`in ${c.maxPerNodeIn}`);
  if (c.bandwidthBytesPerSec !== undefined)
    parts.push(`bandwidth ${c.bandwidthBytesPerSec === null ? 'unlimited' : formatRate(c.bandwidthBytesPerSec)}`);
  return parts.join(', ');
}

/** The latest cap changes and their cause: an operator, or adaptive mode with the signal that moved it. */
function CapChanges() {
  const changes = useCapChanges();
  const items = changes.data?.items ?? [];
  if (items.length === 0) return null;
  return (
    <div data-testid="cap-changes">
      <Text size="sm" fw={500} mb={4}>
        Recent cap changes
      </Text>
      <Stack gap={4}>
        {items.map((op) => {
          const cause = typeof op.details.cause === 'string' ? op.details.cause : 'operator';
          const patch = (op.details.patch ?? {}) as Partial<MigrationCaps>;
          const adaptive = cause.startsWith('adaptive');
          return (
            <Group key={op.id} gap={6} wrap="nowrap" align="flex-start">
              <Badge size="xs" variant="light" color={adaptive ? 'grape' : 'gray'} style={{ flexShrink: 0 }}>
                {adaptive ? 'adaptive' : 'operator'}
              </Badge>
              <Text size="xs">
                {capsLine(patch)}
                {adaptive && (
                  <Text span c="dimmed" inherit>
                    {' '}
                    — {cause.replace(/^adaptive:\s*/, '')}
                  </Text>
                )}
                <Text span c="dimmed" inherit title={formatTime(op.timestamp)}>
                  {' '}
                  · {formatAgo(op.timestamp)}
                </Text>
              </Text>
            </Group>
          );
        })}
      </Stack>
    </div>
  );
}

/** migrations.setCaps / setPolicy / setAdaptive, all applied while the queue runs. */
export function CapsCard({ caps, policy }: { caps: MigrationCaps | undefined; policy: OrderingPolicy | undefined }) {
  return (
    <Card withBorder padding="md" component="section" aria-labelledby="caps-title" data-testid="caps-card">
      <Title order={3} fz="md" id="caps-title" mb="xs">
        Impact control
      </Title>
      {!caps || !policy ? (
        <Loading label="Loading the caps…" />
      ) : (
        <Stack gap="md">
          <CapsForm caps={caps} />
          <PolicySwitch policy={policy} />
          <AdaptiveSwitch />
          <CapChanges />
          <Text size="xs" c="dimmed">
            Changes apply to running migrations at once and are recorded in the operations log.
          </Text>
        </Stack>
      )}
    </Card>
  );
}
