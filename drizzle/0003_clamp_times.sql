-- Time and open steps (API.md §1): executions written before the rule get the times it would have given them.
-- started_at within [created_at, now], completed_at within [started_at (or created_at), now]; the lower bound wins.
UPDATE "executions" SET "started_at" = greatest(least("started_at", now()), "created_at")
WHERE "started_at" < "created_at" OR "started_at" > now();--> statement-breakpoint
UPDATE "executions" SET "completed_at" = greatest(least("completed_at", now()), coalesce("started_at", "created_at"))
WHERE "completed_at" < coalesce("started_at", "created_at") OR "completed_at" > now();
