CREATE TABLE `stores` (
	`node` text PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`address` text,
	`capacity_bytes` integer,
	`started_at` text,
	`heartbeat_at` text,
	`last_change` text NOT NULL,
	`reason` text,
	`updated_at` text NOT NULL,
	CONSTRAINT "stores_status_check" CHECK("stores"."status" in ('OK', 'OFFLINE', 'SUSPECT'))
);
