ALTER TYPE "public"."execution_event_type" ADD VALUE 'LOG';--> statement-breakpoint
CREATE TABLE "execution_logs" (
	"execution_id" uuid NOT NULL,
	"sequence" integer NOT NULL,
	"stream" text NOT NULL,
	"level" text,
	"text" text NOT NULL,
	"occurred_at" timestamp (3) with time zone NOT NULL,
	"recorded_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "execution_logs_execution_id_sequence_pk" PRIMARY KEY("execution_id","sequence")
);
--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "log_bytes" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "log_truncated" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "execution_logs" ADD CONSTRAINT "execution_logs_execution_id_executions_id_fk" FOREIGN KEY ("execution_id") REFERENCES "public"."executions"("id") ON DELETE cascade ON UPDATE no action;