CREATE TABLE "execution_batch_keys" (
	"execution_id" uuid NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"first_sequence" integer NOT NULL,
	"last_sequence" integer NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "execution_batch_keys_execution_id_key_pk" PRIMARY KEY("execution_id","key")
);
--> statement-breakpoint
ALTER TABLE "execution_batch_keys" ADD CONSTRAINT "execution_batch_keys_execution_id_executions_id_fk" FOREIGN KEY ("execution_id") REFERENCES "public"."executions"("id") ON DELETE cascade ON UPDATE no action;