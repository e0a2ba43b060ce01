// format.js: numbers and times as people read them.
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function bytes(n) {
    if (n == null || isNaN(n)) return '—';
    let i = 0;
    let v = Number(n);
    while (Math.abs(v) >= 1024 && i < UNITS.length - 1) {
        v /= 1024;
        i++;
    }
    return (i && v < 10 ? v.toFixed(1) : Math.round(v)) + ' ' + UNITS[i];
}

export function mib(n) {
    return bytes(n * 1048576);
}

export function rate(bps) {
    return bytes(bps) + '/s';
}

export function duration(s) {
    s = Math.max(0, Math.round(s));
    const d = Math.floor(s / 86400);
    const h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60);
    if (d) return `${d} d ${h} h`;
    if (h) return `${h} h ${m} min`;
    if (m) return `${m} min ${s % 60} s`;
    return `${s} s`;
}

export function ago(iso) {
    if (!iso) return '—';
    const s = (Date.now() - Date.parse(iso)) / 1000;
    if (s < 5) return 'just now';
    return duration(s) + ' ago';
}

export function time(iso) {
    if (!iso) return '—';
    return new Date(iso).toLocaleString();
}

export function pct(f) {
    return Math.round(f * 100) + '%';
}

/* Throughput as people compare it with disks and links: decimal MB/s. */
export function mbps(bps) {
    if (bps == null || isNaN(bps)) return '—';
    const v = Number(bps) / 1e6;
    return (v < 10 ? v.toFixed(1) : Math.round(v)) + ' MB/s';
}

/* A time in an IANA time zone (the browser's own when tz is empty). */
export function zoned(iso, tz) {
    if (!iso) return '—';
    const o = { weekday: 'short', year: 'numeric', month: 'short', day: 'numeric',
        hour: '2-digit', minute: '2-digit' };
    try {
        return new Date(iso).toLocaleString(undefined, tz ? { ...o, timeZone: tz } : o);
    } catch (e) {
        return new Date(iso).toLocaleString(undefined, o);
    }
}

/* Logical over stored bytes, "3.2×"; 0 means nothing stored yet. */
export function ratio(r) {
    if (!r) return '—';
    return (r < 10 ? Number(r).toFixed(2) : Math.round(r)) + '×';
}
