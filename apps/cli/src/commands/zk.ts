import { readFileSync } from 'node:fs';

import type { Command } from 'commander';

import { contextOf } from '../context.ts';
import { time } from '../format.ts';
import { wholeNumber } from '../parse.ts';
import type { Io } from '../output.ts';

/** Options shared by the writing commands. */
interface WriteOpts {
  version?: string;
  confirm?: boolean;
}

const version = (v: string | undefined) => (v === undefined ? -1 : Number(v));

/** `zkha zk ...`: the znode explorer from the command line, like zkCli, through zkha (audited, guarded). */
export function registerZk(program: Command, io: Io): void {
  const zk = program.command('zk').description('browse and edit znodes (like zkCli; /zkha and /zookeeper need --confirm to change)');
  registerZkLs(zk, io);
  registerZkFind(zk, io);
  registerZkGet(zk, io);
  registerZkStat(zk, io);
  registerZkGetAcl(zk, io);
  registerZkSet(zk, io);
  registerZkCreate(zk, io);
  registerZkRm(zk, io);
  registerZkSetAcl(zk, io);
  registerZkExport(zk, io);
  registerZkImport(zk, io);
}

function registerZkLs(zk: Command, io: Io): void {
  zk.command('ls')
    .argument('[path]', 'a znode path', '/')
    .description("a node's children, with their child counts and data sizes")
    .action(async (path: string, _o: unknown, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const r = await client.znodes.children.query({ path });
      if (json) return out.document(r);
      out.table(
        ['name', 'children', 'bytes', 'ephemeral'],
        r.children.map((c) => [c.name, c.numChildren, c.dataLength, c.ephemeral ? 'yes' : '']),
      );
      if (r.truncated) out.line('(more children than shown)');
    });
}

function registerZkFind(zk: Command, io: Io): void {
  zk.command('find')
    .argument('<pattern>', "a path prefix (/zkha/fe) or a glob (/zkha/*/q-*, '/**/config'; quote it from the shell)")
    .option('--limit <n>', 'matches at most (default 200)', wholeNumber)
    .description('paths matching a prefix or a glob (* within a name, ** across levels)')
    .action(async (pattern: string, opts: { limit?: number }, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const r = await client.znodes.find.query({ pattern, ...(opts.limit !== undefined ? { limit: opts.limit } : {}) });
      if (json) return out.document(r);
      for (const m of r.matches) out.line(m);
      if (r.truncated) out.note(`more than ${r.matches.length} matches or too many znodes to read: narrow the pattern`);
    });
}

function registerZkGet(zk: Command, io: Io): void {
  zk.command('get')
    .argument('<path>', 'a znode path')
    .description("a node's data (as text; --json for everything, base64 included)")
    .action(async (path: string, _o: unknown, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const r = await client.znodes.get.query({ path });
      if (json) return out.document(r);
      out.line(r.data.text ?? `(binary, ${r.data.sizeBytes} bytes; base64: ${r.data.base64})`);
    });
}

function registerZkStat(zk: Command, io: Io): void {
  zk.command('stat')
    .argument('<path>', 'a znode path')
    .description("a node's stat, as zkCli prints it")
    .action(async (path: string, _o: unknown, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const { stat } = await client.znodes.get.query({ path });
      if (json) return out.document(stat);
      for (const [k, v] of Object.entries(stat))
        out.line(`${k} = ${k === 'ctime' || k === 'mtime' ? `${time(new Date(v).toISOString())} (${v})` : v}`);
    });
}

function registerZkGetAcl(zk: Command, io: Io): void {
  zk.command('getacl')
    .argument('<path>', 'a znode path')
    .description("a node's ACL, one scheme:id:perms per line")
    .action(async (path: string, _o: unknown, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const { acl, stat } = await client.znodes.get.query({ path });
      if (json) return out.document({ acl, aversion: stat.aversion });
      for (const e of acl) out.line(e.notation);
    });
}

function registerZkSet(zk: Command, io: Io): void {
  zk.command('set')
    .argument('<path>', 'a znode path')
    .argument('<data>', 'the new data (text)')
    .option('--version <n>', 'the version you read (refused if the node changed since); default: any')
    .option('--confirm', 'allow changing /zkha or /zookeeper')
    .description("sets a node's data")
    .action(async (path: string, data: string, opts: WriteOpts, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const r = await client.znodes.set.mutate({
        path,
        data: { text: data },
        version: version(opts.version),
        ...(opts.confirm ? { confirm: true } : {}),
      });
      if (json) return out.document(r);
      out.line(`${r.path}: version ${r.stat.version}, ${r.data.sizeBytes} bytes`);
    });
}

