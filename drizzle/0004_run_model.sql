ALTER TYPE "public"."execution_event_type" ADD VALUE 'TAGS_CHANGED';--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "tags" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "parent_execution_id" uuid;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "root_execution_id" uuid;--> statement-breakpoint
-- Executions written before lineage existed are roots of their own trees.
UPDATE "executions" SET "root_execution_id" = "id";--> statement-breakpoint
ALTER TABLE "executions" ALTER COLUMN "root_execution_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "depth" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "attempt" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "retry_of" uuid;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "pinned" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "executions_tags_idx" ON "executions" USING gin ("tags" jsonb_path_ops) WITH (gin_pending_list_limit=256);--> statement-breakpoint
CREATE INDEX "executions_workflow_idx" ON "executions" USING btree ("organization_id","environment","workflow_id" text_pattern_ops,"created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "executions_parent_idx" ON "executions" USING btree ("parent_execution_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST) WHERE "executions"."parent_execution_id" is not null;--> statement-breakpoint
CREATE INDEX "executions_root_idx" ON "executions" USING btree ("root_execution_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "executions_retry_of_idx" ON "executions" USING btree ("retry_of") WHERE "executions"."retry_of" is not null;