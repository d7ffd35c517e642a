import { defineConfig } from 'vitest/config';

// Real Docker engine tier (`npm run test:docker`): starts Debian's dockerd as root on a private socket,
// runs a 3-node ZooKeeper ensemble in containers and drives it through DockerNodeController.
// Installs docker.io / zookeeper when missing (root). Fails, never skips, when the engine cannot start.
export default defineConfig({
  test: {
    include: ['src/docker.int.test.ts'],
    testTimeout: 60_000,
    // apt-get install of docker.io on a fresh machine (~40 s) + engine + quorum.
    hookTimeout: 300_000,
    // dockerd and the containers belong to a real process that cleans up on exit.
    pool: 'forks',
    // The steps build on each other (stop the leader, then start it...): never shuffle or retry.
    sequence: { shuffle: false },
  },
});
