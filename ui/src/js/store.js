// store.js: a tiny observable value and the hook that re-renders on change.
import { useEffect, useReducer } from 'preact/hooks';

export function store(initial) {
    let value = initial;
    const subs = new Set();
    return {
        get: () => value,
        set(v) {
            value = typeof v === 'function' ? v(value) : v;
            subs.forEach((f) => f());
        },
        sub(f) {
            subs.add(f);
            return () => subs.delete(f);
        },
    };
}

export function useStore(s) {
    const [, force] = useReducer((x) => x + 1, 0);
    useEffect(() => s.sub(force), [s]);
    return s.get();
}
