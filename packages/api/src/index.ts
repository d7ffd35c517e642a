export { appRouter, createCaller, type AppRouter } from './root.ts';
export { createContextInner, type Context, type InnerContext } from './context.ts';
export { describeZodError } from './trpc.ts';
export type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
export * from './auth.ts';
