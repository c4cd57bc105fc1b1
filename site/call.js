// The call view: one Daily Prebuilt frame at a time, the share box and the expiry countdown.

const FRAME_OPTIONS = {
  showLeaveButton: true,
  showFullscreenButton: true,
  iframeStyle: { width: "100%", height: "100%", border: "0", borderRadius: "12px" },
};
const COPIED_FOR_MS = 2000;
const EXPIRED_MESSAGE = "The room expired, so the call ended. Create a new room to keep talking.";

const $ = (id) => document.getElementById(id);

/** m:ss for a number of whole seconds. */
function formatRemaining(seconds) {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/** Shows a call in the page; `onEnd(message?)` runs once the frame is destroyed. */
export class Call {
  constructor({ url, token, exp }, onEnd) {
    this.url = url;
    this.exp = exp;
    this.onEnd = onEnd;
    this.ended = false;
    this.expired = false;
    this.timer = 0;
    this.copyReset = 0;
    this.frame = window.Daily.createFrame($("frame"), FRAME_OPTIONS);
    this.frame.iframe().title = "Daily video call";
    // Daily ejects everyone when the room expires; say so back on the home view.
    this.frame.on("left-meeting", () => this.end(this.expired ? EXPIRED_MESSAGE : undefined));
    this.frame.on("error", (event) => this.end(`The call ended: ${event?.errorMsg || "unknown error"}`));
    this.showDetails();
    // A failed join also arrives as an "error" event, handled above.
    this.frame.join(token ? { url, token } : { url }).catch(() => {});
  }

  showDetails() {
    $("room-name").textContent = new URL(this.url).pathname.slice(1);
    $("share-url").value = this.url;
    $("copy").disabled = false;
    $("copy").textContent = "Copy room URL";
    $("copy").onclick = () => this.copy();
    $("leave").disabled = false;
    $("leave").onclick = () => this.leave();
    $("expiry").hidden = !this.exp;
    $("expiry").classList.remove("is-expired");
    $("expiry-label").textContent = "Room expires in";
    $("expired-note").textContent = "";
    if (this.exp) {
      this.tick();
      this.timer = setInterval(() => this.tick(), 1000);
    }
  }

  tick() {
    const left = Math.max(0, Math.round(this.exp - Date.now() / 1000));
    $("countdown").textContent = formatRemaining(left);
    if (left > 0) return;
    this.expired = true;
    clearInterval(this.timer);
    $("expiry").classList.add("is-expired");
    $("expiry-label").textContent = "Room expired";
    $("expired-note").textContent =
      "This room has expired and its link no longer works. Daily ends the call for everyone; create a new room to keep talking.";
    $("copy").disabled = true;
  }

  async copy() {
    const input = $("share-url");
    let copied = false;
    try {
      await navigator.clipboard.writeText(this.url);
      copied = true;
    } catch {
      input.select();
      copied = document.execCommand("copy");
    }
    $("copy").textContent = copied ? "Copied!" : "Copy room URL";
    $("copy-status").textContent = copied
      ? "Room URL copied to the clipboard."
      : "Could not copy: the link is selected, press Ctrl+C or ⌘C.";
    clearTimeout(this.copyReset);
    this.copyReset = setTimeout(() => {
      $("copy").textContent = "Copy room URL";
      $("copy-status").textContent = "";
    }, COPIED_FOR_MS);
  }

  /** Ask Daily to leave; the frame's "left-meeting" event then ends the call. */
  leave() {
    $("leave").disabled = true;
    this.frame.leave().catch(() => this.end());
  }

  /** Destroy this call's frame (only once), then hand back to the page. */
  async end(message) {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.timer);
    clearTimeout(this.copyReset);
    await this.frame.destroy();
    this.onEnd(message);
  }
}
