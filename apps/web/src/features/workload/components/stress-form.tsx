import { Alert, Button, Card, Checkbox, Group, NumberInput, Select, Stack, Text, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';

import { useNodeNames } from '../../nodes/hooks.ts';
import { runSummary } from '../../scheduler/format.ts';
import { useStress, type StressResult } from '../hooks.ts';
import { validateStress, type StressFieldErrors, type StressFormValues } from '../stress-validation.ts';

function ResultLine({ result }: { result: StressResult }) {
  const s = result.scheduler;
  return (
    <Alert
      color="teal"
      variant="light"
      title={`Created ${result.created} files on ${result.node ?? 'the cluster'}`}
      data-testid="stress-result"
    >
      <Text size="sm">
        Counts now:{' '}
        {Object.entries(result.counts)
          .map(([n, c]) => `${n} ${c}`)
          .join(', ')}
      </Text>
      {s && (
        <Text size="sm" data-testid="stress-scheduler">
          Scheduler: {runSummary(s)}
        </Text>
      )}
    </Alert>
  );
}

/**
 * The form's values and field errors, the node shown (the chosen one while it exists, else the first), and the
 * submit that validates before the stress mutation runs.
 */
function useStressForm() {
  const nodes = useNodeNames();
  const stress = useStress();
  const [values, setValues] = useState<StressFormValues>({ node: 'zk1', files: 12, sizeKb: 128, triggerScheduler: true });
  const [errors, setErrors] = useState<StressFieldErrors>({});
  const node = values.node && (nodes.length === 0 || nodes.includes(values.node)) ? values.node : (nodes[0] ?? null);

  const set = <K extends keyof StressFormValues>(key: K, value: StressFormValues[K]) => {
    setValues((v) => ({ ...v, [key]: value }));
    if (key in errors) setErrors((e) => ({ ...e, [key]: undefined }));
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const checked = validateStress({ ...values, node });
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setErrors({});
    stress.mutate(checked.input);
  };

  return { nodes, node, values, errors, set, submit, stress };
}

/** The smart scheduling demo tool: pile files on one node, optionally run the scheduler right after. */
export function StressForm() {
  const { nodes, node, values, errors, set, submit, stress } = useStressForm();

  return (
    <Card withBorder padding="md" component="section" aria-labelledby="stress-title">
      <form onSubmit={submit} noValidate aria-label="Create files on a node">
        <Stack gap="sm">
          <div>
            <Title order={3} fz="md" id="stress-title">
              Smart scheduling demo
            </Title>
            <Text size="sm" c="dimmed">
              Pile files on one node to create an imbalance, then watch the scheduler even it out.
            </Text>
          </div>
          <Select
            label="Target node"
            data={nodes}
            value={node}
            onChange={(v) => set('node', v)}
            error={errors.node}
            allowDeselect={false}
            placeholder={nodes.length ? 'Choose a node' : 'Waiting for the nodes…'}
            data-testid="stress-node"
          />
          <Group grow align="flex-start">
            <NumberInput
              label="Number of files"
              value={values.files}
              onChange={(v) => set('files', v)}
              error={errors.files}
              allowDecimal={false}
              clampBehavior="none"
              thousandSeparator=","
              data-testid="stress-files"
            />
            <NumberInput
              label="Size (KiB)"
              value={values.sizeKb}
              onChange={(v) => set('sizeKb', v)}
              error={errors.sizeKb}
              allowDecimal={false}
              clampBehavior="none"
              data-testid="stress-size"
            />
          </Group>
          <Checkbox
            label="Run the scheduler right after"
            checked={values.triggerScheduler}
            onChange={(e) => set('triggerScheduler', e.currentTarget.checked)}
          />
          <Group>
            <Button type="submit" loading={stress.isPending} disabled={stress.isPending}>
              Create files
            </Button>
          </Group>
          {stress.data && <ResultLine result={stress.data} />}
        </Stack>
      </form>
    </Card>
  );
}
