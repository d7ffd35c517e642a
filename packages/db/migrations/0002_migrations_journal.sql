CREATE TABLE `migrations` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`plan_id` text NOT NULL,
	`uuid` text NOT NULL,
	`name` text NOT NULL,
	`source` text NOT NULL,
	`target` text NOT NULL,
	`bytes` integer NOT NULL,
	`sha256` text NOT NULL,
	`source_path` text NOT NULL,
	`target_path` text NOT NULL,
	`temp_path` text NOT NULL,
	`priority` integer DEFAULT 5 NOT NULL,
	`deadline` text,
	`status` text NOT NULL,
	`phase` text NOT NULL,
	`bytes_done` integer DEFAULT 0 NOT NULL,
	`throughput` integer,
	`reason` text,
	`error` text,
	`created_at` text NOT NULL,
	`started_at` text,
	`finished_at` text,
	CONSTRAINT "migrations_status_check" CHECK("migrations"."status" in ('pending', 'running', 'completed', 'failed', 'cancelled', 'paused')),
	CONSTRAINT "migrations_phase_check" CHECK("migrations"."phase" in ('planned', 'copying', 'copied', 'committed', 'cleaned'))
);
--> statement-breakpoint
CREATE INDEX `migrations_status_idx` ON `migrations` (`status`);--> statement-breakpoint
CREATE INDEX `migrations_uuid_idx` ON `migrations` (`uuid`);--> statement-breakpoint
CREATE INDEX `migrations_plan_idx` ON `migrations` (`plan_id`);