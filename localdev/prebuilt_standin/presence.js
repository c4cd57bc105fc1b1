// Who else is in a stand-in room: the other windows of this browser in the same room, through a
// BroadcastChannel per room (same origin only, so nothing leaves the browser).
//
// A window that joins says "join" with its participant; every window already in the room answers
// "here" with its own; "leave" (Leave, the room's end, or the window going away) takes a window
// off the others' lists.

/** This window's presence in `room` as `me` ({session_id, user_name, …}); `onChange(kind,
 * participant)` runs with "joined" or "left" for each other window. */
export class Presence {
  constructor(room, me, onChange) {
    this.me = me;
    this.onChange = onChange;
    this.others = new Map();
    this.channel = new BroadcastChannel(`daily-standin:${room}`);
    this.channel.addEventListener("message", ({ data }) => this.receive(data));
    this.post("join");
  }

  post(type) {
    this.channel.postMessage({ type, participant: this.me });
  }

  receive(data) {
    const participant = data?.participant;
    const id = participant?.session_id;
    if (typeof id !== "string" || id === this.me.session_id) return;
    if (data.type === "leave") {
      if (this.others.delete(id)) this.onChange("left", participant);
      return;
    }
    if (data.type === "join") this.post("here");
    if ((data.type === "join" || data.type === "here") && !this.others.has(id)) {
      this.others.set(id, participant);
      this.onChange("joined", participant);
    }
  }

  /** Say goodbye and stop listening. */
  close() {
    this.post("leave");
    this.channel.close();
    this.others.clear();
  }
}
