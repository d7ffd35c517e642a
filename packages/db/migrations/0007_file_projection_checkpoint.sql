CREATE TABLE `file_projection_checkpoint` (
	`id` integer PRIMARY KEY NOT NULL,
	`feed_czxid` text NOT NULL,
	`feed_position` text NOT NULL,
	`tree_complete` integer NOT NULL,
	`saved_at` text NOT NULL,
	CONSTRAINT "file_projection_checkpoint_one_row" CHECK("file_projection_checkpoint"."id" = 1)
);
