-- The request id a job was enqueued under (issue 25): the webhook delivery's or web request's,
-- handed on from job to job, so the logs of one report can be followed across processes.
ALTER TABLE jobs ADD COLUMN request_id TEXT;
