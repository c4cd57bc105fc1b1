// The time left in a room, in the call bar: "Expires in m:ss", a warning a minute before the end
// (shown, and announced through a polite live region), and the end itself.

/** When the warning comes: this many seconds before the room's `exp`. */
export const WARNING_SECONDS = 60;

const $ = (id) => document.getElementById(id);

/** m:ss for a number of whole seconds. */
export function formatRemaining(seconds) {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/** Whole seconds until `exp` (unix seconds), never below 0. */
export function secondsLeft(exp) {
  return Math.max(0, Math.round(exp - Date.now() / 1000));
}

/** The warning's words: "1 minute" when it comes on time, "less than" for a room joined later. */
function warning(left) {
  const when = left > WARNING_SECONDS - 5 ? "in 1 minute" : "in less than a minute";
  return `This room closes ${when}. The call then ends for everyone; create a new room to keep talking.`;
}

/** The call bar's countdown to one room's `exp`; `onExpired()` runs once, at 0:00. */
export class RoomClock {
  constructor(onExpired) {
    this.onExpired = onExpired;
    this.exp = null;
    this.timer = 0;
    this.warned = false;
    this.set(null);
  }

  /** Count down to `exp` (unix seconds); null: the room has no end, and no clock shows. */
  set(exp) {
    this.stop();
    this.exp = exp;
    this.warned = false;
    $("expiry").hidden = exp === null;
    $("expiry").classList.remove("is-ending", "is-expired");
    $("expiry-label").textContent = "Expires in";
    $("expiry-note").className = "expiry-note";
    $("expiry-note").textContent = "";
    if (exp !== null) this.tick();
  }

  tick() {
    const left = secondsLeft(this.exp);
    $("countdown").textContent = formatRemaining(left);
    if (left === 0) {
      this.showExpired();
      return;
    }
    if (left <= WARNING_SECONDS && !this.warned) {
      this.warned = true;
      $("expiry").classList.add("is-ending");
      $("expiry-note").classList.add("is-warning");
      $("expiry-note").textContent = warning(left);
    }
    // The next tick on the next whole second before exp.
    const untilNext = (this.exp * 1000 - Date.now()) % 1000 || 1000;
    this.timer = setTimeout(() => this.tick(), untilNext + 5);
  }

  showExpired() {
    $("expiry").classList.remove("is-ending");
    $("expiry").classList.add("is-expired");
    $("expiry-label").textContent = "Room expired";
    $("expiry-note").className = "expiry-note is-expired";
    $("expiry-note").textContent =
      "This room has expired and its links no longer work. Daily ends the call for everyone; create a new room to keep talking.";
    this.onExpired();
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = 0;
  }
}
