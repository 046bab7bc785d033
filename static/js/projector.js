/* The projector view: idle QR code, the item under discussion, live counts, results.
   It shows only what the room may see; the server decides (docs/protocol.md §2). */
(function () {
  "use strict";

  var R = window.LiveResults;
  var config = JSON.parse(document.getElementById("live-config").textContent);
  var S = config.results;
  var $ = function (id) { return document.getElementById(id); };
  var live = null;
  var offset = 0;

  function setCounts(voted, connected) {
    var node = $("p-counts");
    var poll = live && live.poll;
    if (!poll || poll.state === "draft") {
      node.textContent = "";
      return;
    }
    // Ballots sent over HTTP (or before a restart) can outnumber the phones connected now.
    node.textContent = R.fill(voted > connected ? S.voted_only : S.voted_of, { v: voted, c: connected });
    node.setAttribute("data-voted", String(voted));
    node.setAttribute("data-connected", String(connected));
  }

  function renderResults(results, poll) {
    var box = $("p-results");
    var shown = !!(results && poll);
    box.hidden = !shown;
    $("projector").classList.toggle("has-results", shown);
    // Options are listed with their bars: the item text would only repeat them.
    var item = live && live.item;
    $("projector").classList.toggle("options-poll", !!item && item.type === "action_paths");
    if (shown) { R.render(box, results, poll, S, { groups: true }); }
    var hiddenNote = $("p-hidden-note");
    hiddenNote.hidden = !(poll && poll.state === "open" && !shown);
  }

  var tickCountdown = R.countdown("p-countdown", function () {
    return { poll: live && live.poll, offset: offset };
  }, function (node, left) {
    node.textContent = S.countdown + " " + R.formatSeconds(left);
    node.classList.toggle("ending", left <= 10);
  });

  function applyState(s) {
    live = s;
    offset = R.clockOffset(s.server_time);
    var root = $("projector");
    var item = s.item;
    root.classList.toggle("idle", !item);
    root.setAttribute("data-state", item ? (s.poll ? s.poll.state : "item") : "idle");
    $("p-idle").hidden = !!item;
    $("p-item").hidden = !item;
    if (item) {
      $("p-kind").textContent = S.items[item.type] || "";
      $("p-context").textContent = item.context || "";
      $("p-title").textContent = item.title;
      // text_html is sanitised on the server (services.text.render_markdown).
      $("p-text").innerHTML = item.text_html || "";
    }
    var poll = s.poll;
    var badge = $("p-state");
    badge.hidden = !poll;
    if (poll) {
      badge.textContent = S.states[poll.state] || poll.state;
      badge.className = "p-state " + poll.state;
    }
    var counts = s.counts || { voted: 0, connected: 0 };
    setCounts(counts.voted, counts.connected);
    renderResults(s.results, poll);
    tickCountdown();
  }

  function applyTally(t) {
    if (!live || !live.poll || t.poll_id !== live.poll.id) { return; }
    live.counts = { voted: t.voted, connected: t.connected, joined: t.joined };
    setCounts(t.voted, t.connected);
    if (t.results) {
      live.results = t.results;
      renderResults(t.results, live.poll);
    }
  }

  if (config.state) { applyState(config.state); }
  if (typeof window.io !== "function") { return; }
  var socket = window.io({ auth: { role: "projector", code: config.code } });
  socket.on("connect", function () { $("p-offline").hidden = true; });
  socket.on("disconnect", function () { $("p-offline").hidden = false; });
  socket.on("connect_error", function (err) {
    $("p-offline").hidden = false;
    if (err && err.data && err.data.message) { $("p-offline").textContent = err.data.message; }
  });
  socket.on("state", applyState);
  socket.on("tally", applyTally);
})();
