// The page's two API calls. Relative URLs: the API is served from the page's own origin.

/** An API failure with the message to show the user (and how long to wait, when the API says). */
export class ApiError extends Error {
  constructor(message, { code = "network", requestId = "", retryAfter = null } = {}) {
    super(message);
    this.code = code;
    this.requestId = requestId;
    this.retryAfter = retryAfter;
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
    });
  }
  if (!body) throw new ApiError("The server sent an answer this page cannot read. Please try again.", { code: "bad_response" });
  return body;
}

/** Create a room living `ttlSeconds` (the server's default when null): {name, url, exp, ownerToken?}. */
export async function createRoom(ttlSeconds = null) {
  const room = await request("/api/rooms", {
    method: "POST",
    headers: { "Content-Type": "application/json", "Idempotency-Key": uuid4() },
    body: JSON.stringify(ttlSeconds === null ? {} : { ttl_seconds: ttlSeconds }),
  });
  if (typeof room.url !== "string" || !Number.isInteger(room.exp)) {
    throw new ApiError("The server sent a room this page cannot open. Please try again.", { code: "bad_response" });
  }
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
