// bkjobs.jsx: backup jobs: the list (schedule, next run, last result,
// a running backup's live bar), create/edit with VM selection by VM and
// tag, the schedule editor and retention; run now; delete.
import { useMemo, useState } from 'preact/hooks';
import { can, del, patch, post } from './api.js';
import { drop, jobs, jobsApi, put, repos, tasks, vms } from './data.js';
import { ago, zoned } from './format.js';
import { useStore } from './store.js';
import { Confirm, Empty, ErrorText, Field, FormModal, Link, PageHead, useAction } from './ui.jsx';
import { NoBackupApi, RunBadge, repoName, useTask } from './bkcommon.jsx';
import { ScheduleEditor } from './bkschedule.jsx';
import { KEEP, RetentionFields } from './bkrepos.jsx';
import { TaskBar, isActive } from './tasks.jsx';

const SHOWN = 200; // VM checkboxes listed at once; the search narrows them

function VmPicker({ sel, tags, onChange }) {
    const all = useStore(vms);
    const [q, setQ] = useState('');
    const allTags = useMemo(() => {
        const s = new Set();
        for (const v of all.values()) (v.tags || []).forEach((t) => s.add(t));
        return [...s].sort();
    }, [all]);
    const list = useMemo(() => {
        const n = q.trim().toLowerCase();
        return [...all.values()].filter((v) => !n || v.name.toLowerCase().includes(n))
            .sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
    }, [all, q]);
    const byTag = [...all.values()].filter((v) => !sel.includes(v.id) &&
        (v.tags || []).some((t) => tags.includes(t))).length;
    const toggle = (arr, x) => arr.includes(x) ? arr.filter((y) => y !== x) : [...arr, x];
    return <fieldset class="vm-picker">
        <legend>Virtual machines</legend>
        <p class="muted small">{sel.length} chosen by name
            {tags.length ? `, ${byTag} more through tags` : ''}. VMs given a chosen tag later
            are backed up too.</p>
        {allTags.length > 0 && <div class="tag-picks" role="group" aria-label="By tag">
            <span class="label">By tag</span>
            {allTags.map((t) => <label key={t} class="check tag-check">
                <input type="checkbox" checked={tags.includes(t)}
                    onChange={() => onChange(sel, toggle(tags, t))} /> {t}</label>)}
        </div>}
        <input type="search" aria-label="Search VMs to back up" placeholder="Search VMs"
            value={q} onInput={(e) => setQ(e.target.value)} />
        <ul class="checklist">
            {list.slice(0, SHOWN).map((v) => <li key={v.id}><label class="check">
                <input type="checkbox" checked={sel.includes(v.id)}
                    onChange={() => onChange(toggle(sel, v.id), tags)} />
                {' '}{v.name} {(v.tags || []).map((t) => <span key={t} class="tag">{t}</span>)}
            </label></li>)}
            {list.length > SHOWN && <li class="muted small">{list.length - SHOWN} more: search to find them.</li>}
            {!list.length && <li class="muted">No VM matches.</li>}
        </ul>
    </fieldset>;
}

