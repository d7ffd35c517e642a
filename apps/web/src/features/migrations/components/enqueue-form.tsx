import { Alert, Button, Group, NumberInput, Text, TextInput } from '@mantine/core';
import { useState, type FormEvent } from 'react';

import { formatBytes } from '../../../lib/format.ts';
import { useEnqueuePlan, type WholePlan } from '../hooks.ts';
import { validateEnqueue, type EnqueueErrors } from '../validation.ts';

/**
 * "Queue this plan": priority 1–10 and an optional deadline, checked with the API's schema. The server plans
 * again when it queues (the same strategy, so the same moves unless files changed meanwhile).
 */
export function EnqueueForm({ plan, openTasks }: { plan: WholePlan; openTasks: number }) {
  const enqueue = useEnqueuePlan();
  const [priority, setPriority] = useState<number | string>(5);
  const [deadline, setDeadline] = useState('');
  const [errors, setErrors] = useState<EnqueueErrors>({});
  const nothing = plan.moves.length === 0;
  // The dry run counts queued files where they are now, so planning again before the queue drains would
  // repeat part of its work: queueing waits until the open tasks are done or cancelled.
  const busy = openTasks > 0;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const res = validateEnqueue({ strategy: plan.strategy, priority, deadline }, Date.now());
    if (!res.ok) return setErrors(res.errors);
    setErrors({});
    enqueue.mutate(res.input);
  };

  return (
    <form onSubmit={submit} noValidate aria-label="Queue this plan">
      <Group align="flex-start" gap="sm" wrap="wrap">
        <NumberInput
          label="Priority"
          description="1 (low) to 10 (high)"
          value={priority}
          onChange={setPriority}
          error={errors.priority}
          allowDecimal={false}
          clampBehavior="none"
          w={130}
        />
        <TextInput
          type="datetime-local"
          label="Deadline"
          description="Optional"
          value={deadline}
          onChange={(e) => setDeadline(e.currentTarget.value)}
          error={errors.deadline}
          w={220}
        />
        <Button type="submit" mt={{ base: 0, xs: 42 }} disabled={nothing || busy || enqueue.isPending} loading={enqueue.isPending}>
          {nothing
            ? 'Nothing to queue'
            : `Queue ${plan.moves.length} ${plan.moves.length === 1 ? 'move' : 'moves'} (${formatBytes(plan.bytesToMove)})`}
        </Button>
      </Group>
      {busy && !nothing && (
        <Alert color="blue" variant="light" mt="sm" data-testid="enqueue-busy">
          <Text size="sm">
            {openTasks} {openTasks === 1 ? 'task is' : 'tasks are'} still queued or running. This dry run already counts their files on
            their targets: it is what remains after them. Let the queue finish first, or cancel it, to plan afresh.
          </Text>
        </Alert>
      )}
    </form>
  );
}
