// bkrestore.jsx: restore points (backup snapshots) of a VM or of a
// repository, and the restore wizard: as a new VM, over a halted VM, or
// one disk as a new disk; the task's progress, throughput and ETA live.
import { useEffect, useState } from 'preact/hooks';
import { can, get, post } from './api.js';
import { backupApi, backupSeq, jobs, srs, vms } from './data.js';
import { bytes, time } from './format.js';
import { useStore } from './store.js';
import { Empty, ErrorText, Field, Link, Modal, useAction } from './ui.jsx';
import { NoBackupApi, RunBadge, jobName, repoName, useTask, vmName } from './bkcommon.jsx';
import { TaskBar } from './tasks.jsx';

const MODES = [
    ['new-vm', 'A new VM', 'A copy of the VM with new disks; the original is untouched.'],
    ['overwrite', 'Overwrite a halted VM', 'Its disks are replaced by the backup\'s; changes since are lost.'],
    ['disk', 'One disk', 'One of the backed-up disks, as a new detached disk.'],
];

export function RestoreWizard({ snap, onClose }) {
    const allVms = useStore(vms);
    const allSrs = useStore(srs);
    const srList = [...allSrs.values()];
    const halted = [...allVms.values()].filter((v) => v.state === 'halted')
        .sort((a, b) => a.name.localeCompare(b.name));
    const orig = snap.vm && allVms.get(snap.vm);
    const [f, setF] = useState({
        mode: 'new-vm', sr: srList[0] ? srList[0].id : '', name: '', disk: 0,
        vm: orig && orig.state === 'halted' ? orig.id : halted[0] ? halted[0].id : '',
    });
    const [t, setTask] = useTask();
    const a = useAction();
    const set = (k, v) => setF({ ...f, [k]: v });
    const go = (e) => {
        e.preventDefault();
        a.run(async () => {
            const body = { repository: snap.repository, mode: f.mode };
            if (f.mode !== 'overwrite' && f.sr) body.sr = f.sr;
            if (f.mode !== 'overwrite' && f.name) body.name = f.name;
            if (f.mode === 'overwrite') body.vm = f.vm;
            if (f.mode === 'disk') body.disk = Number(f.disk);
            setTask(await post(`/backup/snapshots/${snap.id}/restore`, body));
        });
    };
    const base = orig ? orig.name : snap.name;
    const made = t && t.status === 'success' && t.result && t.result.vm;
    const disk = t && t.status === 'success' && t.result && t.result.disk;
    return <Modal title={`Restore ${snap.name} of ${time(snap.time)}`} onClose={onClose} wide>
        <form onSubmit={go}>
            <div class="modal-body">
                <fieldset class="radios" disabled={!!t}>
                    <legend>Restore as</legend>
                    {MODES.map(([m, l, h]) => <label key={m} class="radio">
                        <input type="radio" name="restore-mode" value={m} checked={f.mode === m}
                            disabled={m === 'overwrite' && !halted.length}
                            onChange={() => set('mode', m)} />
                        <span><b>{l}</b> <span class="muted">{h}</span>
                            {m === 'overwrite' && !halted.length &&
                                <span class="muted"> (no halted VM)</span>}</span>
                    </label>)}
                </fieldset>
                <fieldset class="plainset" disabled={!!t}>
                    {f.mode === 'overwrite' && <Field label="VM to overwrite"
                        hint="Only halted VMs can be overwritten.">
                        <select value={f.vm} onChange={(e) => set('vm', e.target.value)}>
                            {halted.map((v) => <option key={v.id} value={v.id}>{v.name}</option>)}
                        </select></Field>}
                    {f.mode === 'disk' && <Field label="Disk to restore">
                        <select value={f.disk} onChange={(e) => set('disk', e.target.value)}>
                            {snap.disks.map((d, i) => <option key={i} value={i}>
                                {d.name} ({bytes(d.size)})</option>)}</select></Field>}
                    {f.mode !== 'overwrite' && <Field label="Storage repository"
                        hint="Where the restored disks are made.">
                        <select value={f.sr} onChange={(e) => set('sr', e.target.value)}>
                            {srList.map((s) => <option key={s.id} value={s.id}>
                                {s.name} ({bytes(s.free_bytes)} free)</option>)}</select></Field>}
                    {f.mode !== 'overwrite' && <Field
                        label={f.mode === 'new-vm' ? 'Name of the new VM' : 'Name of the new disk'}
                        hint="Empty: a name is chosen for you.">
                        <input maxLength={64} value={f.name} placeholder={f.mode === 'new-vm' ?
                            `${base} restored` : `${(snap.disks[f.disk] || {}).name || 'disk'} restored`}
                            onInput={(e) => set('name', e.target.value)} /></Field>}
                </fieldset>
                <ErrorText error={a.error} />
                {t && <div class="action-result" aria-live="polite">
                    <TaskBar t={t} label="Restore progress" />
                    {t.status === 'failure' && <p class="error" role="alert">
                        Restore failed: {t.error && t.error.message}</p>}
                    {made && <p class="ok-text" role="status">Restored as{' '}
                        <Link href={'/vms/' + made.id} onClick={onClose}>{made.name}</Link>.</p>}
                    {disk && <p class="ok-text" role="status">Restored as disk{' '}
                        <Link href="/storage" onClick={onClose}>{disk.name}</Link>.</p>}
                </div>}
            </div>
            <footer>
                <button type="button" onClick={onClose}>{t ? 'Close' : 'Cancel'}</button>
                {!t && <button type="submit" class="primary" disabled={a.busy ||
                    (f.mode === 'overwrite' && !f.vm)}>Restore</button>}
            </footer>
        </form>
    </Modal>;
}

