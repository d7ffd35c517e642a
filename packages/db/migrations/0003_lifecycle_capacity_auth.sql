CREATE TABLE `api_tokens` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`role` text NOT NULL,
	`token_hash` text NOT NULL,
	`created_at` text NOT NULL,
	`last_used_at` text,
	`revoked_at` text,
	CONSTRAINT "api_tokens_role_check" CHECK("api_tokens"."role" in ('viewer', 'operator'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_name_unique` ON `api_tokens` (`name`);--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_token_hash_unique` ON `api_tokens` (`token_hash`);--> statement-breakpoint
CREATE TABLE `auth_sessions` (
	`id_hash` text PRIMARY KEY NOT NULL,
	`identity` text NOT NULL,
	`role` text NOT NULL,
	`csrf_token` text NOT NULL,
	`created_at` text NOT NULL,
	`expires_at` text NOT NULL,
	CONSTRAINT "auth_sessions_role_check" CHECK("auth_sessions"."role" in ('viewer', 'operator'))
);
--> statement-breakpoint
CREATE INDEX `auth_sessions_expires_idx` ON `auth_sessions` (`expires_at`);--> statement-breakpoint
CREATE TABLE `capacity_recommendations` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` text NOT NULL,
	`action` text NOT NULL,
	`nodes_to_add` integer NOT NULL,
	`nodes_to_remove` integer NOT NULL,
	`trend` text NOT NULL,
	`utilization_ppm` integer NOT NULL,
	`details` text DEFAULT '{}' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `capacity_recommendations_at_idx` ON `capacity_recommendations` (`at`);--> statement-breakpoint
CREATE TABLE `capacity_samples` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` text NOT NULL,
	`used_bytes` integer NOT NULL,
	`capacity_bytes` integer NOT NULL,
	`file_count` integer NOT NULL,
	`node_count` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `capacity_samples_at_idx` ON `capacity_samples` (`at`);--> statement-breakpoint
CREATE TABLE `storage_nodes` (
	`node` text PRIMARY KEY NOT NULL,
	`lifecycle` text NOT NULL,
	`origin` text NOT NULL,
	`capacity_bytes` integer,
	`weight` integer,
	`reason` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	CONSTRAINT "storage_nodes_lifecycle_check" CHECK("storage_nodes"."lifecycle" in ('joining', 'active', 'leaving', 'removed')),
	CONSTRAINT "storage_nodes_origin_check" CHECK("storage_nodes"."origin" in ('ensemble', 'added'))
);
--> statement-breakpoint
ALTER TABLE `operations` ADD `actor` text;