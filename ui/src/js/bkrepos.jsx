// bkrepos.jsx: backup repositories: their stats (snapshots, logical and
// stored bytes, dedup ratio), encryption state and key fingerprint,
// status; add/attach, rename or change the passphrase, forget (admin);
// verify, prune and garbage collection as tasks with live progress.
import { useEffect, useState } from 'preact/hooks';
import { can, del, get, patch, post } from './api.js';
import { backupApi, backupSeq, drop, put, refresh, repos } from './data.js';
import { bytes, ratio, time } from './format.js';
import { useStore } from './store.js';
import { Confirm, Empty, ErrorText, Field, FormModal, Link, PageHead, useAction } from './ui.jsx';
import { NoBackupApi, useTask } from './bkcommon.jsx';
import { TaskBar, isActive } from './tasks.jsx';
import { SnapshotTable } from './bkrestore.jsx';

function AddRepo({ onClose }) {
    const [f, setF] = useState({ name: '', path: '', passphrase: '', again: '',
        compression: 1 });
    const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
    return <FormModal title="Add a backup repository" onClose={onClose} submit="Add"
        onSubmit={() => {
            if (f.passphrase !== f.again) {
                const e = new Error('The two passphrases differ.');
                e.field = 'passphrase';
                throw e;
            }
            const body = { name: f.name, path: f.path,
                compression_level: Number(f.compression) };
            if (f.passphrase) body.passphrase = f.passphrase;
            return post('/backup/repositories', body).then((x) => put(repos, x));
        }}>
        <Field label="Name"><input required maxLength={64} value={f.name} autofocus
            onInput={set('name')} /></Field>
        <Field label="Directory" hint="An absolute path on the host. Empty or missing: a new repository is made there; holding one already: it is attached.">
            <input required placeholder="/srv/backups/main" value={f.path}
                onInput={set('path')} /></Field>
        <Field label="Passphrase (optional)" hint="At least 8 characters. Given for a new repository, it is encrypted; needed to attach an encrypted one. It is never shown again.">
            <input type="password" autocomplete="new-password" minLength={8}
                value={f.passphrase} onInput={set('passphrase')} /></Field>
        {f.passphrase && <Field label="Passphrase again"><input type="password"
            autocomplete="new-password" required value={f.again}
            onInput={set('again')} /></Field>}
        <Field label="Compression level" hint="zstd, 0 (off) to 19 (smallest, slowest); 1 is fast and good.">
            <input type="number" min="0" max="19" required value={f.compression}
                onInput={set('compression')} /></Field>
    </FormModal>;
}

function EditRepo({ repo, onClose }) {
    const [name, setName] = useState(repo.name);
    const [pass, setPass] = useState('');
    return <FormModal title={`Edit ${repo.name}`} onClose={onClose} submit="Save"
        onSubmit={() => {
            const body = {};
            if (name !== repo.name) body.name = name;
            if (pass) body.passphrase = pass;
            return Object.keys(body).length ? patch('/backup/repositories/' + repo.id, body)
                .then((x) => put(repos, x)) : null;
        }}>
        <Field label="Name"><input required maxLength={64} value={name}
            onInput={(e) => setName(e.target.value)} /></Field>
        {repo.encrypted && <Field label="Passphrase (optional)"
            hint="Only to give xenith the repository's passphrase again, e.g. after moving its data directory.">
            <input type="password" autocomplete="new-password" value={pass}
                onInput={(e) => setPass(e.target.value)} /></Field>}
    </FormModal>;
}

function Verify({ repo, onClose, onTask }) {
    const [pct, setPct] = useState(100);
    return <FormModal title={`Verify ${repo.name}`} onClose={onClose} submit="Verify"
        onSubmit={async () => onTask(await post(`/backup/repositories/${repo.id}/verify`,
            { sample_percent: Number(pct) }))}>
        <p>Reads chunks back, checks their hashes, and reports snapshots whose
            data is damaged or missing.</p>
        <Field label="Sample (%)" hint="100 reads every chunk; less reads a random sample, faster.">
            <input type="number" min="1" max="100" required value={pct}
                onInput={(e) => setPct(e.target.value)} /></Field>
    </FormModal>;
}

function Unlock({ repo, onClose, onTask }) {
    const [host, setHost] = useState('');
    return <FormModal title={`Unlock ${repo.name}`} onClose={onClose} submit="Unlock"
        onSubmit={async () => onTask(await post(`/backup/repositories/${repo.id}/unlock`,
            host.trim() ? { host: host.trim() } : {}))}>
        <p>Removes the locks of backups, prunes and garbage collections that
            died on this host. A backup's lock goes only after the chunks it may
            have left are checked.</p>
        <Field label="Dead host (optional)"
            hint="Another host that shared this repository and will never use it again: its locks look live from here and are removed only when it is named.">
            <input maxLength={253} value={host} placeholder="dom0-b"
                onInput={(e) => setHost(e.target.value)} /></Field>
    </FormModal>;
}

