import type { FileRecord } from '@zkha/core';
import type { ZkSession } from '@zkha/zk';

export const ZK_ROOT = '/zkha';
export const ZK_FILES_ROOT = `${ZK_ROOT}/files`;

/** What the znode `/zkha/files/<uuid>` holds: enough for another consumer to find and check the file. */
export interface FileZnode {
  uuid: string;
  name: string;
  node: string;
  path: string;
  size: number;
  checksum: string;
  history: FileRecord['history'];
  updatedAt: string;
}

export function toZnode(file: FileRecord): FileZnode {
  return {
    uuid: file.uuid,
    name: file.name,
    node: file.node,
    path: file.path,
    size: file.sizeBytes,
    checksum: file.sha256,
    history: file.history,
    updatedAt: file.updatedAt,
  };
}

/** File metadata registered in ZooKeeper, kept in step with the database by the services that change files. */
export class FileMetadataRegistry {
  constructor(private readonly session: ZkSession) {}

  /** The current client: after a session expiry the session hands out a new one. */
  private get zk() {
    return this.session.client;
  }

  async init(): Promise<void> {
    await this.zk.mkdirp(ZK_FILES_ROOT);
  }

  async put(file: FileRecord): Promise<void> {
    await this.zk.setOrCreate(`${ZK_FILES_ROOT}/${file.uuid}`, JSON.stringify(toZnode(file)));
  }

  async get(uuid: string): Promise<FileZnode | null> {
    const path = `${ZK_FILES_ROOT}/${uuid}`;
    if (!(await this.zk.exists(path))) return null;
    return this.zk.getJson<FileZnode>(path);
  }

  async remove(uuid: string): Promise<void> {
    const path = `${ZK_FILES_ROOT}/${uuid}`;
    if (await this.zk.exists(path)) await this.zk.remove(path);
  }

  async list(): Promise<string[]> {
    return this.zk.children(ZK_FILES_ROOT);
  }
}
