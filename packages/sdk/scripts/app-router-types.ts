/**
 * Writes `.build/app-router.ts`: the server's `AppRouter` type spelled out, procedure by procedure, with every
 * input and output written as the plain object types they are, so the published SDK's declarations need none
 * of the server's private packages (nor drizzle, dockerode, ... that the server's own types lead to: the real
 * router's type carries its context, the whole service container). The only import left is @trpc/server,
 * which @trpc/client needs as a peer anyway.
 *
 * How: a probe file asks the compiler for each procedure's input and output through a recursive mapped type
 * (`Expand`), which turns every named interface into an anonymous object type the checker prints in full.
 * Named unions of literals keep their names; their definitions are printed too. A name met twice with two
 * meanings, or a generic alias of our own, stops the build: the generated file would be wrong otherwise.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import ts from 'typescript';

import { appRouter } from '@zkha/api';

const SDK = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUILD = path.join(SDK, '.build');
const PROBE = path.join(BUILD, 'probe.ts');
const OUT = path.join(BUILD, 'app-router.ts');

type ProcType = 'query' | 'mutation' | 'subscription';
const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: ProcType } }>).map(
  ([p, proc]) => ({
    path: p,
    type: proc._def.type,
    id: p.replace(/\./g, '__'),
  }),
);

const probe = [
  "import type { AppRouter } from '@zkha/api';",
  "import type { inferProcedureInput, inferProcedureOutput, TrackedEnvelope } from '@trpc/server';",
  'type Expand<T> = T extends Date ? string : T extends FormData | Blob | ((...args: never[]) => unknown) ? T : T extends object ? { [K in keyof T]: Expand<T[K]> } : T;',
  'type Data<O> = O extends AsyncIterable<infer Y, any, any> ? (Y extends TrackedEnvelope<infer D> ? D : Y) : O;',
  'type Tracked<O> = O extends AsyncIterable<infer Y, any, any> ? (Y extends TrackedEnvelope<any> ? true : false) : false;',
  "export type ErrorShape = Expand<AppRouter['_def']['_config']['$types']['errorShape']>;",
  ...procedures.flatMap(({ path: p, id }) => {
    const ref = `AppRouter${p
      .split('.')
      .map((s) => `['${s}']`)
      .join('')}`;
    return [
      `export type I__${id} = Expand<inferProcedureInput<${ref}>>;`,
      `export type O__${id} = Expand<Data<inferProcedureOutput<${ref}>>>;`,
      `export type T__${id} = Tracked<inferProcedureOutput<${ref}>>;`,
    ];
  }),
].join('\n');

mkdirSync(BUILD, { recursive: true });
writeFileSync(PROBE, probe);

const config = ts.getParsedCommandLineOfConfigFile(
  path.join(SDK, 'tsconfig.json'),
  {},
  { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => console.error(d.messageText) },
);
if (!config) throw new Error('cannot read tsconfig.json');
const program = ts.createProgram([PROBE], { ...config.options, noEmit: true });
const errors = ts.getPreEmitDiagnostics(program, program.getSourceFile(PROBE));
if (errors.length)
  throw new Error(ts.formatDiagnostics(errors, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => SDK, getNewLine: () => '\n' }));
const checker = program.getTypeChecker();
const probeFile = program.getSourceFile(PROBE)!;
const aliasTypes = new Map<string, ts.Type>();
for (const st of probeFile.statements) {
  if (ts.isTypeAliasDeclaration(st)) aliasTypes.set(st.name.text, checker.getDeclaredTypeOfSymbol(checker.getSymbolAtLocation(st.name)!));
}

const FLAGS = ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.InTypeAlias | ts.TypeFormatFlags.UseSingleQuotesForStringLiteralType;
const print = (t: ts.Type) => checker.typeToString(t, undefined, FLAGS);

/** Named types met inside the printed ones, which the file must define: name → definition. */
const named = new Map<string, { text: string; from: string }>();
const seen = new Set<ts.Type>();
function visit(t: ts.Type, top: boolean): void {
  if (seen.has(t)) return;
  seen.add(t);
  const alias = t.aliasSymbol;
  if (alias && !top) {
    const decl = alias.declarations?.[0];
    const file = decl?.getSourceFile().fileName ?? '';
    const fromLib = program.isSourceFileDefaultLibrary(decl!.getSourceFile());
    if (!fromLib) {
      if (t.aliasTypeArguments?.length) throw new Error(`${alias.name} (${file}) is generic: spell it out where it is used`);
      const text = print(t);
      const prior = named.get(alias.name);
      if (prior && prior.text !== text) throw new Error(`two types named ${alias.name}: ${prior.from} and ${file}`);
      named.set(alias.name, { text, from: file });
    }
    for (const a of t.aliasTypeArguments ?? []) visit(a, false);
  }
  if (t.isUnionOrIntersection()) for (const m of t.types) visit(m, false);
  // A union the checker built from named parts (an optional property's `FileTreeState | undefined`) keeps them in
  // its origin, which the printer names: visit it, or the alias is printed but never defined. (`origin` is the
  // compiler's own field, not in its public typings.)
  const origin = (t as ts.Type & { origin?: ts.Type }).origin;
  if (origin) visit(origin, false);
  if (t.flags & ts.TypeFlags.Object) {
    for (const a of checker.getTypeArguments(t as ts.TypeReference) ?? []) visit(a, false);
    for (const p of checker.getPropertiesOfType(t)) visit(checker.getTypeOfSymbol(p), false);
    for (const info of checker.getIndexInfosOfType(t)) visit(info.type, false);
  }
}

