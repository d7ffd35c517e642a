import {
  ActionIcon,
  AppShell as MantineAppShell,
  Badge,
  Burger,
  Center,
  Group,
  Loader,
  NavLink,
  Text,
  Title,
  useComputedColorScheme,
  useMantineColorScheme,
} from '@mantine/core';
import { useDisclosure, useMediaQuery } from '@mantine/hooks';
import { Suspense } from 'react';
import { NavLink as RouterNavLink, Outlet, useLocation } from 'react-router';

import { IdentityMenu } from '../features/auth/components/identity-menu.tsx';
import { ConnectionBanner } from '../features/connection/components/connection-banner.tsx';
import { useConnectionLost } from '../features/connection/hooks.ts';
import { NodesLiveContext, useNodesStatusSubscription, type NodesLive } from '../features/nodes/hooks.ts';
import { ErrorBoundary } from './error-boundary.tsx';

const LINKS = [
  { to: '/', label: 'Overview', end: true },
  { to: '/workload', label: 'Workload' },
  { to: '/logs', label: 'Logs' },
  { to: '/files', label: 'Files' },
  { to: '/migrations', label: 'Migrations' },
  { to: '/ensemble', label: 'Ensemble' },
  { to: '/znodes', label: 'Znodes' },
] as const;

function ClusterChip({ live }: { live: NodesLive }) {
  const lost = useConnectionLost();
  const summary = live.data?.summary;
  if (!summary)
    return (
      <Badge variant="light" color="gray">
        connecting…
      </Badge>
    );
  if (lost) {
    // The last answer may no longer be true: say so rather than show a confident green chip.
    return (
      <Badge variant="outline" color="gray" data-testid="header-quorum">
        last known: {summary.quorum ? `leader ${summary.leader}` : 'no quorum'}
      </Badge>
    );
  }
  return summary.quorum ? (
    <Badge variant="light" color="teal" data-testid="header-quorum" title={`${summary.upCount} of ${summary.size} servers up`}>
      quorum ok
      <Text span inherit visibleFrom="xs">
        {' '}
        · {summary.upCount}/{summary.size} up
      </Text>{' '}
      · leader {summary.leader}
    </Badge>
  ) : (
    <Badge variant="filled" color="red" data-testid="header-quorum">
      no quorum · {summary.upCount}/{summary.size} up
    </Badge>
  );
}

function ColorSchemeToggle() {
  const { setColorScheme } = useMantineColorScheme();
  const scheme = useComputedColorScheme('light');
  const next = scheme === 'dark' ? 'light' : 'dark';
  return (
    <ActionIcon variant="default" size="lg" aria-label={`Switch to ${next} theme`} onClick={() => setColorScheme(next)}>
      <Text span fz="sm" aria-hidden>
        {scheme === 'dark' ? '☀' : '☾'}
      </Text>
    </ActionIcon>
  );
}

/** Header, navigation and the connection banner around every page; holds the one nodes stream of the tab. */
export function AppShell() {
  const [opened, { toggle, close }] = useDisclosure(false);
  // Below the sm breakpoint the navbar slides away when closed: keep its links out of the tab order then.
  const narrow = useMediaQuery('(max-width: 48em)');
  const live = useNodesStatusSubscription();
  const location = useLocation();
  return (
    <NodesLiveContext.Provider value={live}>
      <MantineAppShell header={{ height: 56 }} navbar={{ width: 200, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
        <MantineAppShell.Header>
          <Group h="100%" px="md" justify="space-between" wrap="nowrap">
            <Group gap="sm" wrap="nowrap">
              <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
              <Title order={3} fz="lg">
                zkha
              </Title>
              <Text c="dimmed" fz="sm" visibleFrom="md">
                ZooKeeper control plane
              </Text>
            </Group>
            <Group gap="sm" wrap="nowrap">
              <ClusterChip live={live} />
              <IdentityMenu />
              <ColorSchemeToggle />
            </Group>
          </Group>
        </MantineAppShell.Header>
        <MantineAppShell.Navbar p="xs" component="nav" aria-label="Main navigation" inert={narrow && !opened}>
          {LINKS.map((link) => (
            <NavLink
              key={link.to}
              component={RouterNavLink}
              to={link.to}
              end={'end' in link ? link.end : false}
              label={link.label}
              active={link.to === '/' ? location.pathname === '/' : location.pathname.startsWith(link.to)}
              onClick={close}
            />
          ))}
        </MantineAppShell.Navbar>
        <MantineAppShell.Main>
          <ConnectionBanner />
          <ErrorBoundary key={location.pathname}>
            <Suspense
              fallback={
                <Center h={200}>
                  <Loader aria-label="Loading page" />
                </Center>
              }
            >
              <Outlet />
            </Suspense>
          </ErrorBoundary>
        </MantineAppShell.Main>
      </MantineAppShell>
    </NodesLiveContext.Provider>
  );
}
