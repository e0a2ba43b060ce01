-- Failed log-ins counted per username ('u:NAME') and per source address
-- ('a:ADDR') in a window from the first failure (server/core/auth_limit.h),
-- kept here so that restarting the daemon does not reset the rate limit.
CREATE TABLE login_failures (
    key TEXT PRIMARY KEY,
    window_start INTEGER NOT NULL, -- epoch seconds of the first failure
    failures INTEGER NOT NULL
) WITHOUT ROWID;
