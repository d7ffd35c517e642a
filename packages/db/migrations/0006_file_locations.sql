-- Files are reached through their node's storage agent: a file's `path` is its location `<node>/<name>`, no
-- longer an absolute path in the control plane's view of a shared disk. Journal rows follow (the agents keep
-- their own temp files, so `temp_path` is no longer used).
UPDATE `files` SET `path` = `node` || '/' || `name` WHERE `path` <> `node` || '/' || `name`;
--> statement-breakpoint
UPDATE `migrations` SET `source_path` = `source` || '/' || `name`, `target_path` = `target` || '/' || `name`, `temp_path` = '';
