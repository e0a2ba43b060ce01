-- 0006: each VM of a backup run keeps how its data was read (its
-- read_note: the change map, or why everything was read), so the job
-- history says why a backup read a whole disk.
ALTER TABLE backup_run_vms ADD COLUMN read_note TEXT;
