import { Alert, Badge, Button, Card, Group, NumberInput, SimpleGrid, Skeleton, Stack, Switch, Text, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';

import { Fact } from '../../../components/fact.tsx';
import { ErrorState } from '../../../components/query-state.tsx';
import { formatAgo, formatTime } from '../../../lib/format.ts';
import { formatDuration } from '../../../lib/format.ts';
import { formatScore } from '../format.ts';
import { usePolicy, useRecommendations, useSetPolicy, type Recommendation, type Recommendations, type ScalingPolicy } from '../hooks.ts';
import {
  draftFromPolicy,
  POLICY_FIELDS,
  POLICY_LABELS,
  policyDirty,
  validatePolicy,
  type PolicyDraft,
  type PolicyErrors,
  type PolicyField,
} from '../policy-validation.ts';

const ACTION_LABEL: Record<Recommendation['action'], { label: string; color: string }> = {
  scale_up: { label: 'scale up', color: 'red' },
  scale_down: { label: 'scale down', color: 'blue' },
  none: { label: 'no change', color: 'teal' },
};

const BLOCK_LABEL: Record<NonNullable<Recommendation['blockedBy']>, string> = {
  cooldown: 'waiting for the cool-down',
  max_voters: 'at the maximum voters',
  min_voters: 'at the minimum voters',
  not_enough_history: 'not enough history yet',
};

/** The recommendation with the figures of the window it looked at. */
function RecommendationView({ data }: { data: Recommendations }) {
  const r = data.recommendation;
  const f = r.figures;
  const action = ACTION_LABEL[r.action];
  return (
    <Stack gap="sm" data-testid="recommendation" data-action={r.action} data-blocked={r.blockedBy ?? ''}>
      <Group gap="xs" wrap="wrap">
        <Badge color={action.color} variant={r.action === 'none' ? 'light' : 'filled'} data-testid="recommendation-action">
          {action.label}
        </Badge>
        {r.action !== 'none' && (
          <Badge variant="outline" color="gray">
            {r.currentVoters} → {r.targetVoters} voters
          </Badge>
        )}
        {r.blockedBy && (
          <Badge color="yellow" variant="light" data-testid="recommendation-blocked">
            {BLOCK_LABEL[r.blockedBy]}
          </Badge>
        )}
        <Badge color={data.policy.auto ? 'orange' : 'gray'} variant="light" data-testid="recommendation-auto">
          automatic mode {data.policy.auto ? 'on' : 'off'}
        </Badge>
      </Group>
      <Text size="sm" data-testid="recommendation-reason">
        {r.reason}
      </Text>
      <SimpleGrid cols={{ base: 2, sm: 4 }} spacing="xs" verticalSpacing="xs" data-testid="recommendation-figures">
        <Fact weight={500} label="Window">
          {f.windowMinutes} min
        </Fact>
        <Fact weight={500} label="Samples" testId="recommendation-samples">
          {f.samples.toLocaleString()}
        </Fact>
        <Fact weight={500} label="Coverage">
          {Math.round(f.coverage * 100)} %
        </Fact>
        <Fact weight={500} label="Longest gap">
          {formatDuration(f.longestGapMs)}
        </Fact>
        <Fact weight={500} label="Min / mean / max">
          {formatScore(f.min)} / {formatScore(f.mean)} / {formatScore(f.max)}
        </Fact>
        <Fact weight={500} label="Latest">
          {formatScore(f.latest)}
        </Fact>
        <Fact weight={500} label="Up above">
          {f.upThreshold}
        </Fact>
        <Fact weight={500} label="Down below">
          {f.downThreshold}
        </Fact>
      </SimpleGrid>
      {r.cooldownUntil && (
        <Text size="xs" c="dimmed">
          Cool-down until {formatTime(r.cooldownUntil)}.
        </Text>
      )}
      {data.lastAutoAction && (
        <Alert
          color={data.lastAutoAction.status === 'success' ? 'teal' : 'red'}
          title={`Last automatic ${data.lastAutoAction.action.replace('_', ' ')}, ${formatAgo(data.lastAutoAction.at)}`}
        >
          <Text size="sm">{data.lastAutoAction.message}</Text>
        </Alert>
      )}
      {!data.changesSupported && (
        <Text size="xs" c="dimmed">
          The automatic mode cannot act on this deployment: membership changes run on the embedded default only.
        </Text>
      )}
      <Text size="xs" c="dimmed">
        Evaluated {formatTime(r.evaluatedAt)} over {formatTime(f.windowStart)} – {formatTime(f.windowEnd)}; refreshed with the load stream.
      </Text>
    </Stack>
  );
}

const DESCRIPTIONS: Record<PolicyField, string> = {
  upThreshold: 'Ensemble score, 0–100',
  downThreshold: 'Ensemble score, 0–100',
  forMinutes: 'How long it must hold',
  cooldownMinutes: 'Quiet after an automatic change',
  minVoters: 'At least 3',
  maxVoters: 'Odd counts only are used',
};

function PolicyForm({ policy }: { policy: ScalingPolicy }) {
  const save = useSetPolicy();
  const [draft, setDraft] = useState<PolicyDraft>(() => draftFromPolicy(policy));
  const [errors, setErrors] = useState<PolicyErrors>({});
  const dirty = policyDirty(draft, policy);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const res = validatePolicy(draft);
    if (!res.ok) {
      setErrors(res.errors);
      return;
    }
    setErrors({});
    save.mutate(res.policy);
  };

  return (
    <form onSubmit={submit} noValidate aria-label="Scaling policy">
      <Stack gap="sm">
        <Switch
          label="Automatic mode"
          description="Apply recommendations by itself, one server at a time, within the bounds; every change is recorded."
          checked={draft.auto}
          onChange={(e) => {
            const auto = e.currentTarget.checked;
            setDraft((d) => ({ ...d, auto }));
          }}
        />
        <SimpleGrid cols={{ base: 1, xs: 2 }} spacing="sm" verticalSpacing="xs">
          {POLICY_FIELDS.map((f) => (
            <NumberInput
              key={f}
              label={POLICY_LABELS[f]}
              description={DESCRIPTIONS[f]}
              value={draft[f]}
              onChange={(v) => setDraft((d) => ({ ...d, [f]: v }))}
              error={errors[f]}
              clampBehavior="none"
              allowNegative={false}
            />
          ))}
        </SimpleGrid>
        <Group>
          <Button type="submit" disabled={!dirty || save.isPending} loading={save.isPending}>
            Save policy
          </Button>
          {dirty && (
            <Button variant="subtle" onClick={() => (setDraft(draftFromPolicy(policy)), setErrors({}))} disabled={save.isPending}>
              Reset
            </Button>
          )}
        </Group>
      </Stack>
    </form>
  );
}

