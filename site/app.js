// Page wiring: the home view (name, lifetime, create, rejoin, join), the call view and messages.
import { ApiError, createRoom, health } from "./api.js";
import { Call, formatRemaining, secondsLeft } from "./call.js";
import { checkRoomUrl } from "./room-url.js";

const $ = (id) => document.getElementById(id);
const createButton = $("create");
const rejoinButton = $("rejoin");
const roomInput = $("room-url");
const joinButton = $("join");
const nameInput = $("display-name");

const LIFETIME_MINUTES = [5, 15, 30, 60];
const NAME_KEY = "displayName"; // localStorage: the name is not a secret, and worth remembering
const ROOM_KEY = "lastRoom"; // sessionStorage: this tab's last created room, owner token included

const state = { configured: null, creating: false, call: null, rejoinTimer: 0 };

/** Show `message` (and the request id, for support) in the page's alert; empty clears it. */
function showError(message, requestId = "", { focus = false } = {}) {
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
  if (focus) alert.focus();
}

/** Show `parts` (strings, or [text] for emphasis) in the page's status line; "" clears it. */
function showNotice(...parts) {
  $("notice").replaceChildren(
    ...parts.filter((part) => part !== "").map((part) => {
      if (typeof part === "string") return part;
      const strong = document.createElement("strong");
      strong.textContent = part[0];
      return strong;
    }),
  );
}

/** "in 8 minutes" (always rounded up: earlier would be refused again), or "at 01:00" when far. */
function waitText(seconds) {
  const minutes = Math.max(1, Math.ceil(seconds / 60));
  if (minutes <= 90) return `in ${minutes} minute${minutes === 1 ? "" : "s"}`;
  const when = new Date(Date.now() + seconds * 1000);
  const time = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return when.toDateString() === new Date().toDateString() ? `at ${time}` : `tomorrow at ${time}`;
}

function createErrorMessage(error) {
  if (error.code === "rate_limited" && error.retryAfter !== null) {
    return `The room limit is reached for now. You can create a new room ${waitText(error.retryAfter)}. Joining a room still works.`;
  }
  return error.message;
}

// ---- The room created last in this tab, for "Rejoin" ----

function lastRoom() {
  try {
    const room = JSON.parse(sessionStorage.getItem(ROOM_KEY) ?? "null");
    if (room && secondsLeft(room.exp) > 0) return room;
  } catch {
    // Unreadable or unavailable storage: nothing to rejoin.
  }
  sessionStorage.removeItem(ROOM_KEY);
  return null;
}

function rememberRoom(room) {
  try {
    sessionStorage.setItem(ROOM_KEY, JSON.stringify({ url: room.url, token: room.token, exp: room.exp }));
  } catch {
    // Storage full or blocked: rejoining is a convenience.
  }
}

function updateRejoin() {
  const room = state.call ? null : lastRoom();
  rejoinButton.hidden = !room;
  if (!room) {
    clearInterval(state.rejoinTimer);
    state.rejoinTimer = 0;
    return;
  }
  const name = new URL(room.url).pathname.slice(1);
  const roomPart = document.createElement("span");
  roomPart.className = "rejoin-room";
  roomPart.textContent = `Rejoin ${name}`;
  const leftPart = document.createElement("span");
  leftPart.className = "rejoin-left";
  leftPart.textContent = `(${formatRemaining(secondsLeft(room.exp))} left)`;
  rejoinButton.replaceChildren(roomPart, " ", leftPart);
  if (!state.rejoinTimer) state.rejoinTimer = setInterval(updateRejoin, 1000);
}

// ---- Views ----

function render() {
  const inCall = state.call !== null;
  $("home").hidden = inCall;
  $("call").hidden = !inCall;
  document.body.classList.toggle("in-call", inCall);
  $("config-banner").hidden = state.configured !== false;
  createButton.disabled = state.creating || state.configured === false;
  $("lifetime").disabled = state.configured === false;
  createButton.setAttribute("aria-busy", String(state.creating));
  createButton.classList.toggle("is-busy", state.creating);
  $("create-label").textContent = state.creating ? "Creating room…" : "Create room and start";
  updateRejoin();
}

/** Lifetime choices within what the server accepts; hidden when it leaves nothing to choose. */
function showLifetimes(ttl) {
  const choices = $("lifetime-choices");
  choices.replaceChildren();
  if (!ttl) return;
  const seconds = LIFETIME_MINUTES.map((m) => m * 60).filter((s) => s >= ttl.min && s <= ttl.max);
  if (!seconds.includes(ttl.default)) seconds.push(ttl.default);
  seconds.sort((a, b) => a - b);
  $("lifetime").hidden = seconds.length < 2;
  for (const value of seconds) {
    const label = document.createElement("label");
    label.className = "choice";
    const input = document.createElement("input");
    const isDefault = value === ttl.default;
    Object.assign(input, { type: "radio", name: "lifetime", value: String(value), checked: isDefault, defaultChecked: isDefault });
    const minutes = value / 60;
    label.append(input, Number.isInteger(minutes) ? `${minutes} min` : formatRemaining(value));
    choices.append(label);
  }
}

