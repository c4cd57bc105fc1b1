// Which room links the join form accepts, and what to say about the ones it does not.
//
// Accepted: https://<team>.daily.co/<room>, with an optional trailing slash, any case in the
// scheme and host (the host is lowered), and without the scheme (it is always https). Whitespace
// anywhere is dropped first: a link wrapped by an e-mail or chat client breaks at any character.
// Port 443 (https's own, which URL parsers drop too) is accepted. Each refusal has its own message:
// another scheme, another host, a user name before the host, another port, no room, an extra
// path, a query (such as ?t= tokens) or a fragment.

const EXAMPLE = "https://your-team.daily.co/room-name";
const TEAM_HOST = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.daily\.co$/;
const ROOM_NAME = /^[A-Za-z0-9_-]+$/;
// scheme://, then authority, path, ?query and #fragment; every part but the authority optional.
const PARTS = /^(?:([a-z][a-z0-9+.-]*):\/\/)?([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/i;
// user@, host, :port.
const AUTHORITY = /^(?:(.*)@)?([^@:]*)(?::(.*))?$/;
// Spaces, tabs, line breaks, and the invisible characters that copying from messages leaves.
const INVISIBLE = /[\s\u00ad\u200b-\u200d\u2060\ufeff]+/g;
const HTTPS_PORTS = new Set([undefined, "", "443"]);

const MESSAGES = {
  scheme: "Room links start with https:// (other schemes, such as http://, are not used by Daily).",
  host: `That is not a Daily room link: its address must end in .daily.co, as in ${EXAMPLE}.`,
  user: `Remove everything up to the @: a room link starts with the team's address, as in ${EXAMPLE}.`,
  port: "Remove the port (the : and number after .daily.co): room links have none.",
  room: `The link has no room name: add it after the last slash, as in ${EXAMPLE}.`,
  name: "Room names use only letters, digits, - and _.",
  path: "Remove the extra path after the room name: a room link has one part after daily.co/.",
  query: "Remove everything from the ? on: a room link has no query (and needs no token).",
  fragment: "Remove everything from the # on: a room link has no fragment.",
};

/**
 * Check what was typed or pasted: {url} (canonical https URL) or {problem, message}.
 * An empty field is a problem with an empty message: nothing to join, nothing to complain about.
 */
export function checkRoomUrl(text) {
  const value = text.replace(INVISIBLE, "");
  if (!value) return { problem: "empty", message: "" };
  const [, scheme, authority, path, query, fragment] = PARTS.exec(value) ?? [];
  const problem = (name) => ({ problem: name, message: MESSAGES[name] });
  if (scheme !== undefined && scheme.toLowerCase() !== "https") return problem("scheme");
  const [, user, rawHost, port] = AUTHORITY.exec(authority ?? "") ?? [];
  const host = (rawHost ?? "").toLowerCase();
  if (!TEAM_HOST.test(host)) return problem("host");
  if (user !== undefined) return problem("user");
  if (!HTTPS_PORTS.has(port)) return problem("port");
  const room = (path ?? "").replace(/^\//, "").replace(/\/$/, "");
  if (!room) return problem("room");
  if (room.includes("/")) return problem("path");
  if (!ROOM_NAME.test(room)) return problem("name");
  if (query !== undefined) return problem("query");
  if (fragment !== undefined) return problem("fragment");
  return { url: `https://${host}/${room}` };
}
