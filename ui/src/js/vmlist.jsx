// vmlist.jsx: every VM, searchable, filterable, sortable, with
// multi-select power actions; only the visible rows are in the DOM, so
// 1000 VMs scroll as smoothly as 10.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { can, del } from './api.js';
import { vms } from './data.js';
import { mib } from './format.js';
import { navigate } from './router.js';
import { useStore } from './store.js';
import { Confirm, ErrorText, Link, PageHead, StateBadge, Empty } from './ui.jsx';
import { ACTIONS, allowed, runAction } from './vmactions.js';

const ROW = 44;
const OVERSCAN = 8;
const COLS = [
    ['name', 'Name'], ['state', 'State'], ['vcpus', 'vCPUs'],
    ['memory_mib', 'Memory'], ['tags', 'Tags'],
];

function cmp(key) {
    return (a, b) => {
        const x = key === 'tags' ? (a.tags || []).join(',') : a[key];
        const y = key === 'tags' ? (b.tags || []).join(',') : b[key];
        if (typeof x === 'number') return x - y;
        return String(x).localeCompare(String(y), undefined, { numeric: true });
    };
}

export function VmList() {
    const all = useStore(vms);
    const qs = new URLSearchParams(location.search);
    const [q, setQ] = useState('');
    const [state, setState] = useState(qs.get('state') || '');
    const [tag, setTag] = useState(qs.get('tag') || '');
    const [sort, setSort] = useState(['name', 1]);
    const [sel, setSel] = useState(new Set());
    const [confirm, setConfirm] = useState(null);
    const [err, setErr] = useState(null);
    const [busy, setBusy] = useState(false);
    const scroller = useRef();
    // The first visible row and how many fit: re-render only when a row
    // enters or leaves, not on every scrolled pixel.
    const [topRow, setTopRow] = useState(0);
    const [height, setHeight] = useState(600);

    const tags = useMemo(() => {
        const s = new Set();
        for (const v of all.values()) (v.tags || []).forEach((t) => s.add(t));
        return [...s].sort();
    }, [all]);

    const list = useMemo(() => {
        const needle = q.trim().toLowerCase();
        const out = [];
        for (const v of all.values()) {
            if (state && v.state !== state) continue;
            if (tag && !(v.tags || []).includes(tag)) continue;
            if (needle && !v.name.toLowerCase().includes(needle) &&
                !(v.description || '').toLowerCase().includes(needle) &&
                !(v.tags || []).some((t) => t.toLowerCase().includes(needle)))
                continue;
            out.push(v);
        }
        const c = cmp(sort[0]);
        out.sort((a, b) => sort[1] * c(a, b) || a.name.localeCompare(b.name));
        return out;
    }, [all, q, state, tag, sort]);

    useLayoutEffect(() => {
        const el = scroller.current;
        if (!el) return undefined;
        const ro = new ResizeObserver(() => setHeight(el.clientHeight));
        ro.observe(el);
        return () => ro.disconnect();
    }, []);

    // Drop from the selection the VMs that went away.
    useEffect(() => {
        const n = new Set([...sel].filter((id) => all.has(id)));
        if (n.size !== sel.size) setSel(n);
    }, [all]);

    const first = Math.max(0, topRow - OVERSCAN);
    const last = Math.min(list.length, topRow + Math.ceil(height / ROW) + 1 + OVERSCAN);
    const rows = list.slice(first, last);
    const selected = list.filter((v) => sel.has(v.id));
    const operator = can('operator');

    const toggle = (id) => {
        const n = new Set(sel);
        if (n.has(id)) n.delete(id);
        else n.add(id);
        setSel(n);
    };
    const allSel = list.length > 0 && selected.length === list.length;
    const bulk = async (a, targets) => {
        setBusy(true);
        setErr(null);
        const fails = [];
        await Promise.all(targets.map((v) => (a === 'delete' ?
            del('/vms/' + v.id) : runAction(v.id, a.op))
            .catch((e) => fails.push(`${v.name}: ${e.message}`))));
        setBusy(false);
        if (fails.length) setErr(fails.join('; '));
    };
    const ask = (a) => {
        const targets = selected.filter((v) => a === 'delete' ?
            v.state === 'halted' : allowed(a, v));
        if (!targets.length) return;
        if (a === 'delete' || a.confirm)
            setConfirm({ a, targets });
        else bulk(a, targets);
    };
    const header = (key, label) => {
        const on = sort[0] === key;
        return <div role="columnheader" class={'c-' + key}
            aria-sort={on ? (sort[1] > 0 ? 'ascending' : 'descending') : 'none'}>
            <button type="button" class="sort" onClick={() =>
                setSort([key, on ? -sort[1] : 1])}>
                {label}{on ? (sort[1] > 0 ? ' ▲' : ' ▼') : ''}</button>
        </div>;
    };
    const onRowKey = (e, v, i) => {
        if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
            e.preventDefault();
            const j = first + i + (e.key === 'ArrowDown' ? 1 : -1);
            if (j < 0 || j >= list.length) return;
            const el = scroller.current;
            if (j * ROW < el.scrollTop) el.scrollTop = j * ROW;
            if ((j + 1) * ROW > el.scrollTop + el.clientHeight)
                el.scrollTop = (j + 1) * ROW - el.clientHeight;
            const focus = () => {
                const r = el.querySelector(`[data-index="${j}"] a`);
                if (r) r.focus();
                return !!r;
            };
            // The row is there unless it is beyond the overscan.
            if (!focus()) requestAnimationFrame(focus);
        } else if (e.key === ' ' && operator && e.target.tagName === 'A') {
            e.preventDefault();
            toggle(v.id);
        }
    };

    return <div class="vm-list-page">
        <PageHead title="Virtual machines" sub={`${list.length} of ${all.size}`}>
            {operator && <Link class="button primary" href="/vms/new">New VM</Link>}
        </PageHead>
        <div class="toolbar" role="search">
            <input type="search" placeholder="Search name, description, tag"
                aria-label="Search VMs" value={q}
                onInput={(e) => setQ(e.target.value)} />
            <select aria-label="Filter by state" value={state}
                onChange={(e) => setState(e.target.value)}>
                <option value="">All states</option>
                {['running', 'halted', 'paused', 'suspended', 'crashed'].map((s) =>
                    <option key={s} value={s}>{s}</option>)}
            </select>
            <select aria-label="Filter by tag" value={tag}
                onChange={(e) => setTag(e.target.value)}>
                <option value="">All tags</option>
                {tags.map((t) => <option key={t} value={t}>{t}</option>)}
            </select>
            {operator && selected.length > 0 && <div class="bulk" role="group"
                aria-label={`Actions on ${selected.length} selected VMs`}>
                <span>{selected.length} selected</span>
                {ACTIONS.map((a) => {
                    const n = selected.filter((v) => allowed(a, v)).length;
                    return <button key={a.op} type="button" class="small"
                        disabled={!n || busy} onClick={() => ask(a)}>
                        {a.label}{n ? ` (${n})` : ''}</button>;
                })}
                <button type="button" class="small danger" disabled={busy ||
                    !selected.some((v) => v.state === 'halted')}
                    onClick={() => ask('delete')}>Delete</button>
            </div>}
        </div>
        <ErrorText error={err} />
        <div class="vgrid" role="table" aria-label="Virtual machines"
            aria-rowcount={list.length + 1}>
            <div class="vrow head" role="row" aria-rowindex={1}>
                {operator && <div role="columnheader" class="c-sel">
                    <input type="checkbox" aria-label="Select all shown VMs"
                        checked={allSel} onChange={() => setSel(allSel ?
                            new Set() : new Set(list.map((v) => v.id)))} />
                </div>}
                {COLS.map(([k, l]) => header(k, l))}
            </div>
            <div class="vbody" ref={scroller}
                onScroll={(e) => setTopRow(Math.floor(e.currentTarget.scrollTop / ROW))}>
                {!list.length && <Empty>{all.size ? 'No VM matches.' :
                    'No VM yet.'}</Empty>}
                <div class="vspacer" style={{ height: list.length * ROW + 'px' }}>
                    <div class="vwindow" style={{ transform: `translateY(${first * ROW}px)` }}>
                    {rows.map((v, i) => <div key={v.id} role="row"
                        class={'vrow' + (sel.has(v.id) ? ' selected' : '')}
                        data-index={first + i} aria-rowindex={first + i + 2}
                        onKeyDown={(e) => onRowKey(e, v, i)}
                        onDblClick={() => navigate('/vms/' + v.id)}>
                        {operator && <div role="cell" class="c-sel">
                            <input type="checkbox" checked={sel.has(v.id)}
                                aria-label={'Select ' + v.name}
                                onChange={() => toggle(v.id)} /></div>}
                        <div role="cell" class="c-name">
                            <Link href={'/vms/' + v.id}>{v.name}</Link>
                            {v.description && <span class="muted"> {v.description}</span>}
                        </div>
                        <div role="cell" class="c-state"><StateBadge state={v.state} /></div>
                        <div role="cell" class="c-vcpus">{v.vcpus}</div>
                        <div role="cell" class="c-memory_mib">{mib(v.memory_mib)}</div>
                        <div role="cell" class="c-tags">{(v.tags || []).map((t) =>
                            <button type="button" key={t} class="tag"
                                onClick={() => setTag(t)}
                                aria-label={'Filter by tag ' + t}>{t}</button>)}</div>
                    </div>)}
                    </div>
                </div>
            </div>
        </div>
        {confirm && <Confirm title={confirm.a === 'delete' ? 'Delete VMs' :
            confirm.a.label + ' VMs'}
            text={`${confirm.a === 'delete' ? 'Delete' : confirm.a.label} ${
                confirm.targets.length} VM(s): ${confirm.targets.slice(0, 5)
                .map((v) => v.name).join(', ')}${confirm.targets.length > 5 ? '…' : ''}?`}
            action={confirm.a === 'delete' ? 'Delete' : confirm.a.label}
            danger={confirm.a === 'delete' || confirm.a.danger}
            onConfirm={() => bulk(confirm.a, confirm.targets)}
            onClose={() => setConfirm(null)} />}
    </div>;
}