/** The lifetime to ask for: null (the server's default) unless another one is chosen, so a click
 * before the choices appear and one after them are the same request (and reuse one attempt). */
function chosenLifetime() {
  if ($("lifetime").hidden) return null;
  const checked = document.querySelector('input[name="lifetime"]:checked');
  return checked && !checked.defaultChecked ? Number(checked.value) : null;
}

function startCall(room) {
  if (!window.Daily) {
    showError("The video library could not be loaded from unpkg.com. Check your connection or content blocker, then reload.", "", { focus: true });
    return;
  }
  showError("");
  showNotice("");
  const userName = nameInput.value.trim();
  try {
    state.call = new Call({ ...room, userName }, { onEnd: endCall });
  } catch (error) {
    showError(`Could not open the call: ${error.message}`, "", { focus: true });
    return;
  }
  render();
  $("call-title").focus();
}

function endCall(ending) {
  state.call = null;
  render();
  if (ending?.alert) {
    showError(ending.text, "", { focus: true });
    return;
  }
  showError("");
  showNotice(ending?.text ?? "");
  (rejoinButton.hidden ? createButton : rejoinButton).focus();
}

async function onCreate() {
  if (state.creating || state.call) return;
  state.creating = true;
  showError("");
  showNotice("");
  render();
  let room = null;
  try {
    const created = await createRoom(chosenLifetime());
    room = { url: created.url, token: created.ownerToken, exp: created.exp };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.code === "not_configured") {
      state.configured = false;
    } else {
      showError(createErrorMessage(error), error.requestId);
    }
  } finally {
    state.creating = false;
    render();
  }
  if (room) {
    rememberRoom(room);
    startCall(room);
  } else {
    (state.configured === false ? $("config-banner") : $("alert")).focus();
  }
}

// ---- The join field: checked as you type, explained on blur or submit ----

function checkJoinField({ explain }) {
  const result = checkRoomUrl(roomInput.value);
  joinButton.disabled = !result.url;
  // Once a problem is shown it follows the typing; before that, only blur or submit show one.
  const shown = roomInput.getAttribute("aria-invalid") === "true";
  const invalid = Boolean(result.message) && (explain || shown);
  roomInput.setAttribute("aria-invalid", String(invalid));
  $("room-url-error").textContent = invalid ? result.message : "";
  return result;
}

function onJoin(event) {
  event.preventDefault();
  const { url } = checkJoinField({ explain: true });
  if (!url) {
    roomInput.focus();
    return;
  }
  if (!state.call) startCall({ url });
}

/** An invite link (?room=<daily room url>) fills the field and makes Join the next step. */
function acceptInvite() {
  const invited = new URLSearchParams(location.search).get("room");
  if (invited === null) return;
  roomInput.value = invited;
  const { url } = checkJoinField({ explain: true });
  if (!url) return;
  roomInput.value = url;
  // The team's address says whose room it is: shown before anyone joins, as the link gives it.
  const { host, pathname } = new URL(url);
  showNotice("You are invited to room ", [pathname.slice(1)], " on ", [host], ". Press Join room to enter.");
  joinButton.focus();
}

function loadName() {
  try {
    nameInput.value = localStorage.getItem(NAME_KEY) ?? "";
  } catch {
    // Storage blocked: the name is simply not remembered.
  }
}

function saveName() {
  try {
    const name = nameInput.value.trim();
    if (name) localStorage.setItem(NAME_KEY, name);
    else localStorage.removeItem(NAME_KEY);
  } catch {
    // Storage blocked: the name is simply not remembered.
  }
}

createButton.addEventListener("click", onCreate);
rejoinButton.addEventListener("click", () => {
  const room = lastRoom();
  if (room && !state.call) startCall(room);
  else render();
});
roomInput.addEventListener("input", () => checkJoinField({ explain: false }));
roomInput.addEventListener("blur", () => checkJoinField({ explain: true }));
roomInput.addEventListener("keydown", (event) => {
  // Enter with Join disabled submits nothing, so explain why here.
  if (event.key === "Enter" && joinButton.disabled) checkJoinField({ explain: true });
});
$("join-form").addEventListener("submit", onJoin);
nameInput.addEventListener("input", saveName);
loadName();
checkJoinField({ explain: false });
acceptInvite();
render();
health().then(({ configured, ttl }) => {
  state.configured = configured;
  showLifetimes(ttl);
  render();
});
