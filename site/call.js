// The call view: one Daily Prebuilt frame at a time, the share box and the room's clock.
//
// The clock counts down to the room's `exp`: the one the API gave when this page created the room,
// and for any joined room the one daily-js's room() gives (config.exp), so guests see it too.
//
// Leaving always works. daily-js's destroy() first waits for the frame to confirm leave(), which
// a frame that never loaded never does. So a call that has not joined, or whose leave() does not
// settle within 2 s, is ended by removing the frame; destroy() then completes at once.
//
// A room that does not load is an error after 15 s, shown in the frame's place and announced, with
// what to do (Leave, check the link, try again) and a Leave button right there. daily-js gives each
// of its base domains (daily.co, then dailywebrtc.com and dailywebrtc.net, for networks that block
// one) 25 s before trying the next, so it only gives up after 75 s. The call view stays meanwhile:
// if a fallback domain loads, the error goes and the call appears; if none does, the call ends.

import { RoomClock } from "./clock.js";

const FRAME_OPTIONS = {
  showLeaveButton: true,
  showFullscreenButton: true,
  iframeStyle: { width: "100%", height: "100%", border: "0", borderRadius: "12px" },
};
const LOAD_TIMEOUT_MS = 15000;
const LEAVE_TIMEOUT_MS = 2000;
const COPIED_FOR_MS = 2000;

const ENDINGS = {
  expired: { text: "The room expired, so the call ended. Create a new room, or ask for a new invite, to keep talking." },
  leftEarly: { text: "You left the room before the call had connected." },
  stuck: { text: "The call did not respond, so this page closed it." },
  loadFailed: {
    alert: true,
    text: "The call could not be loaded. Check your connection (or any content blocker), then try again.",
  },
  notLoaded: { text: "The room did not load, so you left it. Check the link and your connection, then try again." },
  noRoom: { alert: true, text: "This room does not exist, or it has expired." },
  ejected: { alert: true, text: "You were removed from the call." },
};

const $ = (id) => document.getElementById(id);

/** Resolves true if `promise` settles within `ms`, false otherwise. */
function settlesWithin(promise, ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    promise.then(
      () => resolve(true),
      () => resolve(true),
    ).finally(() => clearTimeout(timer));
  });
}

/**
 * Daily's `dailyConfig.proxyUrl` for a room, when the server asked for one in a
 * <meta name="daily-proxy-url"> (only `make dev` does, offline, for its emulator's rooms).
 */
function proxyUrlFor(roomUrl) {
  const meta = document.querySelector('meta[name="daily-proxy-url"]');
  const hosts = meta?.dataset.roomHosts?.split(" ") ?? [];
  return hosts.includes(new URL(roomUrl).host) ? new URL(meta.content, location.href).href : null;
}

function resetCopyButtons() {
  for (const button of document.querySelectorAll("[data-copies]")) button.textContent = button.dataset.label;
}

/** The link to this page that opens `roomUrl` ready to join. */
function inviteLink(roomUrl) {
  return `${location.origin}${location.pathname}?room=${roomUrl}`;
}

/** An element with a class and, optionally, its text. */
function element(tag, className, text = "") {
  const made = document.createElement(tag);
  made.className = className;
  made.textContent = text;
  return made;
}

/** Shows a call in the page. `onJoined({url, exp})` runs once joined, with the room's `exp` (null
 * for a room without one) as far as it is known; `onEnd(ending?)` runs once the frame is gone. */
export class Call {
  constructor({ url, token, exp, userName }, { onJoined, onEnd }) {
    this.url = url;
    this.onJoined = onJoined;
    this.onEnd = onEnd;
    this.ended = false;
    this.expired = false;
    this.notLoaded = false;
    this.copyReset = 0;
    this.clock = new RoomClock(() => {
      this.expired = true;
    });
    this.clock.set(exp ?? null);
    const proxyUrl = proxyUrlFor(url);
    const options = proxyUrl ? { ...FRAME_OPTIONS, dailyConfig: { proxyUrl } } : FRAME_OPTIONS;
    this.frame = window.Daily.createFrame($("frame"), options);
    this.frame.iframe().title = "Daily video call";
    this.frame.on("loaded", () => this.loaded());
    this.frame.on("joined-meeting", () => this.joined());
    // Daily ejects everyone when the room expires; say so back on the home view.
    this.frame.on("left-meeting", () => this.end(this.expired ? ENDINGS.expired : undefined));
    this.frame.on("error", (event) => this.end(this.endingFor(event)));
    this.showDetails();
    this.loadTimer = setTimeout(() => this.showLoadError(), LOAD_TIMEOUT_MS);
    const joinOptions = { url, ...(token && { token }), ...(userName && { userName }) };
    // A failed join also arrives as an "error" event, handled above.
    this.frame.join(joinOptions).catch(() => {});
  }

