import { expect, test } from './fixtures.ts';

test('the Move button moves a file to the chosen node, and shows why when the server refuses', async ({ files, api }) => {
  await api.stress({ node: 'zk1', files: 3, size_kb: 1 });
  const [first, second] = await api.files('zk1');
  await files.goto('zk1');

  const dialog = await files.move(first!.name, 'zk3');
  await expect(dialog).toBeHidden();
  await expect.poll(async () => (await api.files('zk3')).some((f) => f.uuid === first!.uuid), { timeout: 20_000 }).toBe(true);
  const ops = await api.operations({ action: 'migrate', limit: 5 });
  expect(ops.items.some((o) => (o.details.moves as { uuid: string }[] | undefined)?.[0]?.uuid === first!.uuid)).toBe(true);

  await api.drain('zk2', 'e2e: refuse a move');
  try {
    const refused = await files.move(second!.name, 'zk2');
    await expect(refused.getByTestId('file-move-error')).toContainText('zk2 is drained');
    await refused.getByRole('button', { name: 'Cancel' }).click();
    await expect(refused).toBeHidden();
    expect((await api.files('zk1')).some((f) => f.uuid === second!.uuid)).toBe(true);
  } finally {
    await api.undrain('zk2');
  }
});
