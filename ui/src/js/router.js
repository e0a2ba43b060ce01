// router.js: client-side paths (/vms/ID ...) with the History API;
// xenithd answers index.html for any path without a dot.
import { store } from './store.js';

export const path = store(location.pathname);

export function navigate(to, replace) {
    if (to === location.pathname + location.search) return;
    history[replace ? 'replaceState' : 'pushState'](null, '', to);
    path.set(location.pathname);
    window.scrollTo(0, 0);
}

window.addEventListener('popstate', () => path.set(location.pathname));

/* Match '/vms/:id' against p; the params object or null. */
export function match(pattern, p) {
    const a = pattern.split('/');
    const b = p.split('/');
    if (a.length !== b.length) return null;
    const out = {};
    for (let i = 0; i < a.length; i++) {
        if (a[i].startsWith(':')) out[a[i].slice(1)] = decodeURIComponent(b[i]);
        else if (a[i] !== b[i]) return null;
    }
    return out;
}