  endingFor(event) {
    const type = event?.error?.type;
    if (this.expired || type === "exp-room") return ENDINGS.expired;
    if (type === "no-room") return ENDINGS.noRoom;
    if (type === "connection-error") return ENDINGS.loadFailed;
    if (type === "ejected") return ENDINGS.ejected;
    return { alert: true, text: `The call ended: ${event?.errorMsg || "unknown error"}` };
  }

  showDetails() {
    $("frame").classList.add("is-loading");
    $("frame-status").textContent = "Connecting to the room…";
    $("room-name").textContent = new URL(this.url).pathname.slice(1);
    $("share-url").value = this.url;
    $("invite-url").value = inviteLink(this.url);
    for (const button of document.querySelectorAll("[data-copies]")) {
      const input = $(button.dataset.copies);
      button.onclick = () => this.copy(input, input.id === "invite-url" ? "Invite link" : "Daily link");
    }
    resetCopyButtons();
    $("leave").disabled = false;
    $("leave").onclick = () => this.leave();
  }

  /** Once in the room, its own `exp` (daily-js's room()) sets the clock, then the page hears. */
  async joined() {
    try {
      const exp = (await this.frame.room())?.config?.exp;
      if (Number.isFinite(exp) && exp !== this.clock.exp) this.clock.set(exp);
    } catch {
      // The room's config did not come: the clock keeps what it had.
    }
    if (!this.ended) this.onJoined({ url: this.url, exp: this.clock.exp });
  }

  loaded() {
    clearTimeout(this.loadTimer);
    this.notLoaded = false;
    const hadFocus = $("load-error").contains(document.activeElement);
    $("load-error").replaceChildren();
    if (hadFocus) $("call-title").focus();
    $("frame").classList.remove("is-loading");
    $("frame-status").textContent = "";
  }

  /** In the frame's place: what happened, what to do, and Leave; announced and focused. */
  showLoadError() {
    this.notLoaded = true;
    $("frame-status").textContent = "";
    const icon = element("span", "load-error-icon", "!");
    icon.setAttribute("aria-hidden", "true");
    const title = element("h2", "load-error-title");
    title.append(icon, "This room did not load");
    const leave = element("button", "button danger compact", "Leave");
    leave.type = "button";
    leave.onclick = () => this.leave();
    $("load-error").replaceChildren(
      title,
      element(
        "p",
        "",
        `Nothing came back from Daily in ${LOAD_TIMEOUT_MS / 1000} seconds. The room link may be wrong, or your connection or a content blocker may be keeping Daily out.`,
      ),
      element("p", "load-error-todo", "Leave, check the room link and your connection, then try again."),
      leave,
      element("p", "load-error-note", "Daily keeps trying other addresses meanwhile; if one answers, the call appears here."),
    );
    $("load-error").focus();
  }

  /** Copy a link; the button(s) say "Copied!" for a moment and a status line says what. */
  async copy(input, what) {
    let copied = false;
    try {
      await navigator.clipboard.writeText(input.value);
      copied = true;
    } catch {
      input.select();
      copied = document.execCommand("copy");
    }
    resetCopyButtons();
    $("copy-status").textContent = copied
      ? `${what} copied to the clipboard.`
      : "Could not copy: the link is selected, press Ctrl+C or ⌘C.";
    if (copied) {
      for (const button of document.querySelectorAll(`[data-copies="${input.id}"]`)) button.textContent = "Copied!";
    }
    clearTimeout(this.copyReset);
    this.copyReset = setTimeout(() => {
      $("copy-status").textContent = "";
      resetCopyButtons();
    }, COPIED_FOR_MS);
  }

  /** Leave through Daily when joined; otherwise, or if Daily does not answer in time, close. */
  async leave() {
    $("leave").disabled = true;
    if (this.frame.meetingState() !== "joined-meeting") {
      this.end(this.notLoaded ? ENDINGS.notLoaded : ENDINGS.leftEarly, { force: true });
    } else if (await settlesWithin(this.frame.leave(), LEAVE_TIMEOUT_MS)) {
      this.end(this.expired ? ENDINGS.expired : undefined);
    } else {
      this.end(ENDINGS.stuck, { force: true });
    }
  }

  /** Destroy this call's frame (only once), then hand back to the page. */
  async end(ending, { force = false } = {}) {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.loadTimer);
    this.clock.stop();
    clearTimeout(this.copyReset);
    // Without its frame, daily-js's leave() fails at once and destroy() goes on.
    if (force) this.frame.iframe()?.remove();
    if (!(await settlesWithin(this.frame.destroy(), LEAVE_TIMEOUT_MS))) {
      this.frame.iframe()?.remove();
      await settlesWithin(this.frame.destroy(), LEAVE_TIMEOUT_MS);
    }
    $("frame").classList.remove("is-loading");
    $("frame-status").textContent = "";
    $("load-error").replaceChildren();
    this.onEnd(ending);
  }
}
