CREATE TYPE "public"."environment" AS ENUM('test', 'live');--> statement-breakpoint
CREATE TYPE "public"."execution_event_type" AS ENUM('STATUS_CHANGED', 'PROGRESS', 'STEP', 'MESSAGE');--> statement-breakpoint
CREATE TYPE "public"."execution_status" AS ENUM('PENDING', 'RUNNING', 'WAITING_FOR_INPUT', 'INTERRUPTED', 'COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT');--> statement-breakpoint
CREATE TYPE "public"."message_status" AS ENUM('INITIATED', 'PROCESSING', 'COMPLETED', 'FAILED');--> statement-breakpoint
CREATE TABLE "execution_events" (
	"execution_id" uuid NOT NULL,
	"sequence" integer NOT NULL,
	"type" "execution_event_type" NOT NULL,
	"payload" jsonb NOT NULL,
	"occurred_at" timestamp (3) with time zone NOT NULL,
	"recorded_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "execution_events_execution_id_sequence_pk" PRIMARY KEY("execution_id","sequence")
);
--> statement-breakpoint
CREATE TABLE "execution_messages" (
	"execution_id" uuid NOT NULL,
	"message_id" text NOT NULL,
	"status" "message_status" NOT NULL,
	"counted" boolean NOT NULL,
	CONSTRAINT "execution_messages_execution_id_message_id_pk" PRIMARY KEY("execution_id","message_id")
);
--> statement-breakpoint
CREATE TABLE "executions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"environment" "environment" NOT NULL,
	"workflow_id" text NOT NULL,
	"workflow_version" text,
	"status" "execution_status" DEFAULT 'PENDING' NOT NULL,
	"progress" jsonb,
	"inputs" jsonb,
	"output" jsonb,
	"metadata" jsonb,
	"resolved_variables" jsonb,
	"error" jsonb,
	"trigger" jsonb NOT NULL,
	"initiated_by" text,
	"steps" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"idempotency_key" text,
	"request_hash" text,
	"timeout_seconds" integer,
	"heartbeat_timeout_seconds" integer,
	"deadline_at" timestamp (3) with time zone,
	"heartbeat_deadline_at" timestamp (3) with time zone,
	"total_messages" integer DEFAULT 0 NOT NULL,
	"completed_messages" integer DEFAULT 0 NOT NULL,
	"failed_messages" integer DEFAULT 0 NOT NULL,
	"in_progress_messages" integer DEFAULT 0 NOT NULL,
	"last_sequence" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"started_at" timestamp (3) with time zone,
	"completed_at" timestamp (3) with time zone,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "execution_events" ADD CONSTRAINT "execution_events_execution_id_executions_id_fk" FOREIGN KEY ("execution_id") REFERENCES "public"."executions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "execution_messages" ADD CONSTRAINT "execution_messages_execution_id_executions_id_fk" FOREIGN KEY ("execution_id") REFERENCES "public"."executions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "executions_tenant_created_idx" ON "executions" USING btree ("organization_id","environment","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE UNIQUE INDEX "executions_idempotency_idx" ON "executions" USING btree ("organization_id","environment","idempotency_key") WHERE "executions"."idempotency_key" is not null;--> statement-breakpoint
CREATE INDEX "executions_deadline_idx" ON "executions" USING btree ("deadline_at") WHERE "executions"."deadline_at" is not null and "executions"."status" in ('PENDING','RUNNING','WAITING_FOR_INPUT','INTERRUPTED');--> statement-breakpoint
CREATE INDEX "executions_heartbeat_idx" ON "executions" USING btree ("heartbeat_deadline_at") WHERE "executions"."heartbeat_deadline_at" is not null and "executions"."status" in ('PENDING','RUNNING','WAITING_FOR_INPUT');