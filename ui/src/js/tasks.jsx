// tasks.jsx: every task, live from /api/v1/events: progress, ETA, cancel,
// and what finished tasks returned or why they failed.
import { useEffect, useState } from 'preact/hooks';
import { can, post } from './api.js';
import { tasks, vms, disks } from './data.js';
import { ago, duration, time } from './format.js';
import { useStore } from './store.js';
import { Empty, ErrorText, Link, PageHead, Progress, useAction } from './ui.jsx';

const KIND = {
    'vm.start': 'Start', 'vm.shutdown': 'Shut down', 'vm.reboot': 'Reboot',
    'vm.pause': 'Pause', 'vm.resume': 'Resume', 'vm.suspend': 'Suspend',
    'vm.destroy': 'Force off',
};

export function targetName(t) {
    if (!t.target) return '';
    const m = t.target.type === 'vm' ? vms.get() :
        t.target.type === 'disk' ? disks.get() : null;
    const o = m && m.get(t.target.id);
    return o ? o.name : t.target.id ? t.target.id.slice(0, 8) : '';
}

export function taskLabel(t) {
    const k = KIND[t.kind] || t.kind;
    const n = targetName(t);
    return n ? `${k} · ${n}` : k;
}

const when = (t) => (t.created_at || '') + (t.finished_at || t.started_at || '');
export const newestFirst = (a, b) => when(b).localeCompare(when(a));

export const isActive = (t) => t.status === 'running' || t.status === 'pending';

function eta(t) {
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

export function TaskRow({ t }) {
    const a = useAction();
    const [asked, setAsked] = useState(false);
    const active = isActive(t);
    const now = useNow(active);
    const e = eta(t);
    return <li class={'task ' + t.status}>
        <div class="task-main">
            <span class="task-name">
                {t.target && t.target.type === 'vm' ?
                    <Link href={'/vms/' + t.target.id}>{taskLabel(t)}</Link> :
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
                {e != null ? ` · about ${duration(e)} left` : ''}</span>
        </div>}
        {t.status === 'failure' && t.error &&
            <p class="error">{t.error.message}</p>}
        {t.status === 'success' && t.finished_at && t.started_at &&
            <p class="muted small">Done {time(t.finished_at)} in{' '}
                {duration((Date.parse(t.finished_at) - Date.parse(t.started_at)) / 1000)}
                {t.result && t.result.state ? ` · now ${t.result.state}` : ''}</p>}
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
