// bkschedule.jsx: the schedule editor of a backup job: presets (manual,
// hourly, daily at HH:MM, weekly) that write a 5-field cron expression,
// the expression itself for anything else, the time zone, and the next
// five runs from GET /backup/schedule/preview, live as the user types.
import { useEffect, useState } from 'preact/hooks';
import { get } from './api.js';
import { zoned } from './format.js';
import { ErrorText, Field } from './ui.jsx';

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const two = (n) => String(n).padStart(2, '0');

/* The preset a cron expression is, with its parameters, or 'custom'. */
export function presetOf(cron) {
    const c = (cron || '').trim();
    if (!c) return { preset: 'manual' };
    const f = c.split(/\s+/);
    if (f.length !== 5 || !/^\d+$/.test(f[0])) return { preset: 'custom' };
    const min = Number(f[0]);
    if (min > 59) return { preset: 'custom' };
    if (f[1] === '*' && f[2] === '*' && f[3] === '*' && f[4] === '*')
        return { preset: 'hourly', minute: min };
    if (!/^\d+$/.test(f[1]) || Number(f[1]) > 23 || f[2] !== '*' || f[3] !== '*')
        return { preset: 'custom' };
    const at = `${two(f[1])}:${two(min)}`;
    if (f[4] === '*') return { preset: 'daily', at };
    if (/^[0-6]$/.test(f[4])) return { preset: 'weekly', at, day: Number(f[4]) };
    return { preset: 'custom' };
}

export function cronOf(p) {
    const [h, m] = (p.at || '02:00').split(':').map(Number);
    if (p.preset === 'manual') return '';
    if (p.preset === 'hourly') return `${Number(p.minute) || 0} * * * *`;
    if (p.preset === 'daily') return `${m} ${h} * * *`;
    if (p.preset === 'weekly') return `${m} ${h} * * ${p.day ?? 0}`;
    return p.cron || '';
}

let zones = null;
function timeZones(current) {
    if (!zones) {
        let l = [];
        try {
            l = Intl.supportedValuesOf('timeZone');
        } catch (e) {
            l = [];
        }
        const local = Intl.DateTimeFormat().resolvedOptions().timeZone;
        zones = [...new Set(['UTC', local, ...l].filter(Boolean))];
    }
    return current && !zones.includes(current) ? [current, ...zones] : zones;
}

/* The next runs of (schedule, tz) from the server, 250 ms after the last
 * keystroke: {runs, error, busy}. Answers to older requests are dropped. */
function usePreview(schedule, tz) {
    const [st, setSt] = useState({ runs: null, error: null, busy: false });
    useEffect(() => {
        if (!schedule.trim()) {
            setSt({ runs: [], error: null, busy: false });
            return undefined;
        }
        let stale = false;
        setSt((s) => ({ ...s, busy: true }));
        const tm = setTimeout(() => {
            get('/backup/schedule/preview?schedule=' + encodeURIComponent(schedule) +
                '&timezone=' + encodeURIComponent(tz || 'UTC'))
                .then((r) => !stale && setSt({ runs: r.next_runs, error: null, busy: false }),
                    (e) => !stale && setSt({ runs: null, error: e, busy: false }));
        }, 250);
        return () => {
            stale = true;
            clearTimeout(tm);
        };
    }, [schedule, tz]);
    return st;
}

/* value: {schedule, timezone}; onChange gets the same shape. */
export function ScheduleEditor({ value, onChange }) {
    const [p, setP] = useState(() => ({ at: '02:00', minute: 0, day: 0,
        ...presetOf(value.schedule) }));
    const pv = usePreview(value.schedule, value.timezone);
    const setPreset = (np) => {
        const n = { ...p, ...np };
        setP(n);
        if (n.preset !== 'custom') onChange({ ...value, schedule: cronOf(n) });
    };
    const typed = (cron) => {
        // Typing an expression a preset covers shows that preset.
        const q = presetOf(cron);
        setP(q.preset === 'custom' ? { ...p, preset: 'custom' } : { ...p, ...q });
        onChange({ ...value, schedule: cron });
    };
    return <fieldset class="schedule">
        <legend>Schedule</legend>
        <div class="row3">
            <Field label="Runs">
                <select value={p.preset} onChange={(e) => setPreset({ preset: e.target.value })}>
                    <option value="manual">only when started by hand</option>
                    <option value="hourly">every hour</option>
                    <option value="daily">every day</option>
                    <option value="weekly">every week</option>
                    <option value="custom">custom (cron expression)</option>
                </select></Field>
            {p.preset === 'hourly' && <Field label="At minute">
                <input type="number" min="0" max="59" value={p.minute}
                    onInput={(e) => setPreset({ minute: e.target.value })} /></Field>}
            {p.preset === 'weekly' && <Field label="On">
                <select value={p.day} onChange={(e) => setPreset({ day: Number(e.target.value) })}>
                    {DAYS.map((d, i) => <option key={d} value={i}>{d}</option>)}</select></Field>}
            {(p.preset === 'daily' || p.preset === 'weekly') && <Field label="At (HH:MM)">
                <input type="time" required value={p.at}
                    onInput={(e) => e.target.value && setPreset({ at: e.target.value })} /></Field>}
        </div>
        <div class="row2">
            <Field label="Cron expression" hint="minute hour day-of-month month day-of-week, with * , - / and names (MON, JAN); empty: manual only.">
                <input class="mono" value={value.schedule} spellcheck={false}
                    placeholder="30 2 * * MON-FRI" onInput={(e) => typed(e.target.value)} /></Field>
            <Field label="Time zone">
                <select value={value.timezone}
                    onChange={(e) => onChange({ ...value, timezone: e.target.value })}>
                    {timeZones(value.timezone).map((z) => <option key={z}>{z}</option>)}
                </select></Field>
        </div>
        <div class="preview" aria-live="polite" aria-busy={pv.busy}>
            <h3 id="next-runs">Next runs</h3>
            {!value.schedule.trim() ? <p class="muted">None: the job runs only when
                started with “Run now”.</p> : pv.error ? <ErrorText error={pv.error} /> :
                pv.runs ? <ol class="next-runs" aria-labelledby="next-runs">
                    {pv.runs.map((r) => <li key={r}><time datetime={r}>
                        {zoned(r, value.timezone)}</time></li>)}</ol> :
                    <p class="muted">Working them out…</p>}
            {value.timezone && value.timezone !== 'UTC' && pv.runs && pv.runs.length > 0 &&
                <p class="muted small">Times in {value.timezone}.</p>}
        </div>
    </fieldset>;
}
