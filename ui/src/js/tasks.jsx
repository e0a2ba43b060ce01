// tasks.jsx: every task, live from /api/v1/events: progress, ETA, cancel,
// and what finished tasks returned or why they failed.
import { useEffect, useState } from 'preact/hooks';
import { can, post } from './api.js';
import { tasks, vms, disks, repos, jobs } from './data.js';
import { ago, bytes, duration, mbps, time } from './format.js';
import { useStore } from './store.js';
import { Empty, ErrorText, Link, PageHead, Progress, useAction } from './ui.jsx';

const KIND = {
    'vm.start': 'Start', 'vm.shutdown': 'Shut down', 'vm.reboot': 'Reboot',
    'vm.pause': 'Pause', 'vm.resume': 'Resume', 'vm.suspend': 'Suspend',
    'vm.destroy': 'Force off',
    'backup.run': 'Backup', 'backup.restore': 'Restore', 'backup.verify': 'Verify',
    'backup.prune': 'Prune', 'backup.gc': 'Collect garbage',
    'backup.unlock': 'Unlock',
};
const TARGETS = { vm: vms, disk: disks, backup_repo: repos, backup_job: jobs };
const HREF = { vm: '/vms/', backup_job: '/backups/jobs/', backup_repo: '/backups/repositories/' };

export function targetName(t) {
    if (!t.target) return '';
    const m = TARGETS[t.target.type];
    const o = m && m.get().get(t.target.id);
    if (o) return o.name;
    // A restore names what it made once it is done.
    const made = t.result && (t.result.vm || t.result.disk);
    if (made && made.name) return made.name;
    return t.target.id ? t.target.id.slice(0, 8) : '';
}

export function taskLabel(t) {
    const k = KIND[t.kind] || t.kind;
    const n = targetName(t);
    return n ? `${k} · ${n}` : k;
}

const when = (t) => (t.created_at || '') + (t.finished_at || t.started_at || '');
export const newestFirst = (a, b) => when(b).localeCompare(when(a));

export const isActive = (t) => t.status === 'running' || t.status === 'pending';

/* Seconds left: the server's eta_s when it sends one (byte progress),
 * else extrapolated from the progress so far. */
function eta(t) {
    if (typeof t.eta_s === 'number') return t.eta_s;
    if (!t.started_at || !t.progress || t.progress >= 1) return null;
    const el = (Date.now() - Date.parse(t.started_at)) / 1000;
    return el / t.progress * (1 - t.progress);
}

/* The time now, re-rendering every second while on. */
function useNow(on) {
    const [now, setNow] = useState(Date.now());
    useEffect(() => {
        if (!on) return undefined;
        const iv = setInterval(() => setNow(Date.now()), 1000);
        return () => clearInterval(iv);
    }, [on]);
    return now;
}

/* "123 MB/s · 2 min left · 1.2 GiB of 4.0 GiB", when the task carries
 * byte progress (rate_bps, eta_s, bytes_done, bytes_total). */
export function speedText(t) {
    const out = [];
    if (t.rate_bps > 0) out.push(mbps(t.rate_bps));
    if (isActive(t) && typeof t.eta_s === 'number') out.push(`${duration(t.eta_s)} left`);
    if (typeof t.bytes_total === 'number' && t.bytes_total > 0)
        out.push(`${bytes(t.bytes_done || 0)} of ${bytes(t.bytes_total)}`);
    return out.join(' · ');
}

/* A task's bar with its percentage, throughput and ETA, live. */
export function TaskBar({ t, label }) {
    const sp = speedText(t);
    const v = t.status === 'success' ? 1 : t.progress;
    return <div class="task-bar">
        <Progress value={v} busy={isActive(t)} status={t.status}
            label={label || 'Progress of ' + taskLabel(t)} />
        <span class="muted small">{v ? `${Math.round(v * 100)}%` : isActive(t) ? 'working' : ''}
            {sp ? ' · ' + sp : ''}</span>
    </div>;
}

export function TaskRow({ t }) {
    const a = useAction();
    const [asked, setAsked] = useState(false);
    const active = isActive(t);
    const now = useNow(active);
    const e = eta(t);
    return <li class={'task ' + t.status}>
        <div class="task-main">
            <span class="task-name">
                {t.target && HREF[t.target.type] ?
                    <Link href={HREF[t.target.type] + t.target.id}>{taskLabel(t)}</Link> :
                    taskLabel(t)}
            </span>
            <span class={'status status-' + t.status}>{t.status}</span>
            <span class="muted">{t.user} · {ago(t.created_at)}</span>
            {active && can('operator') &&
                <button type="button" class="small" disabled={a.busy || asked}
                    aria-label={'Cancel ' + taskLabel(t)}
                    onClick={() => a.run(async () => {
                        await post(`/tasks/${t.id}/cancel`);
                        setAsked(true);
                    })}>
                    {asked ? 'Cancel requested' : 'Cancel'}</button>}
        </div>
        {active && <div class="task-progress">
            <Progress value={t.progress} busy label={'Progress of ' + taskLabel(t)} />
            <span class="muted">{t.progress ? `${Math.round(t.progress * 100)}%` : 'working'}
                {t.started_at ? ` · ${duration((now - Date.parse(t.started_at)) / 1000)} so far` : ''}
                {e != null ? ` · about ${duration(e)} left` : ''}
                {t.rate_bps > 0 ? ` · ${mbps(t.rate_bps)}` : ''}
                {typeof t.bytes_total === 'number' && t.bytes_total > 0 ?
                    ` · ${bytes(t.bytes_done || 0)} of ${bytes(t.bytes_total)}` : ''}</span>
        </div>}
        {t.status === 'failure' && t.error &&
            <p class="error">{t.error.message}</p>}
        {t.status === 'success' && t.finished_at && t.started_at &&
            <p class="muted small">Done {time(t.finished_at)} in{' '}
                {duration((Date.parse(t.finished_at) - Date.parse(t.started_at)) / 1000)}
                {t.result && t.result.state ? ` · now ${t.result.state}` : ''}
                {t.rate_bps > 0 ? ` · ${mbps(t.rate_bps)} on average` : ''}</p>}
        <ErrorText error={a.error} />
    </li>;
}

export function Tasks() {
    const t = useStore(tasks);
    const [show, setShow] = useState('all');
    const list = [...t.values()].sort(newestFirst);
    const act = list.filter(isActive);
    const done = list.filter((x) => !isActive(x) &&
        (show === 'all' || x.status === show));
    return <div>
        <PageHead title="Tasks" sub="Live: progress comes from the server as it happens." />
        <section class="card" aria-labelledby="t-run">
            <h2 id="t-run">Running ({act.length})</h2>
            {act.length ? <ul class="task-list">{act.map((x) =>
                <TaskRow key={x.id} t={x} />)}</ul> : <Empty>Nothing is running.</Empty>}
        </section>
        <section class="card" aria-labelledby="t-done">
            <div class="card-head">
                <h2 id="t-done">Finished</h2>
                <label class="inline">Show{' '}
                    <select value={show} onChange={(e) => setShow(e.target.value)}>
                        <option value="all">all</option>
                        <option value="success">succeeded</option>
                        <option value="failure">failed</option>
                        <option value="cancelled">cancelled</option>
                    </select></label>
            </div>
            {done.length ? <ul class="task-list">{done.slice(0, 200).map((x) =>
                <TaskRow key={x.id} t={x} />)}</ul> : <Empty>No task.</Empty>}
        </section>
    </div>;
}
