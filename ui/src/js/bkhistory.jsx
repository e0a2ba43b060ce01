// bkhistory.jsx: one backup job: its settings, next runs, and its runs
// newest first with per-VM results (status, bytes read and stored,
// whether the change map was used and why not: the run's read note,
// errors); a running run's bar is live.
import { useEffect, useState } from 'preact/hooks';
import { can, get, post } from './api.js';
import { backupSeq, jobs, tasks, vms } from './data.js';
import { bytes, duration, time, zoned } from './format.js';
import { useStore } from './store.js';
import { Empty, ErrorText, Link, PageHead, useAction } from './ui.jsx';
import { RunBadge, repoName, useTask, vmName } from './bkcommon.jsx';
import { CancelTask, JobDialog, vmSummary } from './bkjobs.jsx';
import { KEEP } from './bkrepos.jsx';
import { TaskBar } from './tasks.jsx';

const TRIGGER = { manual: 'started by hand', schedule: 'scheduled', 'catch-up': 'catch-up after downtime' };

function Run({ run }) {
    const all = useStore(tasks);
    useStore(vms);
    const t = all.get(run.task);
    const took = run.finished && run.started ?
        duration((Date.parse(run.finished) - Date.parse(run.started)) / 1000) : null;
    const read = run.vms.reduce((n, v) => n + (v.bytes_read || 0), 0);
    const stored = run.vms.reduce((n, v) => n + (v.stored_bytes || 0), 0);
    return <article class="card run" aria-label={'Run of ' + time(run.started)}>
        <div class="card-head">
            <h3>{time(run.started)} <RunBadge status={run.status} /></h3>
            <span class="muted small">{TRIGGER[run.trigger] || run.trigger}
                {took ? ` · took ${took}` : ''} · {bytes(read)} read, {bytes(stored)} stored</span>
        </div>
        {run.status === 'running' && t && <TaskBar t={t} label="Progress of this run" />}
        {run.status === 'running' && t && can('operator') &&
            <CancelTask t={t} what={time(run.started)} />}
        {run.error && <p class="error">{run.error}</p>}
        {run.vms.length ? <div class="table-wrap"><table class="table">
            <thead><tr><th>VM</th><th>Status</th><th>Read</th><th>Stored</th>
                <th>Change map</th><th>Restore point</th><th>Error</th></tr></thead>
            <tbody>{run.vms.map((v) => <tr key={v.vm}>
                <td>{vms.get().get(v.vm) ? <Link href={'/vms/' + v.vm}>{vmName(v.vm)}</Link> :
                    v.vm_name || v.vm}</td>
                <td><RunBadge status={v.status} /></td>
                <td>{bytes(v.bytes_read)}</td>
                <td>{bytes(v.stored_bytes)}</td>
                <td>{v.status === 'failure' && !v.bytes_read ? '—' :
                    v.used_changemap ? 'used (incremental)' : 'not used (full read)'}
                    {v.read_note && <div class="muted small read-note">{v.read_note}</div>}</td>
                <td>{v.snapshot ? (vms.get().get(v.vm) ?
                    <Link href={`/vms/${v.vm}/backups`}>{v.snapshot.slice(0, 8)}</Link> :
                    <span class="mono">{v.snapshot.slice(0, 8)}</span>) : '—'}</td>
                <td class="error">{v.error || ''}</td>
            </tr>)}</tbody>
        </table></div> : <p class="muted">No VM in this run.</p>}
    </article>;
}

export function JobHistory({ id }) {
    const j = useStore(jobs).get(id);
    const seq = useStore(backupSeq);
    const [runs, setRuns] = useState(null);
    const [err, setErr] = useState(null);
    const [edit, setEdit] = useState(false);
    const a = useAction();
    const [mine, setTask] = useTask();
    useEffect(() => {
        const tm = setTimeout(() => get(`/backup/jobs/${id}/runs`).then((l) => {
            setErr(null);
            setRuns(l);
        }, setErr), runs ? 250 : 0);
        return () => clearTimeout(tm);
    }, [id, seq, mine && mine.status]);
    if (!j) return <div><h1>Backup job not found</h1>
        <p>It may have been deleted. <Link href="/backups/jobs">All jobs</Link></p></div>;
    const running = j.last_run && j.last_run.status === 'running';
    const r = j.retention || {};
    return <div>
        <nav class="crumbs" aria-label="Breadcrumb"><Link href="/backups/jobs">Backup jobs</Link> / {j.name}</nav>
        <PageHead title={j.name} sub={`${vmSummary(j)} → ${repoName(j.repository)}`}>
            {can('operator') && <button type="button" class="primary" disabled={a.busy || running}
                onClick={() => a.run(async () => setTask(await post(`/backup/jobs/${j.id}/run`)))}>
                Run now</button>}
            {can('admin') && <button type="button" onClick={() => setEdit(true)}>Edit</button>}
        </PageHead>
        <ErrorText error={a.error} />
        <div class="cards two">
            <section class="card" aria-labelledby="j-set">
                <h2 id="j-set">Settings</h2>
                <dl class="kv">
                    <dt>Schedule</dt><dd>{j.schedule ? <code>{j.schedule}</code> : 'manual only'}
                        {' '}<span class="muted">({j.timezone})</span>{!j.enabled && ' · disabled'}</dd>
                    <dt>Retention</dt><dd>{KEEP.filter(([k]) => r[k]).map(([k, l]) =>
                        `${l.toLowerCase()} ${r[k]}`).join(', ') || 'keep everything'}</dd>
                    <dt>Concurrency</dt><dd>{j.concurrency} VM(s) at once</dd>
                    <dt>Created</dt><dd>{time(j.created)}</dd>
                </dl>
            </section>
            <section class="card" aria-labelledby="j-next">
                <h2 id="j-next">Next runs</h2>
                {j.next_runs && j.next_runs.length ? <ol class="next-runs">
                    {j.next_runs.map((x) => <li key={x}>{zoned(x, j.timezone)}</li>)}</ol> :
                    <Empty>{j.enabled ? 'Manual only.' : 'Disabled.'}</Empty>}
            </section>
        </div>
        <h2 id="runs-h">History</h2>
        <ErrorText error={err} />
        {runs && !runs.length && <Empty>Not run yet.</Empty>}
        {runs && <div class="runs" aria-labelledby="runs-h">
            {runs.map((x) => <Run key={x.id} run={x} />)}</div>}
        {edit && <JobDialog job={j} onClose={() => setEdit(false)} />}
    </div>;
}