function registerZkCreate(zk: Command, io: Io): void {
  zk.command('create')
    .argument('<path>', 'a znode path (its parent must exist)')
    .argument('[data]', 'its data (text)', '')
    .option('-s, --sequential', 'ZooKeeper appends a sequence number')
    .option('-e, --ephemeral', "the node goes with zkha's session")
    .option(
      '-t, --ttl <ms>',
      'a TTL node: ZooKeeper deletes it after this long without children or changes (like zkCli create -t)',
      wholeNumber,
    )
    .option('--acl <entries>', 'comma-separated scheme:id:perms (default: anyone reads, zkha writes)')
    .option('--confirm', 'allow creating under /zkha or /zookeeper')
    .description('creates a node')
    .action(
      async (
        path: string,
        data: string,
        opts: { sequential?: boolean; ephemeral?: boolean; ttl?: number; acl?: string; confirm?: boolean },
        cmd: Command,
      ) => {
        const { client, out, json } = contextOf(cmd, io);
        const mode: 'persistent' | 'ephemeral' | 'persistent_sequential' | 'ephemeral_sequential' =
          `${opts.ephemeral ? 'ephemeral' : 'persistent'}${opts.sequential ? '_sequential' : ''}`;
        const r = await client.znodes.create.mutate({
          path,
          data: { text: data },
          mode,
          ...(opts.ttl !== undefined ? { ttlMs: opts.ttl } : {}),
          ...(opts.acl ? { acl: opts.acl.split(',') } : {}),
          ...(opts.confirm ? { confirm: true } : {}),
        });
        if (json) return out.document(r);
        out.line(`created ${r.path}`);
      },
    );
}

function registerZkRm(zk: Command, io: Io): void {
  zk.command('rm')
    .argument('<path>', 'a znode path')
    .option('--version <n>', 'the version you read; default: any')
    .option('-r, --recursive', 'the whole subtree (counted first: add --confirm to delete)')
    .option('--confirm', 'really delete a subtree; allow deleting under /zkha or /zookeeper')
    .description('deletes a node (or a subtree)')
    .action(async (path: string, opts: WriteOpts & { recursive?: boolean }, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const r = await client.znodes.remove.mutate({
        path,
        version: version(opts.version),
        ...(opts.recursive ? { recursive: true } : {}),
        ...(opts.confirm ? { confirm: true } : {}),
      });
      if (json) return out.document(r);
      out.line(
        r.deleted === 0
          ? `would delete ${r.wouldDelete} znodes under ${r.path}: add --confirm`
          : `deleted ${r.deleted} znode${r.deleted === 1 ? '' : 's'}`,
      );
    });
}

function registerZkSetAcl(zk: Command, io: Io): void {
  zk.command('setacl')
    .argument('<path>', 'a znode path')
    .argument('<entries>', 'comma-separated scheme:id:perms, e.g. world:anyone:r,digest:alice:<hash>:cdrwa')
    .option('--version <n>', 'the ACL version you read (aversion); default: any')
    .option('--confirm', 'allow changing /zkha or /zookeeper')
    .description("replaces a node's ACL")
    .action(async (path: string, entries: string, opts: WriteOpts, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const r = await client.znodes.setAcl.mutate({
        path,
        acl: entries.split(','),
        version: version(opts.version),
        ...(opts.confirm ? { confirm: true } : {}),
      });
      if (json) return out.document(r);
      out.line(`${r.path}: ACL version ${r.stat.aversion}`);
    });
}

function registerZkExport(zk: Command, io: Io): void {
  zk.command('export')
    .argument('<path>', 'a znode path')
    .description('a subtree as JSON on standard output (persistent nodes, data as base64, ACLs), for `zk import`')
    .action(async (path: string, _o: unknown, cmd: Command) => {
      const { client, out } = contextOf(cmd, io);
      out.document(await client.znodes.export.query({ path }));
    });
}

function registerZkImport(zk: Command, io: Io): void {
  zk.command('import')
    .argument('<into>', 'the znode to import under (its parent must exist)')
    .argument('<file>', 'a file written by `zk export` (- for standard input)')
    .option('--apply', 'make the changes (without it: a dry run that lists them)')
    .option('--confirm', 'allow importing under /zkha or /zookeeper')
    .description('imports a subtree: creates what is missing, sets what differs')
    .action(async (into: string, file: string, opts: { apply?: boolean; confirm?: boolean }, cmd: Command) => {
      const { client, out, json } = contextOf(cmd, io);
      const text = readFileSync(file === '-' ? 0 : file, 'utf8');
      const r = await client.znodes.import.mutate({
        into,
        tree: JSON.parse(text) as Parameters<typeof client.znodes.import.mutate>[0]['tree'],
        dryRun: !opts.apply,
        ...(opts.confirm ? { confirm: true } : {}),
      });
      if (json) return out.document(r);
      out.table(
        ['path', r.dryRun ? 'would' : 'done'],
        r.changes.map((c) => [c.path, c.action]),
      );
      if (r.dryRun) out.line('dry run: nothing changed (add --apply)');
    });
}
