/*
 * The LRS's SCORM player page: it installs the run-time API (scorm.js,
 * LRSScorm.start) in this window, initialised with the JSON the page
 * carries in <script type="application/json" id="lrs-init"> (scorm.Init),
 * then loads the SCO into the frame, where it finds window.parent.API or
 * window.parent.API_1484_11. The frame's address is set only now, so
 * that the SCO never looks for the API before it is there. When the SCO
 * finishes, the status line says whether its data was stored. The
 * frame's window is watched so that a SCO finishing as its page goes away
 * still has its data sent (LRSScorm.watch).
 */
(function () {
  'use strict';
  const init = JSON.parse(document.getElementById('lrs-init').textContent);
  const api = LRSScorm.start(init);
  const status = document.getElementById('lrs-status');
  const finish = init.version === '1.2' ? 'LMSFinish' : 'Terminate';
  const plain = api[finish];
  api[finish] = function (arg) {
    const ok = plain(arg);
    status.textContent = ok === 'true' ? status.dataset.saved : status.dataset.failed;
    return ok;
  };
  const frame = document.getElementById('lrs-sco');
  // A SCO that finishes as its page goes away commits with keepalive.
  frame.addEventListener('load', () => LRSScorm.watch(frame.contentWindow));
  frame.src = frame.dataset.src;
})();