export const KEEP = [['last', 'Last'], ['hourly', 'Hourly'], ['daily', 'Daily'],
    ['weekly', 'Weekly'], ['monthly', 'Monthly'], ['yearly', 'Yearly']];

/* Six "keep" numbers; values is {last, hourly, ...}. */
export function RetentionFields({ values, onChange, legend }) {
    return <fieldset class="retention">
        <legend>{legend}</legend>
        <div class="grid6">
            {KEEP.map(([k, l]) => <Field key={k} label={l}>
                <input type="number" min="0" step="1" value={values[k]}
                    onInput={(e) => onChange({ ...values, [k]: e.target.value })} /></Field>)}
        </div>
        <p class="hint">How many snapshots to keep per VM: the last N, and the newest of each
            of the last N hours, days, weeks, months and years. 0 leaves a rule unused.</p>
    </fieldset>;
}

function Prune({ repo, onClose, onTask }) {
    const [keep, setKeep] = useState({ last: 7, hourly: 0, daily: 7, weekly: 4,
        monthly: 6, yearly: 0 });
    const [dry, setDry] = useState(true);
    return <FormModal title={`Prune ${repo.name}`} onClose={onClose}
        submit={dry ? 'Show what would go' : 'Prune'}
        onSubmit={async () => {
            const body = { dry_run: dry };
            for (const [k] of KEEP) body['keep_' + k] = Number(values0(keep[k]));
            onTask(await post(`/backup/repositories/${repo.id}/prune`, body), dry);
        }}>
        <RetentionFields values={keep} onChange={setKeep} legend="Keep" />
        <label class="check"><input type="checkbox" checked={dry}
            onChange={(e) => setDry(e.target.checked)} /> Dry run: only list the
            snapshots that would be removed</label>
        <p class="muted small">Pruning forgets snapshots; their space comes back
            with garbage collection.</p>
    </FormModal>;
}

const values0 = (v) => (v === '' || v == null ? 0 : v);

/* What a finished verify, prune, gc or unlock task returned, in words. */
function Outcome({ kind, t }) {
    const r = t.result || {};
    if (t.status === 'failure')
        return <p class="error" role="alert">{kind} failed: {t.error && t.error.message}
            {r.bad && r.bad.length ? ` (${r.bad.length} bad chunk(s))` : ''}</p>;
    if (t.status !== 'success') return null;
    let text = `${kind} done.`;
    if (kind === 'Verify')
        text = `Verified ${r.chunks_checked} of ${r.chunks_total} chunks (${bytes(r.bytes_checked)}): ` +
            ((r.bad && r.bad.length) || (r.bad_indexes && r.bad_indexes.length) ?
                `${(r.bad || []).length} bad chunk(s), ${(r.bad_indexes || []).length} bad index(es).` :
                'all good.');
    else if (kind.startsWith('Prune'))
        text = `${kind}: ${(r.removed || []).length} snapshot(s) ${kind === 'Prune' ? 'removed' : 'would go'}.`;
    else if (kind === 'Garbage collection')
        text = `Garbage collection: ${r.chunks_removed} chunk(s) removed (${bytes(r.bytes_removed)}), ${r.chunks_kept} kept.`;
    else if (kind === 'Unlock')
        text = `Unlock: ${r.backup_locks_removed} backup lock(s) removed (${r.chunks_removed} of ` +
            `${r.chunks_checked} chunk(s) checked removed)` +
            (r.exclusive_removed ? ', and the prune/gc lock.' : '.');
    return <p class="ok-text" role="status">{text}</p>;
}