/* Snapshots from GET /backup/snapshots?<query>, newest first, reloaded
 * when a backup event says something changed. */
export function SnapshotTable({ query, showVm }) {
    const seq = useStore(backupSeq);
    const ok = useStore(backupApi);
    const [list, setList] = useState(null);
    const [err, setErr] = useState(null);
    const [pick, setPick] = useState(null);
    useEffect(() => {
        if (!ok) return undefined;
        const tm = setTimeout(() => get('/backup/snapshots?' + query)
            .then((l) => {
                setErr(null);
                setList(l);
            }, setErr), list ? 300 : 0);
        return () => clearTimeout(tm);
    }, [query, seq, ok]);
    if (!ok) return <NoBackupApi />;
    const op = can('operator');
    return <section class="card" aria-labelledby="rp-h">
        <h2 id="rp-h">Restore points</h2>
        <ErrorText error={err} />
        {list && !list.length && <Empty>No backup yet.</Empty>}
        {list && list.length > 0 && <div class="table-wrap"><table class="table">
            <thead><tr><th>Time</th>{showVm && <th>VM</th>}<th>Name</th><th>Repository</th>
                <th>Job</th><th>Size</th><th>Disks</th>
                {op && <th><span class="sr-only">Actions</span></th>}</tr></thead>
            <tbody>{list.map((s) => <tr key={s.id}>
                <td>{time(s.time)}</td>
                {showVm && <td>{s.vm && vms.get().get(s.vm) ?
                    <Link href={`/vms/${s.vm}/backups`}>{vmName(s.vm)}</Link> :
                    <span class="muted">{s.name} (gone)</span>}</td>}
                <td>{s.name}{s.protected && <span class="badge">protected</span>}</td>
                <td>{repoName(s.repository)}</td>
                <td>{s.job ? <Link href={'/backups/jobs/' + s.job}>{jobName(s.job)}</Link> : 'manual'}</td>
                <td>{bytes(s.size)}</td>
                <td>{(s.disks || []).map((d) => d.name).join(', ')}</td>
                {op && <td class="row-actions"><button type="button" class="small primary"
                    aria-label={`Restore ${s.name} of ${time(s.time)}`}
                    onClick={() => setPick(s)}>Restore…</button></td>}
            </tr>)}</tbody>
        </table></div>}
        {pick && <RestoreWizard snap={pick} onClose={() => setPick(null)} />}
    </section>;
}

/* The VM page's Backups tab: the jobs that include it (by name or tag)
 * and its restore points. */
export function VmBackups({ vm }) {
    const all = useStore(jobs);
    const mine = [...all.values()].filter((j) => j.vms.includes(vm.id) ||
        j.tags.some((t) => (vm.tags || []).includes(t)));
    return <>
        <p class="vm-jobs">{mine.length ? <>Backed up by{' '}
            {mine.map((j, i) => <span key={j.id}>{i ? ', ' : ''}
                <Link href={'/backups/jobs/' + j.id}>{j.name}</Link>
                {j.last_run && <> <RunBadge status={j.last_run.status} /></>}</span>)}.</> :
            <span class="muted">No backup job includes this VM{can('admin') ? <>:{' '}
                <Link href="/backups/jobs">create one</Link></> : ''}.</span>}</p>
        <SnapshotTable query={'vm=' + encodeURIComponent(vm.id)} />
    </>;
}
