CREATE TABLE `ensemble_load_samples` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` text NOT NULL,
	`node` text NOT NULL,
	`samples` integer NOT NULL,
	`score` real,
	`requests_per_sec` real,
	`latency_avg_ms` real,
	`latency_max_ms` real,
	`latency_p99_ms` real,
	`cpu_percent` real,
	`rss_bytes` integer,
	`connections` real,
	`znode_count` integer,
	`outstanding_requests` real
);
--> statement-breakpoint
CREATE INDEX `ensemble_load_samples_at_idx` ON `ensemble_load_samples` (`at`);--> statement-breakpoint
CREATE INDEX `ensemble_load_samples_node_at_idx` ON `ensemble_load_samples` (`node`,`at`);--> statement-breakpoint
CREATE TABLE `ensemble_settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` text NOT NULL
);