/** ensemble.recommendations and the policy behind them (ensemble.policy / setPolicy). */
export function ScalingCard() {
  const recs = useRecommendations();
  const policy = usePolicy();
  return (
    <Card withBorder padding="md" component="section" aria-labelledby="scaling-title" data-testid="scaling-card">
      <Title order={3} fz="md" id="scaling-title">
        Scaling
      </Title>
      <Text size="xs" c="dimmed" mb="xs">
        Grow when the ensemble’s load stays above a threshold, shrink when it stays below another; voters move between odd counts.
      </Text>
      <Stack gap="md">
        {recs.isPending ? (
          <Skeleton height={120} aria-label="Loading the recommendation" />
        ) : recs.isError ? (
          <ErrorState title="Could not load the recommendation" error={recs.error} />
        ) : (
          <RecommendationView data={recs.data} />
        )}
        <Title order={4} fz="sm">
          Policy
        </Title>
        {policy.isPending ? (
          <Skeleton height={200} aria-label="Loading the policy" />
        ) : policy.isError ? (
          <ErrorState title="Could not load the scaling policy" error={policy.error} />
        ) : (
          // Keyed by the saved values: a change saved elsewhere (another tab) resets the form to it.
          <PolicyForm key={JSON.stringify(policy.data)} policy={policy.data} />
        )}
      </Stack>
    </Card>
  );
}
