-- 0004: networks remember whether xenith created their bridge (and so
-- may delete it) or adopted one that was there before.
ALTER TABLE networks ADD COLUMN bridge_owned INTEGER NOT NULL DEFAULT 0
    CHECK (bridge_owned IN (0, 1));
