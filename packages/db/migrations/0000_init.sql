CREATE TABLE `files` (
	`uuid` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`node` text NOT NULL,
	`path` text NOT NULL,
	`size_bytes` integer NOT NULL,
	`sha256` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`history` text DEFAULT '[]' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `files_node_idx` ON `files` (`node`);--> statement-breakpoint
CREATE INDEX `files_created_at_idx` ON `files` (`created_at`);--> statement-breakpoint
CREATE TABLE `node_states` (
	`node` text PRIMARY KEY NOT NULL,
	`drained` integer DEFAULT false NOT NULL,
	`reason` text,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `operations` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`timestamp` text NOT NULL,
	`action` text NOT NULL,
	`node` text,
	`status` text NOT NULL,
	`details` text DEFAULT '{}' NOT NULL,
	`before_metrics` text,
	`after_metrics` text,
	CONSTRAINT "operations_status_check" CHECK("operations"."status" in ('success', 'failed', 'skipped'))
);
--> statement-breakpoint
CREATE INDEX `operations_timestamp_idx` ON `operations` (`timestamp`);--> statement-breakpoint
CREATE INDEX `operations_action_idx` ON `operations` (`action`);--> statement-breakpoint
CREATE INDEX `operations_node_idx` ON `operations` (`node`);--> statement-breakpoint
CREATE TABLE `tasks` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`status` text NOT NULL,
	`payload` text DEFAULT '{}' NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	CONSTRAINT "tasks_status_check" CHECK("tasks"."status" in ('queued', 'running', 'done', 'failed'))
);
--> statement-breakpoint
CREATE INDEX `tasks_status_idx` ON `tasks` (`status`);