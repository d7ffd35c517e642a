import { Badge, Button, Group, Text, Tooltip } from '@mantine/core';

import { authStore } from '../auth-store.ts';
import { useMe, useReadOnly } from '../hooks.ts';

/** The header's "who am I": identity, a read-only badge for viewers and read-only servers, and logout. */
export function IdentityMenu() {
  const me = useMe();
  const readOnly = useReadOnly();
  if (!me) return null;
  // Open local mode: nobody logs in, and the header stays as it always was.
  if (me.kind === 'local' && !readOnly) return null;
  return (
    <Group gap="xs" wrap="nowrap">
      {readOnly && (
        <Tooltip label={me.readOnly ? 'The server is in read-only mode: changes are refused' : 'Viewer role: changes are refused'}>
          <Badge color="orange" variant="light" data-testid="read-only-badge">
            read-only
          </Badge>
        </Tooltip>
      )}
      {me.kind !== 'local' && (
        <Text size="sm" data-testid="identity" title={`${me.actor} (${me.role})`} visibleFrom="sm">
          {me.name} · {me.role}
        </Text>
      )}
      {me.kind === 'session' && (
        <Button size="xs" variant="default" onClick={() => void authStore.logout()}>
          Log out
        </Button>
      )}
    </Group>
  );
}
