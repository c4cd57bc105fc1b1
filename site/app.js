// Page wiring: the home view (name, lifetime, create, rejoin, join), the call view and messages.
import { ApiError, createRoom, health } from "./api.js";
import { Call } from "./call.js";
import { formatRemaining, secondsLeft } from "./clock.js";
import { endedCall, enteredCall, leaveOnBack } from "./history.js";
import { checkRoomUrl } from "./room-url.js";
import { clearCurrentCall, rejoinable, rememberCreated, saveCurrentCall } from "./session.js";

const $ = (id) => document.getElementById(id);
const createButton = $("create");
const rejoinButton = $("rejoin");
const roomInput = $("room-url");
const joinButton = $("join");
const nameInput = $("display-name");

const LIFETIME_MINUTES = [5, 15, 30, 60];
const NAME_KEY = "displayName"; // localStorage: the name is not a secret, and worth remembering
const LIMIT_KEY = "createLimitedUntil"; // sessionStorage: when a 429's Retry-After ends (ms)

// Both scripts are deferred and run in order, so by now daily-js has either run or failed.
const libraryLoaded = typeof window.Daily?.createFrame === "function";

const state = {
  configured: null,
  creating: false,
  call: null,
  rejoinTimer: 0,
  invited: false,
  resuming: false,
  limitedUntil: 0,
  limitTimer: 0,
};

/** Show `message` (and the request id, for support) in an alert ("alert", the page's, or
 * "create-alert", under Create); empty clears it. */
function showError(message, requestId = "", { focus = false, target = "alert" } = {}) {
  const alert = $(target);
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

/** Show `parts` (strings, or [text] for emphasis) in the page's status line; "" clears it.
 * A problem is marked after the call. */
function showNotice(...parts) {
  $("notice").classList.remove("is-problem");
  $("notice").replaceChildren(
    ...parts.filter((part) => part !== "").map((part) => {
      if (typeof part === "string") return part;
      const strong = document.createElement("strong");
      strong.textContent = part[0];
      return strong;
    }),
  );
}

/** m:ss, or h:mm:ss from an hour on. */
function formatWait(seconds) {
  if (seconds < 3600) return formatRemaining(seconds);
  const hours = Math.floor(seconds / 3600);
  const rest = formatRemaining(seconds % 3600).padStart(5, "0");
  return `${hours}:${rest}`;
}

function limitSecondsLeft() {
  return Math.max(0, Math.ceil((state.limitedUntil - Date.now()) / 1000));
}

/** Create stays off until the server's Retry-After has passed, counting down on its label. */
function limitCreate(retryAfter) {
  state.limitedUntil = Date.now() + retryAfter * 1000;
  try {
    sessionStorage.setItem(LIMIT_KEY, String(state.limitedUntil));
  } catch {
    // Without storage a reload forgets the wait; the server still refuses.
  }
  tickLimit();
}

function tickLimit() {
  clearTimeout(state.limitTimer);
  if (limitSecondsLeft() > 0) {
    // Next tick on the next whole second of the wait.
    const untilNext = (state.limitedUntil - Date.now()) % 1000 || 1000;
    state.limitTimer = setTimeout(tickLimit, untilNext + 5);
  } else if (state.limitedUntil) {
    state.limitedUntil = 0;
    try {
      sessionStorage.removeItem(LIMIT_KEY);
    } catch {
      // Nothing was kept.
    }
    showError("", "", { target: "create-alert" });
    showNotice("You can create a room again.");
  }
  render();
}

function restoreLimit() {
  try {
    const until = Number(sessionStorage.getItem(LIMIT_KEY));
    if (until > Date.now()) {
      state.limitedUntil = until;
      tickLimit();
    }
  } catch {
    // Unreadable storage: no wait to restore.
  }
}

// ---- Rejoin: the call a reload interrupted, or the room created last in this tab ----

function updateRejoin() {
  const room = state.call ? null : rejoinable();
  if (state.resuming && !room?.interrupted) {
    state.resuming = false;
    showNotice("The room you were in has expired. Create a new room, or ask for a new invite, to keep talking.");
  }
  if (!room && document.activeElement === rejoinButton) (state.invited ? joinButton : createButton).focus();
  $("rejoin-section").hidden = !room;
  $("rejoin-divider").hidden = !room;
  if (!room) {
    clearInterval(state.rejoinTimer);
    state.rejoinTimer = 0;
    return;
  }
  const name = new URL(room.url).pathname.slice(1);
  const roomPart = document.createElement("span");
  roomPart.className = "rejoin-room";
  roomPart.textContent = `Rejoin ${name}`;
  const parts = [roomPart];
  if (room.exp !== null) {
    const leftPart = document.createElement("span");
    leftPart.className = "rejoin-left";
    leftPart.textContent = `(${formatRemaining(secondsLeft(room.exp))} left)`;
    parts.push(" ", leftPart);
  }
  rejoinButton.replaceChildren(...parts);
  if (!state.rejoinTimer) state.rejoinTimer = setInterval(render, 1000);
}

// ---- Views ----

function createLabel(waiting) {
  if (state.creating) return "Creating room…";
  if (waiting) return `Create again in ${formatWait(waiting)}`;
  return "Create room and start";
}

function render() {
  const inCall = state.call !== null;
  const waiting = limitSecondsLeft();
  updateRejoin();
  // An invite makes Join the visitor's next step, unless a reload interrupted a call: then Rejoin.
  const joinFirst = state.invited && !state.resuming;
  $("home").hidden = inCall;
  $("call").hidden = !inCall;
  document.body.classList.toggle("in-call", inCall);
  document.body.classList.toggle("invited", joinFirst);
  document.body.classList.toggle("resuming", state.resuming);
  $("library-banner").hidden = libraryLoaded;
  $("config-banner").hidden = state.configured !== false || !libraryLoaded;
  createButton.disabled = state.creating || state.configured === false || !libraryLoaded || waiting > 0;
  $("lifetime").disabled = state.configured === false || !libraryLoaded;
  createButton.setAttribute("aria-busy", String(state.creating));
  createButton.classList.toggle("is-busy", state.creating);
  const createFirst = !joinFirst && !state.resuming;
  createButton.classList.toggle("primary", createFirst);
  createButton.classList.toggle("secondary", !createFirst);
  joinButton.classList.toggle("primary", joinFirst);
  joinButton.classList.toggle("secondary", !joinFirst);
  rejoinButton.classList.toggle("primary", state.resuming);
  rejoinButton.classList.toggle("secondary", !state.resuming);
  // First on the page, the join field is no longer the "or".
  $("room-url-label").textContent = joinFirst ? "Room to join" : "Or enter room to join";
  $("create-label").textContent = createLabel(waiting);
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
  if (!libraryLoaded) {
    $("library-banner").focus();
    return;
  }
  showError("");
  showError("", "", { target: "create-alert" });
  showNotice("");
  const userName = nameInput.value.trim();
  try {
    state.call = new Call({ ...room, userName }, { onJoined: saveCurrentCall, onEnd: endCall });
  } catch (error) {
    showError(`Could not open the call: ${error.message}`, "", { focus: true });
    return;
  }
  state.resuming = false;
  enteredCall();
  render();
  $("call-title").focus();
}

function endCall(ending) {
  state.call = null;
  clearCurrentCall();
  endedCall();
  render();
  if (ending?.alert) {
    showError(ending.text, "", { focus: true });
    return;
  }
  showError("");
  showNotice(ending?.text ?? "");
  ($("rejoin-section").hidden ? createButton : rejoinButton).focus();
}

async function onCreate() {
  if (state.creating || state.call || limitSecondsLeft() > 0) return;
  // No room is spent on a call this page could not open.
  if (!libraryLoaded) {
    $("library-banner").focus();
    return;
  }
  state.creating = true;
  showError("");
  showError("", "", { target: "create-alert" });
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
      // The server's own words; a 429 also turns Create off for its Retry-After.
      showError(error.message, error.requestId, { target: "create-alert" });
      if (error.status === 429 && error.retryAfter) limitCreate(error.retryAfter);
    }
  } finally {
    state.creating = false;
    render();
  }
  if (room) {
    rememberCreated(room);
    startCall(room);
  } else {
    (state.configured === false ? $("config-banner") : $("create-alert")).focus();
  }
}

