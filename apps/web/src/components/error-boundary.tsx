import { Alert, Button, Stack, Text } from '@mantine/core';
import { Component, type ReactNode } from 'react';

interface State {
  error: Error | null;
}

/** A page that throws shows what went wrong and a way out, instead of a blank console. */
export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <Alert color="red" title="This view failed" role="alert">
        <Stack gap="xs">
          <Text size="sm">{this.state.error.message}</Text>
          <Button variant="light" color="red" w="fit-content" onClick={() => this.setState({ error: null })}>
            Try again
          </Button>
        </Stack>
      </Alert>
    );
  }
}
