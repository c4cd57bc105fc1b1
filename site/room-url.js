// Which room links the join form accepts. Kept identical to the input's `pattern` attribute.
//
// Accepted: https://<team>.daily.co/<room>, an optional trailing slash, and the same without the
// scheme (it is always https). Rejected: other schemes, other hosts, nested paths, query strings
// and fragments. Hyphens inside the brackets are escaped, so the pattern also compiles under the
// `v` flag browsers now use for `pattern` (the original demo's did not, so it accepted anything).
export const ROOM_URL_PATTERN = String.raw`(https://)?[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.daily\.co/[A-Za-z0-9_\-]+/?`;

const ROOM_URL = new RegExp(`^(?:${ROOM_URL_PATTERN})$`, "u");

/** The canonical https room URL for `text`, or null when it is not a Daily room link. */
export function roomUrlFrom(text) {
  if (!ROOM_URL.test(text)) return null;
  const url = new URL(text.startsWith("https://") ? text : `https://${text}`);
  return `${url.origin}${url.pathname.replace(/\/$/, "")}`;
}
