// graphs.jsx: live CPU, memory, disk and network graphs of a running VM
// from GET /vms/{id}/stats every 2 s (the one polled thing: samples are
// not events). uPlot is loaded on first use, not with the app.
import { useEffect, useRef, useState } from 'preact/hooks';
import { get } from './api.js';
import { bytes, rate } from './format.js';

const POINTS = 90;
const CHARTS = [
    { key: 'cpu', title: 'CPU', series: [['cpu_pct', 'CPU %']], fmt: (v) => v.toFixed(0) + '%' },
    { key: 'mem', title: 'Memory', series: [['memory_bytes', 'Used']], fmt: bytes },
    { key: 'disk', title: 'Disk I/O', series: [['disk_read_bps', 'Read'], ['disk_write_bps', 'Write']], fmt: rate },
    { key: 'net', title: 'Network', series: [['net_rx_bps', 'Received'], ['net_tx_bps', 'Sent']], fmt: rate },
];
const COLORS = ['#2f7de1', '#e0793a'];

function Chart({ def, data, uplot }) {
    const box = useRef();
    const plot = useRef();
    useEffect(() => {
        if (!uplot) return undefined;
        const w = box.current.clientWidth || 300;
        plot.current = new uplot({
            width: w, height: 160,
            legend: { show: false },
            cursor: { drag: { x: false, y: false } },
            scales: { x: { time: true } },
            axes: [
                { stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,.15)' }, space: 90,
                    values: (u, vals) => vals.map((v) => new Date(v * 1000)
                        .toLocaleTimeString([], { hour: '2-digit', minute: '2-digit',
                            second: '2-digit', hour12: false })) },
                { stroke: 'currentColor', size: 70, grid: { stroke: 'rgba(128,128,128,.15)' },
                    values: (u, vals) => vals.map((v) => def.fmt(v)) },
            ],
            series: [{}, ...def.series.map(([, label], i) => ({
                label, stroke: COLORS[i], width: 2,
                fill: i ? undefined : COLORS[i] + '22',
                value: (u, v) => v == null ? '—' : def.fmt(v),
            }))],
        }, [[]], box.current);
        const ro = new ResizeObserver(() => plot.current.setSize({
            width: box.current.clientWidth, height: 160 }));
        ro.observe(box.current);
        return () => {
            ro.disconnect();
            plot.current.destroy();
        };
    }, [uplot]);
    useEffect(() => {
        if (plot.current) plot.current.setData(data);
    }, [data]);
    const now = def.series.map(([, label], i) => {
        const d = data[i + 1];
        const v = d && d.length ? d[d.length - 1] : null;
        return [label, v == null ? '—' : def.fmt(v)];
    });
    return <figure class="chart">
        <figcaption>
            <span class="chart-title">{def.title}</span>
            {now.map(([l, v], i) => <span key={l} class="chart-now">
                <span class={'swatch s' + i} aria-hidden="true" />{l} <b>{v}</b></span>)}
        </figcaption>
        <div ref={box} class="chart-box" />
    </figure>;
}

export function Graphs({ vm }) {
    const [uplot, setUplot] = useState(null);
    const [hist, setHist] = useState([]);
    const [err, setErr] = useState(null);
    const on = vm.state === 'running' || vm.state === 'paused';
    useEffect(() => {
        Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css')])
            .then(([m]) => setUplot(() => m.default));
    }, []);
    useEffect(() => {
        if (!on) return undefined;
        let stop = false;
        const tick = async () => {
            try {
                const s = await get(`/vms/${vm.id}/stats`);
                if (stop) return;
                setErr(null);
                setHist((h) => [...h.slice(-POINTS + 1), { t: Date.now() / 1000, ...s }]);
            } catch (e) {
                if (!stop) setErr(e);
            }
        };
        tick();
        const iv = setInterval(tick, 2000);
        return () => {
            stop = true;
            clearInterval(iv);
        };
    }, [vm.id, on]);
    if (!on) return <section class="card"><h2>Live graphs</h2>
        <p class="empty">The VM is {vm.state}: graphs show while it runs.</p></section>;
    return <section class="card" aria-labelledby="g-h">
        <h2 id="g-h">Live graphs</h2>
        {err && <p class="error" role="alert">{err.message}</p>}
        <div class="charts">
            {CHARTS.map((c) => <Chart key={c.key} def={c} uplot={uplot}
                data={[hist.map((p) => p.t), ...c.series.map(([k]) => hist.map((p) => p[k]))]} />)}
        </div>
    </section>;
}