// ---- The join field: checked as you type, explained on blur or submit ----

function checkJoinField({ explain }) {
  const result = checkRoomUrl(roomInput.value);
  joinButton.disabled = !result.url || !libraryLoaded;
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

/** An invite link (?room=<daily room url>) fills the field and makes Join the primary action,
 * first on the page, right under the notice; a link that is no room link is explained there. */
function acceptInvite() {
  const invited = new URLSearchParams(location.search).get("room");
  if (invited === null) return;
  state.invited = true;
  roomInput.value = invited;
  const { url, message } = checkJoinField({ explain: true });
  if (!url) {
    showNotice("This invite link does not open a room. ", message || "It names no room.", " Ask for a new link, or paste the room link below.");
    $("notice").classList.add("is-problem");
    render();
    roomInput.focus();
    return;
  }
  roomInput.value = url;
  // The team's address says whose room it is: shown before anyone joins, as the link gives it.
  const { host, pathname } = new URL(url);
  showNotice("You are invited to room ", [pathname.slice(1)], " on ", [host], ". Press Join room to enter.");
  render();
  joinButton.focus();
}

/** A call this tab was in when it reloaded: Rejoin comes first, with a word on it, unless an
 * invite to another room asks for something else. */
function offerResume() {
  const room = rejoinable();
  if (!room?.interrupted) return;
  const invited = state.invited && checkRoomUrl(roomInput.value).url;
  if (invited && invited !== room.url) return;
  state.resuming = true;
  const { host, pathname } = new URL(room.url);
  showNotice("You were in a call in room ", [pathname.slice(1)], " on ", [host], ". Press Rejoin to go back in while the room is open.");
  render();
  rejoinButton.focus();
}

/** What only the dev server adds (a <meta name="localdev">): how to set it up, for its banners. */
function showDevHints() {
  const meta = document.querySelector('meta[name="localdev"]');
  if (!meta) return;
  for (const [id, text] of [["config-dev-hint", meta.dataset.setup], ["library-dev-hint", meta.dataset.callLibrary]]) {
    if (!text) continue;
    $(id).textContent = text;
    $(id).hidden = false;
  }
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
  const room = rejoinable();
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
// Focus, not a fragment navigation: that would be a history step, which a call takes for Back.
document.querySelector(".skip-link").addEventListener("click", (event) => {
  event.preventDefault();
  $("main").focus();
});
nameInput.addEventListener("input", saveName);
loadName();
showDevHints();
checkJoinField({ explain: false });
leaveOnBack({ inCall: () => state.call !== null, leave: () => state.call.leave() });
acceptInvite();
offerResume();
restoreLimit();
render();
health().then(({ configured, ttl }) => {
  state.configured = configured;
  showLifetimes(ttl);
  render();
});
