// The call view as its own entry in the tab's history, so Back leaves the call for the home view.
//
// Entering a call pushes an entry; arriving at any other entry during the call (Back) makes the
// page leave it. A call that ends otherwise (Leave, the room's end) takes its entry back, so a
// later Back never lands on a call that is gone; a call started while that is under way pushes
// its entry once it is done. A reload during a call lands on the call's entry without a call: it
// becomes a home entry again, as does any call entry reached without a call. (A fragment
// navigation is a popstate too, so the page's own skip link moves the focus without one.)

const CALL = { view: "call" };
let stepping = false;
let pushAfterStep = false;

function onCallEntry() {
  return history.state?.view === CALL.view;
}

/** Entering the call view. */
export function enteredCall() {
  if (stepping) pushAfterStep = true;
  else history.pushState(CALL, "");
}

/** The call ended while its entry is current: step back off it. */
export function endedCall() {
  pushAfterStep = false;
  if (!onCallEntry() || stepping) return;
  stepping = true;
  history.back();
}

/** Wire Back: `leave()` runs when the history leaves the call's entry during a call (`inCall()`). */
export function leaveOnBack({ inCall, leave }) {
  if (onCallEntry()) history.replaceState(null, "");
  addEventListener("popstate", () => {
    if (stepping) {
      stepping = false;
      if (pushAfterStep) history.pushState(CALL, "");
      pushAfterStep = false;
    } else if (!onCallEntry()) {
      if (inCall()) leave();
    } else if (!inCall()) {
      history.replaceState(null, "");
    }
  });
}
