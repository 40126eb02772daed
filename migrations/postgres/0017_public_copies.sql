-- Bystander protection (issue 22): the public copy of each photo, by the photo's token (a
-- citizen's photo or a crew's after-photo). Its files sit beside the photo's in the photo
-- store; this row says whether anyone outside the staff UI may see them.
--
-- state: checking (no public copy yet: detection has not run or failed), waiting (made, for a
-- staff member to approve), public, hidden (a staff member took it off the public pages).
-- regions: the obscured rectangles as JSON, detected and drawn, in the photo's pixels.
CREATE TABLE public_copies (
    token       TEXT    PRIMARY KEY,
    state       TEXT    NOT NULL,
    regions     TEXT    NOT NULL DEFAULT '[]',
    attempts    BIGINT NOT NULL DEFAULT 0,
    failure     TEXT,
    created_at  BIGINT NOT NULL,
    checked_at  BIGINT,
    decided_at  BIGINT
);
CREATE INDEX public_copies_state ON public_copies (state);

-- Photos stored before this version were shown publicly as they are. Fail closed: none of
-- them is public until it has been checked (and, by default, approved).
INSERT INTO public_copies (token, state, created_at)
SELECT token, 'checking', received_at FROM photos WHERE token IS NOT NULL;
INSERT INTO public_copies (token, state, created_at)
SELECT after_photo, 'checking', COALESCE(done_at, created_at) FROM work_orders
WHERE after_photo IS NOT NULL AND after_photo NOT IN (SELECT token FROM public_copies);
