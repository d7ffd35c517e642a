import { TRPCError } from '@trpc/server';

/** The TRPCError a call fails with; fails the test if the call succeeds or throws something else. */
export async function errorOf(p: Promise<unknown>): Promise<TRPCError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TRPCError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}