function RepoCard({ repo }) {
    const [modal, setModal] = useState(null);
    const [t, setTask] = useTask();
    const [kind, setKind] = useState('');
    const a = useAction();
    const admin = can('admin');
    const st = repo.stats || {};
    const done = t && !isActive(t);
    useEffect(() => {
        if (done) refresh('repository', repo.id);
    }, [done]);
    const started = (k) => (task, dry) => {
        setKind(dry ? k + ' (dry run)' : k);
        setTask(task);
    };
    return <article class="card repo" aria-label={'Repository ' + repo.name}>
        <div class="card-head"><h3>{repo.name}</h3>
            <span class={'badge ' + (repo.status === 'ok' ? 'ok' : 'bad')}>
                {repo.status === 'ok' ? 'available' : 'unavailable'}</span></div>
        <p class="muted mono">{repo.path}</p>
        {repo.status !== 'ok' && repo.error && <p class="error">{repo.error}</p>}
        <dl class="stats">
            <div><dt>Snapshots</dt><dd>{st.snapshots ?? '—'}</dd></div>
            <div><dt>Logical</dt><dd>{bytes(st.logical_bytes)}</dd></div>
            <div><dt>Stored</dt><dd>{bytes(st.stored_bytes)}</dd></div>
            <div><dt>Dedup ratio</dt><dd>{ratio(st.dedup_ratio)}</dd></div>
        </dl>
        <p class="small">
            <span class={'cap ' + (repo.encrypted ? 'yes' : 'no')}>
                {repo.encrypted ? 'Encrypted' : 'Not encrypted'}</span>
            {repo.encrypted && repo.key_fingerprint && <> · key{' '}
                <code class="fp" title="Key fingerprint">{repo.key_fingerprint}</code></>}
            {' '}· zstd level {repo.compression_level}
            {st.chunks != null && ` · ${st.chunks} chunks`}
            {repo.created && ` · since ${time(repo.created)}`}
        </p>
        <p class="small"><Link href={'/backups/repositories/' + repo.id}>Restore points</Link></p>
        {admin && <div class="button-row" role="group" aria-label={'Actions on ' + repo.name}>
            <button type="button" class="small" onClick={() => setModal('verify')}
                aria-label={'Verify ' + repo.name}>Verify</button>
            <button type="button" class="small" onClick={() => setModal('prune')}
                aria-label={'Prune ' + repo.name}>Prune</button>
            <button type="button" class="small" disabled={a.busy}
                aria-label={'Collect garbage in ' + repo.name}
                onClick={() => a.run(async () => started('Garbage collection')(
                    await post(`/backup/repositories/${repo.id}/gc`)))}>Collect garbage</button>
            <button type="button" class="small" onClick={() => setModal('unlock')}
                aria-label={'Unlock ' + repo.name}>Unlock</button>
            <button type="button" class="small" onClick={() => setModal('edit')}
                aria-label={'Edit ' + repo.name}>Edit</button>
            <button type="button" class="small danger" onClick={() => setModal('forget')}
                aria-label={'Forget ' + repo.name}>Forget</button>
        </div>}
        <ErrorText error={a.error} />
        {t && <div class="action-result" aria-live="polite">
            <TaskBar t={t} label={`${kind} of ${repo.name}`} />
            <Outcome kind={kind} t={t} />
        </div>}
        {modal === 'verify' && <Verify repo={repo} onClose={() => setModal(null)}
            onTask={started('Verify')} />}
        {modal === 'prune' && <Prune repo={repo} onClose={() => setModal(null)}
            onTask={started('Prune')} />}
        {modal === 'unlock' && <Unlock repo={repo} onClose={() => setModal(null)}
            onTask={started('Unlock')} />}
        {modal === 'edit' && <EditRepo repo={repo} onClose={() => setModal(null)} />}
        {modal === 'forget' && <Confirm title={`Forget repository ${repo.name}?`}
            text="xenith stops using it. Its data stays in the directory and can be attached again."
            action="Forget" danger onConfirm={() => del('/backup/repositories/' + repo.id)
                .then(() => drop(repos, repo.id))}
            onClose={() => setModal(null)} />}
    </article>;
}

export function Repositories() {
    const r = useStore(repos);
    const ok = useStore(backupApi);
    const seq = useStore(backupSeq);
    // Stats move with every backup, prune and gc: on arrival and after
    // each backup event, fetch them again (one GET, no timer).
    useEffect(() => {
        if (!ok) return undefined;
        const tm = setTimeout(() => get('/backup/repositories').then((l) =>
            repos.set(new Map(l.map((x) => [x.id, x]))), () => {}), seq ? 300 : 0);
        return () => clearTimeout(tm);
    }, [seq, ok]);
    const [adding, setAdding] = useState(false);
    const list = [...r.values()].sort((a, b) => a.name.localeCompare(b.name));
    return <div>
        <PageHead title="Backup repositories"
            sub="Deduplicated, compressed, optionally encrypted stores of VM backups.">
            {can('admin') && ok && <button type="button" class="primary"
                onClick={() => setAdding(true)}>Add repository</button>}
        </PageHead>
        {!ok ? <NoBackupApi /> : !list.length ? <Empty>No backup repository yet.
            {can('admin') ? ' Add one to start backing up VMs.' : ''}</Empty> :
            <div class="cards">{list.map((x) => <RepoCard key={x.id} repo={x} />)}</div>}
        {adding && <AddRepo onClose={() => setAdding(false)} />}
    </div>;
}

/* Every restore point in one repository (VMs deleted since included). */
export function RepoSnapshots({ id }) {
    const r = useStore(repos).get(id);
    if (!r) return <div><h1>Repository not found</h1>
        <p><Link href="/backups/repositories">All repositories</Link></p></div>;
    return <div>
        <nav class="crumbs" aria-label="Breadcrumb">
            <Link href="/backups/repositories">Backup repositories</Link> / {r.name}</nav>
        <PageHead title={`Restore points in ${r.name}`} />
        <SnapshotTable query={'repository=' + encodeURIComponent(id)} showVm />
    </div>;
}
