// The service's public API as the page uses it: bearer tokens kept for this tab only,
// and one transparent refresh when an access token has expired.

const STORAGE_KEY = "playground.session";

export class ApiError extends Error {
  constructor(status, detail) {
    super(describe(detail, status));
    this.status = status;
    this.detail = detail;
  }
}

// FastAPI errors are {"detail": "text"} or, for validation, {"detail": [{loc, msg}, ...]}.
export function describe(detail, status) {
  if (typeof detail === "string" && detail) return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((error) => {
        const where = (error.loc || []).filter((part) => part !== "body").join(".");
        const message = String(error.msg || "is not valid").replace(/^Value error, /, "");
        return where ? `${where}: ${message}` : message;
      })
      .join("\n");
  }
  return `The request failed (HTTP ${status}).`;
}

function loadSession() {
  try {
    return JSON.parse(sessionStorage.getItem(STORAGE_KEY) || "null");
  } catch {
    return null;
  }
}

export class Api {
  constructor(prefix, { onSignedOut }) {
    this.prefix = prefix;
    this.onSignedOut = onSignedOut;
    this.session = loadSession();
    this.refreshing = null;
  }

  get signedIn() {
    return Boolean(this.session && this.session.access_token);
  }

  get email() {
    return this.session ? this.session.email : "";
  }

  save(tokens, email) {
    this.session = { access_token: tokens.access_token, refresh_token: tokens.refresh_token, email };
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(this.session));
  }

  forget() {
    this.session = null;
    sessionStorage.removeItem(STORAGE_KEY);
  }

  async register(email, password, fullName) {
    const body = { email, password };
    if (fullName) body.full_name = fullName;
    await this.json("POST", "/auth/register", body, { anonymous: true });
  }

  async login(email, password) {
    const form = new URLSearchParams({ username: email, password });
    const response = await fetch(this.prefix + "/auth/login", { method: "POST", body: form });
    if (!response.ok) throw await failure(response);
    this.save(await response.json(), email);
  }

  async logout() {
    const refreshToken = this.session && this.session.refresh_token;
    try {
      if (this.signedIn) await this.request("POST", "/auth/logout", { body: { refresh_token: refreshToken } });
    } finally {
      this.forget();
    }
  }

  // A fetch with the access token; on a 401 it refreshes the pair once and retries.
  async request(method, path, { body, accept, anonymous = false } = {}) {
    const send = () => {
      const headers = { Accept: accept || "application/json" };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      if (!anonymous && this.session) headers.Authorization = `Bearer ${this.session.access_token}`;
      return fetch(this.prefix + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    };
    let response = await send();
    if (response.status === 401 && !anonymous && this.session) {
      if (await this.refresh()) {
        response = await send();
      } else {
        this.forget();
        this.onSignedOut("Your session has ended. Sign in again.");
        throw await failure(response);
      }
    }
    return response;
  }

  async json(method, path, body, options = {}) {
    const response = await this.request(method, path, { ...options, body });
    if (!response.ok) throw await failure(response);
    return response.status === 204 ? null : response.json();
  }

  // Concurrent 401s share one refresh: the old refresh token works only once.
  refresh() {
    if (!this.refreshing) {
      this.refreshing = this.rotate().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  async rotate() {
    const refreshToken = this.session && this.session.refresh_token;
    if (!refreshToken) return false;
    const response = await fetch(this.prefix + "/auth/refresh", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: refreshToken }),
    });
    if (!response.ok) return false;
    this.save(await response.json(), this.email);
    return true;
  }
}

export async function failure(response) {
  let detail = null;
  try {
    detail = (await response.json()).detail;
  } catch {
    // not JSON: the status line says enough
  }
  return new ApiError(response.status, detail);
}
