export {
  AgentStorage,
  appErrorOf,
  locationOf,
  parseLocation,
  type AgentEndpoint,
  type AgentStorageOptions,
  type FileStoragePort,
  type PullOptions,
  type SaveUploadOptions,
  type StoredFile,
  type UploadSource,
} from './file-storage.ts';
export { spool, SPOOL_MEMORY_BYTES, type SpooledBody, type SpoolOptions } from './spool.ts';
export { assertPlainFileName, fileNameProblem, isTempName, MAX_FILE_NAME_LENGTH, TEMP_SUFFIX } from './names.ts';
export * from './agent-client.ts';
