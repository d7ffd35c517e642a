import { Card, Progress, Stack, Text, Title } from '@mantine/core';

import type { ProgressEvent } from '../hooks.ts';

const KIND_LABEL = { generate: 'Generating files', schedule: 'Running the scheduler' } as const;

/** Progress bars of the jobs seen since the page opened (workload.onProgress). */
export function ProgressPanel({ jobs }: { jobs: ProgressEvent[] }) {
  return (
    <Card withBorder padding="md" component="section" aria-labelledby="progress-title">
      <Title order={3} fz="md" mb="xs" id="progress-title">
        Progress
      </Title>
      {jobs.length === 0 ? (
        <Text size="sm" c="dimmed">
          No job running. Creating files or running the scheduler shows its progress here.
        </Text>
      ) : (
        <Stack gap="sm" data-testid="workload-progress">
          {jobs.map((j) => {
            const pct = j.total > 0 ? Math.round((j.done / j.total) * 100) : 0;
            return (
              <div key={`${j.jobId}-${j.kind}`} data-testid="progress-job" data-finished={j.finished} data-kind={j.kind}>
                <Text size="sm" fw={500}>
                  {KIND_LABEL[j.kind]} {j.total > 1 ? `${j.done}/${j.total}` : ''} {j.finished ? '· finished' : ''}
                </Text>
                <Progress
                  value={pct}
                  animated={!j.finished}
                  striped={!j.finished}
                  color={j.message.startsWith('failed') ? 'red' : j.finished ? 'teal' : 'indigo'}
                  aria-label={`${KIND_LABEL[j.kind]}: ${pct}%`}
                  mt={4}
                />
                <Text size="xs" c="dimmed" mt={2}>
                  {j.message}
                </Text>
              </div>
            );
          })}
        </Stack>
      )}
    </Card>
  );
}
