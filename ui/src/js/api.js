// api.js: every call to /api/v1. Adds the CSRF token to non-GET requests,
// turns {"error":{...}} into an ApiError, and sends the user back to the
// login screen when the session is gone (401).
import { store } from './store.js';

export const session = store(null); // {user, csrf_token, via} or null
let onUnauth = () => {};

export function setUnauthorizedHandler(f) {
    onUnauth = f;
}

export class ApiError extends Error {
    constructor(status, code, message, field) {
        super(message);
        this.status = status;
        this.code = code;
        this.field = field;
    }
}

/* The session's CSRF token for a non-GET request, under both names:
 * over HTTP/2 xenithd's library (libwebsockets 4.1) drops X-CSRF-Token,
 * and the server reads X-Auth-Token then. */
export function csrfHeaders() {
    const s = session.get();
    if (!s || !s.csrf_token) return {};
    return { 'X-CSRF-Token': s.csrf_token, 'X-Auth-Token': s.csrf_token };
}

export async function api(method, path, body, opts = {}) {
    const headers = method !== 'GET' ? csrfHeaders() : {};
    const s = session.get();
    let data;
    if (body instanceof Blob || body instanceof ArrayBuffer) {
        headers['Content-Type'] = 'application/octet-stream';
        data = body;
    } else if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
        data = JSON.stringify(body);
    }
    let r;
    try {
        r = await fetch('/api/v1' + path, {
            method, headers, body: data, credentials: 'same-origin',
        });
    } catch (e) {
        throw new ApiError(0, 'network', 'cannot reach xenithd: ' + e.message);
    }
    if (r.status === 204) return null;
    let j = null;
    const text = await r.text();
    if (text) {
        try {
            j = JSON.parse(text);
        } catch (e) {
            j = null;
        }
    }
    if (!r.ok) {
        const e = (j && j.error) || {};
        if (r.status === 401 && !opts.noRedirect) onUnauth();
        // An admin asked for a new password meanwhile: the API now answers
        // 403 on field "password"; show the change-password screen.
        if (r.status === 403 && e.field === 'password' && s)
            session.set({ ...s, user: { ...s.user, must_change_password: true } });
        throw new ApiError(r.status, e.code || 'http',
            e.message || `${r.status} ${r.statusText}`, e.field);
    }
    return j;
}

export const get = (p, o) => api('GET', p, undefined, o);
export const post = (p, b, o) => api('POST', p, b, o);
export const patch = (p, b) => api('PATCH', p, b);
export const del = (p) => api('DELETE', p);

const RANK = { viewer: 1, operator: 2, admin: 3 };

/* Can the logged-in user do what needs role? */
export function can(role) {
    const s = session.get();
    return !!s && (RANK[s.user.role] || 0) >= RANK[role];
}
