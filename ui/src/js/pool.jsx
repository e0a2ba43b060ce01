// pool.jsx: the pool this host belongs to: its name, description and
// the default SR new disks go to (admins change them).
import { useEffect, useState } from 'preact/hooks';
import { can, get, patch } from './api.js';
import { srs } from './data.js';
import { duration, bytes } from './format.js';
import { useStore } from './store.js';
import { ErrorText, Field, PageHead, useAction } from './ui.jsx';

export function Pool() {
    const s = useStore(srs);
    const [pool, setPool] = useState(null);
    const [f, setF] = useState(null);
    const [saved, setSaved] = useState(false);
    const a = useAction();
    const load = () => get('/pool').then((p) => {
        setPool(p);
        setF({ name: p.name, description: p.description || '', default_sr: p.default_sr || '' });
    }, a.setError);
    useEffect(() => {
        load();
    }, []);
    const admin = can('admin');
    const save = (e) => {
        e.preventDefault();
        const body = {};
        for (const k of ['name', 'description'])
            if (f[k] !== (pool[k] || '')) body[k] = f[k];
        if (f.default_sr !== (pool.default_sr || '')) body.default_sr = f.default_sr || null;
        if (!Object.keys(body).length) return;
        a.run(async () => {
            await patch('/pool', body);
            setSaved(true);
            await load();
        });
    };
    return <div>
        <PageHead title="Pool" sub="The hosts xenith manages together and their defaults." />
        <ErrorText error={!f && a.error} />
        {f && <form class="card form-grid" onSubmit={save} aria-label="Pool settings">
            <fieldset disabled={!admin}>
                <legend>Settings</legend>
                <Field label="Name"><input required maxLength={64} value={f.name}
                    onInput={(e) => setF({ ...f, name: e.target.value })} /></Field>
                <Field label="Description"><input value={f.description}
                    onInput={(e) => setF({ ...f, description: e.target.value })} /></Field>
                <Field label="Default storage repository" hint="Where new disks go when no SR is named.">
                    <select value={f.default_sr}
                        onChange={(e) => setF({ ...f, default_sr: e.target.value })}>
                        <option value="">none</option>
                        {[...s.values()].map((x) => <option key={x.id} value={x.id}>{x.name}</option>)}
                    </select></Field>
            </fieldset>
            {admin && <div class="form-foot">
                <ErrorText error={a.error} />
                {saved && <span role="status" class="ok">Saved.</span>}
                <button type="submit" class="primary" disabled={a.busy}>Save</button>
            </div>}
        </form>}
        {pool && <section class="card" aria-labelledby="p-hosts">
            <h2 id="p-hosts">Hosts</h2>
            <table class="table">
                <thead><tr><th>Host</th><th>Hypervisor</th><th>CPUs</th><th>Memory free</th>
                    <th>Uptime</th><th>xenith</th></tr></thead>
                <tbody>{pool.hosts.map((h) => <tr key={h.hostname}>
                    <td>{h.hostname}</td><td>{h.hypervisor_version} ({h.driver})</td>
                    <td>{h.cpus}</td><td>{bytes(h.memory_free_bytes)} of {bytes(h.memory_total_bytes)}</td>
                    <td>{duration(h.uptime_s)}</td><td>{h.version}</td>
                </tr>)}</tbody>
            </table>
        </section>}
    </div>;
}
