// bkcommon.jsx: what the backup screens share: following a task they
// started, run status badges, names for ids.
import { useState } from 'preact/hooks';
import { jobs, repos, tasks, vms } from './data.js';
import { useStore } from './store.js';

/* The task an action started: [task or null, setTaskId]. The task comes
 * from the live tasks store (events), so its bar moves without polling;
 * until its first event arrives, the 202 answer stands in for it. */
export function useTask() {
    const [first, setFirst] = useState(null);
    const all = useStore(tasks);
    const set = (t) => setFirst(t && typeof t === 'object' ? t : t ? { id: t } : null);
    const t = first && (all.get(first.id) || (first.status ? first : null));
    return [t, set];
}

const RUN_LABEL = {
    running: 'Running', success: 'Succeeded', failure: 'Failed',
    cancelled: 'Cancelled', interrupted: 'Interrupted', pending: 'Pending',
    skipped: 'Skipped',
};

export function RunBadge({ status }) {
    return <span class={'status status-' + status}>{RUN_LABEL[status] || status}</span>;
}

export function repoName(id) {
    const r = repos.get().get(id);
    return r ? r.name : id ? id.slice(0, 8) : '—';
}

export function jobName(id) {
    const j = jobs.get().get(id);
    return j ? j.name : id ? id.slice(0, 8) : '—';
}

export function vmName(id, fallback) {
    const v = id && vms.get().get(id);
    return v ? v.name : fallback || (id ? id.slice(0, 8) : '—');
}

/* The backup API is missing on this xenithd (404 at start-up). */
export function NoBackupApi({ what = 'backup' }) {
    return <p class="empty">This xenithd has no {what} API: it arrives with a
        newer version.</p>;
}
