-- Open311's servicerequestupdates (issue 24) reads the status changes of a span of time, for
-- anyone who asks: by time, not by a scan of every order's history.
CREATE INDEX order_events_at ON order_events (at);
