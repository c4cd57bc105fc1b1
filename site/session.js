// What this tab keeps about its calls, in sessionStorage (this tab only, gone with it):
//
// - the call in progress (`currentCall`: the room's URL and `exp`, never a token), kept while the
//   visitor is in the room, so a reload offers to rejoin it; dropped when the call ends (Leave,
//   Back, the room's end) and once the room has expired;
// - the room created last in this tab (`lastRoom`: URL, `exp` and the owner token the API gave),
//   so its creator can rejoin it as owner after leaving, until it expires.
import { secondsLeft } from "./clock.js";

const CURRENT_KEY = "currentCall";
const CREATED_KEY = "lastRoom";

/** A room still open at `exp` (unix seconds, or null for a room without one). */
function isOpen(room) {
  return room.exp === null || secondsLeft(room.exp) > 0;
}

/** The stored room under `key` while it is open; an expired or unreadable one is dropped. */
function read(key, valid) {
  try {
    const room = JSON.parse(sessionStorage.getItem(key) ?? "null");
    if (room && valid(room) && isOpen(room)) return room;
    sessionStorage.removeItem(key);
  } catch {
    // Unreadable or unavailable storage: nothing to rejoin.
  }
  return null;
}

function write(key, value) {
  try {
    sessionStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or blocked: rejoining is a convenience.
  }
}

function isRoom(room) {
  return typeof room.url === "string" && (room.exp === null || Number.isInteger(room.exp));
}

/** The visitor is in `url`'s room, open until `exp` (null: no end). */
export function saveCurrentCall({ url, exp }) {
  write(CURRENT_KEY, { url, exp });
}

/** The call ended: nothing to come back to after a reload. */
export function clearCurrentCall() {
  try {
    sessionStorage.removeItem(CURRENT_KEY);
  } catch {
    // Nothing was kept.
  }
}

/** This tab created `room` ({url, exp, token?}). */
export function rememberCreated({ url, exp, token }) {
  write(CREATED_KEY, { url, token, exp });
}

/** The room to offer to rejoin, {url, exp, token?, interrupted}, or null: the call this tab was in
 * when it reloaded (`interrupted`) first, else the room it created; with the owner token when this
 * tab created that room. */
export function rejoinable() {
  const current = read(CURRENT_KEY, isRoom);
  const created = read(CREATED_KEY, (room) => isRoom(room) && room.exp !== null);
  const room = current ?? created;
  if (!room) return null;
  const token = created?.url === room.url ? created.token : undefined;
  return { url: room.url, exp: room.exp, ...(token && { token }), interrupted: room === current };
}
