// Page wiring: the home view (create or join), the call view, errors and the setup banner.
import { ApiError, createRoom, isConfigured } from "./api.js";
import { Call } from "./call.js";
import { roomUrlFrom } from "./room-url.js";

const $ = (id) => document.getElementById(id);
const createButton = $("create");
const roomInput = $("room-url");
const joinButton = $("join");

const state = { configured: null, creating: false, call: null };

/** Show `message` (and the request id, for support) in the page's alert; empty clears it. */
function showError(message, requestId = "") {
  const alert = $("alert");
  alert.replaceChildren();
  if (!message) return;
  const text = document.createElement("p");
  text.textContent = message;
  alert.append(text);
  if (requestId) {
    const reference = document.createElement("p");
    reference.className = "alert-ref";
    reference.textContent = `Reference: ${requestId}`;
    alert.append(reference);
  }
}

function render() {
  const inCall = state.call !== null;
  $("home").hidden = inCall;
  $("call").hidden = !inCall;
  $("config-banner").hidden = state.configured !== false;
  createButton.disabled = state.creating || state.configured === false;
  createButton.setAttribute("aria-busy", String(state.creating));
  createButton.classList.toggle("is-busy", state.creating);
  $("create-label").textContent = state.creating ? "Creating room…" : "Create room and start";
}

function updateJoin() {
  const value = roomInput.value;
  const valid = roomUrlFrom(value) !== null;
  joinButton.disabled = !valid;
  roomInput.setAttribute("aria-invalid", String(value !== "" && !valid));
  $("room-url-error").textContent =
    value && !valid ? "That is not a Daily room link. It should look like https://your-team.daily.co/room-name." : "";
}

function startCall(room) {
  if (!window.Daily) {
    showError("The video library could not be loaded from unpkg.com. Check your connection or content blocker, then reload.");
    return;
  }
  showError("");
  try {
    state.call = new Call(room, (message) => {
      state.call = null;
      render();
      if (message) showError(message);
      createButton.focus();
    });
  } catch (error) {
    showError(`Could not open the call: ${error.message}`);
    return;
  }
  render();
  $("main").focus();
}

async function onCreate() {
  if (state.creating || state.call) return;
  state.creating = true;
  showError("");
  render();
  try {
    const room = await createRoom();
    startCall({ url: room.url, token: room.ownerToken, exp: room.exp });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showError(error.message, error.requestId);
    if (error.code === "not_configured") state.configured = false;
  } finally {
    state.creating = false;
    render();
  }
}

function onJoin(event) {
  event.preventDefault();
  const url = roomUrlFrom(roomInput.value);
  if (url && !state.call) startCall({ url });
}

createButton.addEventListener("click", onCreate);
roomInput.addEventListener("input", updateJoin);
$("join-form").addEventListener("submit", onJoin);
updateJoin();
render();
isConfigured().then((configured) => {
  state.configured = configured;
  render();
});