function fromJob(j, repoList) {
    const r = (j && j.retention) || {};
    return {
        name: j ? j.name : '', repository: j ? j.repository : repoList[0] ? repoList[0].id : '',
        vms: j ? [...j.vms] : [], tags: j ? [...j.tags] : [],
        sched: { schedule: j ? j.schedule : '0 2 * * *', timezone: j ? j.timezone || 'UTC' :
            Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC' },
        retention: Object.fromEntries(KEEP.map(([k]) => [k, r[k] ?? (j ? 0 : k === 'last' ? 7 : 0)])),
        concurrency: j ? j.concurrency : 1, enabled: j ? j.enabled : true,
    };
}

function JobDialog({ job, onClose }) {
    const repoList = [...useStore(repos).values()];
    const [f, setF] = useState(() => fromJob(job, repoList));
    const set = (k, v) => setF({ ...f, [k]: v });
    const save = () => {
        const body = {
            name: f.name, repository: f.repository, vms: f.vms, tags: f.tags,
            schedule: f.sched.schedule.trim(), timezone: f.sched.timezone,
            retention: Object.fromEntries(KEEP.map(([k]) => [k, Number(f.retention[k]) || 0])),
            concurrency: Number(f.concurrency), enabled: f.enabled,
        };
        return (job ? patch('/backup/jobs/' + job.id, body) : post('/backup/jobs', body))
            .then((x) => put(jobs, x));
    };
    return <FormModal title={job ? `Edit job ${job.name}` : 'Create a backup job'}
        onClose={onClose} submit={job ? 'Save' : 'Create job'} onSubmit={save} wide>
        <div class="row2">
            <Field label="Job name"><input required maxLength={64} value={f.name} autofocus
                onInput={(e) => set('name', e.target.value)} /></Field>
            <Field label="Repository"><select required value={f.repository}
                onChange={(e) => set('repository', e.target.value)}>
                {repoList.map((r) => <option key={r.id} value={r.id}>{r.name}</option>)}
            </select></Field>
        </div>
        <VmPicker sel={f.vms} tags={f.tags}
            onChange={(v, t) => setF({ ...f, vms: v, tags: t })} />
        <ScheduleEditor value={f.sched} onChange={(v) => set('sched', v)} />
        <RetentionFields legend="Retention" values={f.retention}
            onChange={(v) => set('retention', v)} />
        <div class="row2">
            <Field label="Concurrency" hint="VMs backed up at once (1 to 8).">
                <input type="number" min="1" max="8" required value={f.concurrency}
                    onInput={(e) => set('concurrency', e.target.value)} /></Field>
            <label class="check enabled-check"><input type="checkbox" checked={f.enabled}
                onChange={(e) => set('enabled', e.target.checked)} /> Enabled: runs on its
                schedule</label>
        </div>
    </FormModal>;
}

/* Ask a running backup to stop; the repository stays valid. */
export function CancelTask({ t, what }) {
    const a = useAction();
    const [asked, setAsked] = useState(false);
    return <span>
        <button type="button" class="small" disabled={a.busy || asked}
            aria-label={'Cancel the backup of ' + what}
            onClick={() => a.run(async () => {
                await post(`/tasks/${t.id}/cancel`);
                setAsked(true);
            })}>{asked ? 'Cancel requested' : 'Cancel'}</button>
        <ErrorText error={a.error} />
    </span>;
}

function vmSummary(j) {
    const n = j.vms.length;
    const parts = [];
    if (n) parts.push(n === 1 ? '1 VM' : `${n} VMs`);
    if (j.tags.length) parts.push('tags ' + j.tags.join(', '));
    return parts.join(' + ') || 'no VM';
}

/* A job's last result, or its running backup's live bar. */
export function LastResult({ job, mine }) {
    const all = useStore(tasks);
    const lr = job.last_run;
    const running = lr && lr.status === 'running' ? all.get(lr.task) : null;
    const t = mine || running;
    if (t) return <><TaskBar t={t} label={'Backup of ' + job.name} />
        {isActive(t) && can('operator') && <CancelTask t={t} what={job.name} />}</>;
    if (lr && lr.status === 'running') return <span><RunBadge status="running" />
        {' '}<span class="muted small">since {ago(lr.started)}</span></span>;
    if (!lr) return <span class="muted">never run</span>;
    return <span><RunBadge status={lr.status} />{' '}
        <span class="muted small">{ago(lr.finished || lr.started)}</span>
        {lr.error && lr.status !== 'cancelled' && <span class="error small"> {lr.error}</span>}</span>;
}

function JobRow({ j, setModal }) {
    const a = useAction();
    const [t, setTask] = useTask();
    const op = can('operator');
    const admin = can('admin');
    const busy = (t && isActive(t)) || (j.last_run && j.last_run.status === 'running');
    return <tr>
        <td><Link href={'/backups/jobs/' + j.id}>{j.name}</Link>
            {!j.enabled && <span class="badge">disabled</span>}</td>
        <td>{repoName(j.repository)}</td>
        <td>{vmSummary(j)}</td>
        <td class="sched">{j.schedule ? <><code>{j.schedule}</code> <span class="muted small">{j.timezone}</span></> :
            <span class="muted">manual</span>}</td>
        <td>{j.next_runs && j.next_runs.length ? zoned(j.next_runs[0], j.timezone) : '—'}</td>
        <td class="last-result"><LastResult job={j} mine={t} /><ErrorText error={a.error} /></td>
        <td class="row-actions">
            {op && <button type="button" class="small primary" disabled={a.busy || busy}
                aria-label={'Run ' + j.name + ' now'}
                onClick={() => a.run(async () => setTask(await post(`/backup/jobs/${j.id}/run`)))}>
                Run now</button>}
            {admin && <button type="button" class="small" aria-label={'Edit ' + j.name}
                onClick={() => setModal(['edit', j])}>Edit</button>}
            {admin && <button type="button" class="small danger" aria-label={'Delete ' + j.name}
                onClick={() => setModal(['del', j])}>Delete</button>}
        </td>
    </tr>;
}

export function Jobs() {
    const all = useStore(jobs);
    const r = useStore(repos);
    const ok = useStore(jobsApi);
    const [modal, setModal] = useState(null);
    const list = [...all.values()].sort((a, b) => a.name.localeCompare(b.name));
    const admin = can('admin');
    return <div>
        <PageHead title="Backup jobs" sub="Which VMs go to which repository, when, and how many backups are kept.">
            {admin && ok && <button type="button" class="primary" disabled={!r.size}
                title={r.size ? '' : 'Add a backup repository first'}
                onClick={() => setModal(['new'])}>Create job</button>}
        </PageHead>
        {!ok ? <NoBackupApi what="backup jobs" /> : !list.length ? <Empty>No backup job yet.
            {!r.size ? <> First <Link href="/backups/repositories">add a repository</Link>.</> : ''}
        </Empty> : <section class="card"><div class="table-wrap"><table class="table jobs">
            <thead><tr><th>Job</th><th>Repository</th><th>VMs</th><th>Schedule</th>
                <th>Next run</th><th>Last result</th><th><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>{list.map((j) => <JobRow key={j.id} j={j} setModal={setModal} />)}</tbody>
        </table></div></section>}
        {modal && modal[0] === 'new' && <JobDialog onClose={() => setModal(null)} />}
        {modal && modal[0] === 'edit' && <JobDialog job={modal[1]} onClose={() => setModal(null)} />}
        {modal && modal[0] === 'del' && <Confirm title={`Delete job ${modal[1].name}?`}
            text="The job and its history go; backups it made stay in the repository."
            action="Delete" danger onConfirm={() => del('/backup/jobs/' + modal[1].id)
                .then(() => drop(jobs, modal[1].id))}
            onClose={() => setModal(null)} />}
    </div>;
}

export { JobDialog, vmSummary };
