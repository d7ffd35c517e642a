import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';

import { authStore } from '../../features/auth/auth-store.ts';

/** The console's login: an API token (from API_TOKENS or `zkha token create`) opens a session cookie. */
export function LoginPage({ message }: { message: string | null }) {
  const [token, setToken] = useState('');
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(await authStore.login(token.trim(), name.trim() || undefined));
    setBusy(false);
  }

  return (
    <Center mih="100vh" p="md">
      <Paper withBorder shadow="sm" p="xl" w={420} component="main">
        <form onSubmit={(e) => void submit(e)} aria-label="Log in">
          <Stack gap="md">
            <div>
              <Title order={2}>zkha console</Title>
              <Text c="dimmed" size="sm">
                This server needs an API token. Ask its operator for one, or create one on the server with
                <Text span ff="monospace" size="sm">
                  {' '}
                  zkha token create &lt;name&gt; --role viewer
                </Text>
                .
              </Text>
            </div>
            {message && !error && (
              <Alert color="gray" data-testid="login-message">
                {message}
              </Alert>
            )}
            {error && (
              <Alert color="red" title="Not logged in" data-testid="login-error" role="alert">
                {error}
              </Alert>
            )}
            <TextInput
              label="Name"
              description="Optional: the token's name"
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
              autoComplete="username"
            />
            <PasswordInput
              label="Token"
              required
              value={token}
              onChange={(e) => setToken(e.currentTarget.value)}
              autoComplete="current-password"
              data-autofocus
            />
            <Button type="submit" loading={busy} disabled={token.trim() === ''}>
              Log in
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
