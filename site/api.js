// The page's two API calls. Relative URLs: the API is served from the page's own origin.

/** An API failure with the message to show the user (and how long to wait, when the API says);
 * `status` is the HTTP status, 0 when no answer arrived. */
export class ApiError extends Error {
  constructor(message, { code = "network", requestId = "", retryAfter = null, status = 0 } = {}) {
    super(message);
    this.code = code;
    this.requestId = requestId;
    this.retryAfter = retryAfter;
    this.status = status;
  }
}

/** A random UUID v4 (crypto.randomUUID only exists on secure origins). */
function uuid4() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Retry-After in whole seconds (this API only sends delta-seconds), or null. */
function retryAfterSeconds(response) {
  const value = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
  return Number.isInteger(value) && value >= 0 ? value : null;
}

async function request(path, init) {
  let response;
  try {
    response = await fetch(path, { ...init, headers: { Accept: "application/json", ...init.headers } });
  } catch {
    throw new ApiError("Could not reach the server. Check your internet connection and try again.");
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const message = body?.message || `The server answered with an error (HTTP ${response.status}). Please try again.`;
    throw new ApiError(message, {
      code: body?.error || "http_error",
      requestId: body?.requestId || "",
      retryAfter: retryAfterSeconds(response),
      status: response.status,
    });
  }
  if (!body) throw new ApiError("The server sent an answer this page cannot read. Please try again.", { code: "bad_response", status: response.status });
  return body;
}

// One Idempotency-Key per create attempt, kept in this tab until an answer settles it: a lost
// answer or a 5xx may hide a room the server made, and the same key gets that very room back
// (the server derives the room's name from it) instead of making and paying for a second one.
const ATTEMPT_KEY = "createAttempt";
const MIN_TTL_SECONDS = 60; // the API's shortest lifetime, for a create that leaves it to the server

/** {key, ttl, since}: the attempt a retry continues, for the same lifetime and while the room it
 * may have made still has at least half its life; else a new one. */
function createAttempt(ttlSeconds) {
  const now = Date.now();
  try {
    const kept = JSON.parse(sessionStorage.getItem(ATTEMPT_KEY) ?? "null");
    const lifetime = (kept?.ttl ?? MIN_TTL_SECONDS) * 1000;
    if (kept && kept.ttl === ttlSeconds && now - kept.since < lifetime / 2) return kept;
  } catch {
    // Unreadable or unavailable storage: a new attempt.
  }
  const attempt = { key: uuid4(), ttl: ttlSeconds, since: now };
  try {
    sessionStorage.setItem(ATTEMPT_KEY, JSON.stringify(attempt));
  } catch {
    // Without storage a retry is a new attempt.
  }
  return attempt;
}

/** The attempt got its answer (a room, or a 4xx that repeating would only repeat). */
function settleAttempt() {
  try {
    sessionStorage.removeItem(ATTEMPT_KEY);
  } catch {
    // Nothing was kept.
  }
}

/** Create a room living `ttlSeconds` (the server's default when null): {name, url, exp, ownerToken?}.
 * A retry after a lost answer or a 5xx sends the same Idempotency-Key, so it gets the same room. */
export async function createRoom(ttlSeconds = null) {
  const attempt = createAttempt(ttlSeconds);
  let room;
  try {
    room = await request("/api/rooms", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": attempt.key },
      body: JSON.stringify(ttlSeconds === null ? {} : { ttl_seconds: ttlSeconds }),
    });
  } catch (error) {
    if (error.status >= 400 && error.status < 500) settleAttempt();
    throw error;
  }
  if (typeof room.url !== "string" || !Number.isInteger(room.exp)) {
    throw new ApiError("The server sent a room this page cannot open. Please try again.", { code: "bad_response" });
  }
  settleAttempt();
  return room;
}

/** {configured, ttl}: whether the server has its Daily key (null: cannot tell) and the lifetimes
 * it accepts, {min, max, default} in seconds (null when it does not say). */
export async function health() {
  try {
    const answer = await request("/api/health", { method: "GET", headers: {} });
    const configured = typeof answer.configured === "boolean" ? answer.configured : null;
    const { min, max, default: fallback } = answer.ttl ?? {};
    const valid = [min, max, fallback].every(Number.isInteger) && min <= fallback && fallback <= max;
    return { configured, ttl: valid ? { min, max, default: fallback } : null };
  } catch {
    return { configured: null, ttl: null };
  }
}
