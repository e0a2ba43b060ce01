// audit.jsx: the audit log with filters and the hash chain's status.
import { useEffect, useState } from 'preact/hooks';
import { get } from './api.js';
import { time } from './format.js';
import { Empty, ErrorText, PageHead } from './ui.jsx';

export function AuditTable({ rows }) {
    if (!rows.length) return <Empty>No entry.</Empty>;
    return <div class="table-wrap"><table class="table audit">
        <thead><tr><th>#</th><th>Time</th><th>User</th><th>From</th><th>Request</th>
            <th>Status</th></tr></thead>
        <tbody>{rows.map((x) => <tr key={x.seq}>
            <td>{x.seq}</td><td>{time(x.ts)}</td><td>{x.username || '—'}</td>
            <td class="mono">{x.source}</td>
            <td class="mono"><b>{x.method}</b> {x.path}</td>
            <td><span class={'http ' + (x.status >= 400 ? 'bad' : 'ok')}>{x.status}</span></td>
        </tr>)}</tbody>
    </table></div>;
}

export function Audit() {
    const [user, setUser] = useState('');
    const [text, setText] = useState('');
    const [failed, setFailed] = useState(false);
    const [rows, setRows] = useState(null);
    const [more, setMore] = useState(false);
    const [verify, setVerify] = useState(null);
    const [err, setErr] = useState(null);
    const load = (before) => {
        let q = '/audit?limit=200';
        if (user.trim()) q += '&user=' + encodeURIComponent(user.trim());
        if (before) q += '&before=' + before;
        return get(q).then((l) => {
            setErr(null);
            setRows((r) => before && r ? [...r, ...l] : l);
            setMore(l.length === 200);
        }, setErr);
    };
    useEffect(() => {
        get('/audit/verify').then(setVerify, setErr);
    }, []);
    useEffect(() => {
        const t = setTimeout(() => load(), 250);
        return () => clearTimeout(t);
    }, [user]);
    const needle = text.trim().toLowerCase();
    const shown = (rows || []).filter((x) => (!failed || x.status >= 400) &&
        (!needle || (x.method + ' ' + x.path + ' ' + x.target).toLowerCase().includes(needle)));
    return <div>
        <PageHead title="Audit log" sub="Every change, who made it, from where." />
        {verify && <p class={'chain ' + (verify.ok ? 'ok' : 'bad')} role="status">
            {verify.ok ? `Hash chain verified: all ${verify.rows} entries are intact.` :
                `Hash chain BROKEN at entry ${verify.first_bad_seq}: the log was altered.`}</p>}
        <div class="toolbar" role="search">
            <input type="search" aria-label="Filter by user" placeholder="User"
                value={user} onInput={(e) => setUser(e.target.value)} />
            <input type="search" aria-label="Filter by request" placeholder="Path, method or target"
                value={text} onInput={(e) => setText(e.target.value)} />
            <label class="check"><input type="checkbox" checked={failed}
                onChange={(e) => setFailed(e.target.checked)} /> Refused or failed only</label>
        </div>
        <ErrorText error={err} />
        <section class="card">{rows ? <AuditTable rows={shown} /> :
            <p class="loading">Loading…</p>}
            {more && <button type="button" onClick={() => load(rows[rows.length - 1].seq)}>Older entries</button>}
        </section>
    </div>;
}
