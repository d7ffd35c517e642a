import { Anchor, Stack, Text, Title } from '@mantine/core';
import { Link } from 'react-router';

export function NotFoundPage() {
  return (
    <Stack>
      <Title order={2}>Page not found</Title>
      <Text>
        There is no page here. Go back to the{' '}
        <Anchor component={Link} to="/">
          overview
        </Anchor>
        .
      </Text>
    </Stack>
  );
}