const body: string[] = [];
const byRouter = new Map<string, string[]>();
for (const { path: p, type, id } of procedures) {
  const input = aliasTypes.get(`I__${id}`)!;
  const output = aliasTypes.get(`O__${id}`)!;
  visit(input, true);
  visit(output, true);
  const inputText = print(input);
  const outputText = print(output);
  let procType: string;
  if (type === 'subscription') {
    const tracked = print(aliasTypes.get(`T__${id}`)!) === 'true';
    procType = `TRPCSubscriptionProcedure<{ input: ${inputText}; output: AsyncIterable<${tracked ? `TrackedEnvelope<${outputText}>` : outputText}, void, any>; meta: object }>`;
  } else {
    procType = `TRPC${type === 'query' ? 'Query' : 'Mutation'}Procedure<{ input: ${inputText}; output: ${outputText}; meta: object }>`;
  }
  const [router, name] = p.split('.') as [string, string];
  if (!byRouter.has(router)) byRouter.set(router, []);
  byRouter.get(router)!.push(`    ${name}: ${procType};`);
}
const errorShape = aliasTypes.get('ErrorShape')!;
visit(errorShape, true);

body.push("/* Generated by packages/sdk/scripts/app-router-types.ts from the server's router: do not edit. */");
body.push(
  "import type { TRPCBuiltRouter, TRPCMutationProcedure, TRPCQueryProcedure, TRPCSubscriptionProcedure, TrackedEnvelope } from '@trpc/server';",
);
body.push("export type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';");
body.push('');
for (const [name, { text }] of [...named].sort(([a], [b]) => a.localeCompare(b))) body.push(`type ${name} = ${text};`);
body.push('');
body.push(`/** The error shape of every zkha error (data.appCode: the API's own code). */`);
body.push(`export type ZkhaErrorShape = ${print(errorShape)};`);
body.push('');
body.push("/** The zkha server's tRPC router, as a client sees it. */");
body.push('export type AppRouter = TRPCBuiltRouter<{ ctx: object; meta: object; errorShape: ZkhaErrorShape; transformer: false }, {');
for (const [router, lines] of byRouter) body.push(`  ${router}: {`, ...lines, '  };');
body.push('}>;');
writeFileSync(OUT, `${body.join('\n')}\n`);
rmSync(PROBE);

// The spelled-out router must be the same API as the real one: every input and output assignable both ways.
const CHECK = path.join(BUILD, 'check.ts');
writeFileSync(
  CHECK,
  [
    "import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';",
    "import type { AppRouter as Real } from '@zkha/api';",
    "import type { AppRouter as Spelled } from './app-router.ts';",
    'export const inputsOut: inferRouterInputs<Spelled> = null as unknown as inferRouterInputs<Real>;',
    'export const inputsIn: inferRouterInputs<Real> = null as unknown as inferRouterInputs<Spelled>;',
    'export const outputsOut: inferRouterOutputs<Spelled> = null as unknown as inferRouterOutputs<Real>;',
    'export const outputsIn: inferRouterOutputs<Real> = null as unknown as inferRouterOutputs<Spelled>;',
  ].join('\n'),
);
const checkProgram = ts.createProgram([CHECK], { ...config.options, noEmit: true });
const mismatches = ts.getPreEmitDiagnostics(checkProgram).filter((d) => d.file?.fileName === CHECK || d.file?.fileName === OUT);
rmSync(CHECK);
if (mismatches.length) {
  throw new Error(
    `the spelled-out router differs from the server's:\n${ts.formatDiagnostics(mismatches, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => SDK, getNewLine: () => '\n' })}`,
  );
}
console.log(
  `app-router types: ${procedures.length} procedures, ${named.size} named types, ${Math.round(body.join('\n').length / 1024)} KiB → ${path.relative(SDK, OUT)}`,
);
