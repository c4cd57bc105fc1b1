// Stand-in for Daily Prebuilt (make dev, offline): answers daily-js over its frame protocol.
//
// daily-js posts `iframe-call-message` window messages to the frame and listens for the same kind
// back, tagged with the call's client id (the `emb` query parameter it puts in the frame's URL).
// This page answers just what a call needs: `loaded` once up; to `join-meeting`,
// `access-state-updated` (full access, which daily-js needs before `room()` asks the frame) and
// `joined-meeting`; to `lib-room-info` (daily-js's `room()`), the room's id, name and config, under
// the message's callbackStamp; `left-meeting` to `leave-meeting` (and to its own Leave button, like
// Prebuilt's); a fatal `error` for a room the emulator does not have, or when the room's `exp`
// passes (the rooms are created with eject_at_room_exp). Windows of this browser in the same room
// see each other (presence.js) and daily-js hears of them as `participant-joined` and
// `participant-left`, as from Prebuilt.
import { Presence } from "./presence.js";

const params = new URLSearchParams(location.search);
const callClientId = params.get("emb");
const parentOrigin = (() => {
  try {
    return new URL(params.get("embHref") || "").origin;
  } catch {
    return null;
  }
})();
const { room, state, exp, info } = document.body.dataset;
const $ = (id) => document.getElementById(id);
let stream = null;
let inCall = false;
let ejectTimer = 0;
let presence = null;

function send(message) {
  if (parentOrigin) parent.postMessage({ what: "iframe-call-message", callClientId, ...message }, parentOrigin);
}

function fatal(type, msg) {
  endCall();
  send({ action: "error", errorMsg: msg, error: { type, msg } });
}

function showCameraNote(text, offerButton = false) {
  $("camera-note").textContent = text;
  $("camera-note").hidden = false;
  $("camera").hidden = !offerButton;
}

/** The camera preview when the browser allows it; a button to ask when it has not decided. */
async function startPreview(ask) {
  if (!navigator.mediaDevices?.getUserMedia) {
    showCameraNote("This browser offers no camera here.");
    return;
  }
  let permission = "prompt";
  try {
    permission = (await navigator.permissions.query({ name: "camera" })).state;
  } catch {
    // Some browsers cannot query the camera permission; ask only on a click then.
  }
  if (permission === "denied") {
    showCameraNote("The camera is blocked for this page.");
    return;
  }
  if (permission !== "granted" && !ask) {
    showCameraNote("Camera preview is off.", true);
    return;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
  } catch (error) {
    showCameraNote(`No camera preview (${error.name}).`);
    return;
  }
  if (!inCall) {
    stopPreview();
    return;
  }
  $("preview").srcObject = stream;
  $("preview").hidden = false;
  $("camera-note").hidden = true;
  $("camera").hidden = true;
}

function stopPreview() {
  stream?.getTracks().forEach((track) => track.stop());
  stream = null;
  $("preview").srcObject = null;
  $("preview").hidden = true;
}

/** A participant's name as the list shows it. */
function shownName(participant) {
  return participant.user_name || "Guest without a name";
}

/** The other windows in this room, by name, or a note that there are none yet. */
function showOthers() {
  const others = [...presence.others.values()];
  $("others").replaceChildren(
    ...others.map((participant) => {
      const item = document.createElement("li");
      item.textContent = shownName(participant);
      return item;
    }),
  );
  $("others").hidden = others.length === 0;
  $("alone").hidden = others.length > 0;
  $("people").hidden = false;
}

function othersChanged(kind, participant) {
  send({ action: `participant-${kind}`, participant: { ...participant, local: false } });
  showOthers();
}

function join(properties = {}) {
  if (state !== "open") {
    fatal("no-room", "The meeting you're trying to join does not exist.");
    return;
  }
  inCall = true;
  const userName = typeof properties.userName === "string" ? properties.userName : "";
  $("who").textContent = userName ? `You joined as ${userName}.` : "You joined without a name.";
  const me = { session_id: `stand-in-${Math.random().toString(16).slice(2)}`, user_id: "", user_name: userName, owner: Boolean(properties.token) };
  send({ action: "access-state-updated", access: { level: "full" } });
  send({ action: "joined-meeting", participants: { local: { ...me, local: true } } });
  presence = new Presence(room, me, othersChanged);
  showOthers();
  const left = Math.min(Number(exp) * 1000 - Date.now(), 2 ** 31 - 1);
  if (exp) ejectTimer = setTimeout(() => fatal("exp-room", "Meeting has ended."), Math.max(0, left));
  startPreview(false);
}

/** What daily-js's `room()` gives after a join: the room's id, name and config (its set
 * properties, as Daily's REST API has them); no domain or token properties are set here. */
function roomInfo() {
  return { ...JSON.parse(info || "{}"), domainConfig: {}, tokenConfig: {} };
}

function endCall() {
  inCall = false;
  clearTimeout(ejectTimer);
  stopPreview();
  presence?.close();
  presence = null;
  $("people").hidden = true;
  $("who").textContent = "";
  showCameraNote("You left the call.");
}

function leave() {
  endCall();
  send({ action: "left-meeting" });
}

addEventListener("message", ({ source, data }) => {
  if (source !== parent || data?.what !== "iframe-call-message") return;
  if (data.callClientId && data.callClientId !== callClientId) return;
  if (data.action === "join-meeting") join(data.properties);
  else if (data.action === "lib-room-info") send({ action: "lib-room-info", callbackStamp: data.callbackStamp, ...roomInfo() });
  else if (data.action === "leave-meeting") leave();
});
$("leave").addEventListener("click", leave);
$("camera").addEventListener("click", () => startPreview(true));
addEventListener("pagehide", () => {
  stopPreview();
  presence?.close();
  presence = null;
});
send({ action: "loaded" });
