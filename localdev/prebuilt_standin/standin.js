// Stand-in for Daily Prebuilt (make dev, offline): answers daily-js over its frame protocol.
//
// daily-js posts `iframe-call-message` window messages to the frame and listens for the same kind
// back, tagged with the call's client id (the `emb` query parameter it puts in the frame's URL).
// This page answers just what a call needs: `loaded` once up, `joined-meeting` to `join-meeting`,
// `left-meeting` to `leave-meeting` (and to its own Leave button, like Prebuilt's), and a fatal
// `error` for a room the emulator does not have, or when the room's `exp` passes (the rooms are
// created with eject_at_room_exp).
const params = new URLSearchParams(location.search);
const callClientId = params.get("emb");
const parentOrigin = (() => {
  try {
    return new URL(params.get("embHref") || "").origin;
  } catch {
    return null;
  }
})();
const { state, exp } = document.body.dataset;
const $ = (id) => document.getElementById(id);
let stream = null;
let inCall = false;
let ejectTimer = 0;

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

function join(properties = {}) {
  if (state !== "open") {
    fatal("no-room", "The meeting you're trying to join does not exist.");
    return;
  }
  inCall = true;
  const userName = typeof properties.userName === "string" ? properties.userName : "";
  $("who").textContent = userName ? `You joined as ${userName}.` : "You joined without a name.";
  const local = { local: true, session_id: `stand-in-${Math.random().toString(16).slice(2)}`, user_id: "", user_name: userName, owner: Boolean(properties.token) };
  send({ action: "joined-meeting", participants: { local } });
  const left = Math.min(Number(exp) * 1000 - Date.now(), 2 ** 31 - 1);
  if (exp) ejectTimer = setTimeout(() => fatal("exp-room", "Meeting has ended."), Math.max(0, left));
  startPreview(false);
}

function endCall() {
  inCall = false;
  clearTimeout(ejectTimer);
  stopPreview();
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
  else if (data.action === "leave-meeting") leave();
});
$("leave").addEventListener("click", leave);
$("camera").addEventListener("click", () => startPreview(true));
addEventListener("pagehide", stopPreview);
send({ action: "loaded" });
