export {
  FileStorage,
  type FileStorageOptions,
  type FileStoragePort,
  type MoveFileOptions,
  type NodeFileInfo,
  type SaveUploadOptions,
  type StoredFile,
  type UploadSource,
} from './file-storage.ts';
export { assertPlainFileName, fileNameProblem, isTempName, MAX_FILE_NAME_LENGTH, TEMP_SUFFIX } from './names.ts';
export * from './agent-client.ts';
