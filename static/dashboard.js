// The dashboard's live progress: follows the running (or queued) sync through Server-Sent
// Events, moves the progress bar, and reloads the page when the run ends so the counts, the
// chart and the reconciliation show the result. Without JavaScript the page refreshes itself
// (a <noscript> refresh in its head) while a run is queued or running.
(function () {
  "use strict";
  var box = document.querySelector("[data-progress-url]");
  if (!box || !window.EventSource) {
    return;
  }
  var bar = box.querySelector("progress");
  var label = box.querySelector("[data-progress-label]");
  var phase = box.querySelector("[data-progress-phase]");
  var words = { queued: "Queued", running: "Running", finished: "Finished", idle: "Finished" };
  var source = new EventSource(box.getAttribute("data-progress-url"));

  function show(data) {
    if (bar) {
      bar.max = Math.max(data.total, 1);
      bar.value = data.done;
      bar.textContent = data.done + " of " + data.total;
    }
    if (label && data.label) {
      label.textContent = data.label;
    }
    if (phase && words[data.phase]) {
      phase.textContent = words[data.phase];
    }
  }

  source.addEventListener("progress", function (e) {
    show(JSON.parse(e.data));
  });
  source.addEventListener("end", function (e) {
    source.close();
    show(JSON.parse(e.data));
    window.location.reload();
  });
})();
