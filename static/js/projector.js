/* The projector view: a slide — the join screen, the item under discussion, live counts,
   results — that fills the screen and never scrolls. It shows only what the room may see;
   the server decides (docs/protocol.md §2). The type is as large as the screen allows: fit()
   shrinks it step by step (the --s scale of projector.css) until everything fits, never
   below a thirtieth of the screen's height. */
(function () {
  "use strict";

  var R = window.LiveResults;
  var Slide = window.SlideCharts;
  var config = JSON.parse(document.getElementById("live-config").textContent);
  var S = config.results;
  var $ = function (id) { return document.getElementById(id); };
  var root = $("projector");
  var live = null;
  var offset = 0;

  /* ---------- fitting the slide to the screen ---------- */

  function overflows() {
    var main = $("p-main");
    return main.scrollHeight > main.clientHeight + 1 || main.scrollWidth > main.clientWidth + 1 ||
      root.scrollHeight > root.clientHeight + 1 || root.scrollWidth > root.clientWidth + 1;
  }

  function setScale(value) {
    root.style.setProperty("--s", String(value));
  }

  /* The largest scale in [0, 1] at which nothing overflows (a bisection: a few layouts). */
  function largestScale() {
    setScale(1);
    if (!overflows()) { return 1; }
    var low = 0, high = 1;
    for (var i = 0; i < 7; i++) {
      var middle = (low + high) / 2;
      setScale(middle);
      if (overflows()) { high = middle; } else { low = middle; }
    }
    setScale(low);
    return low;
  }

  /* A number that does not fit its part of a bar is left out there: the legend says it. */
  function hideCrampedNumbers() {
    var numbers = root.querySelectorAll(".seg-num");
    for (var i = 0; i < numbers.length; i++) {
      var number = numbers[i];
      number.classList.remove("cramped");
      if (number.scrollWidth > number.parentNode.clientWidth) { number.classList.add("cramped"); }
    }
  }

  /* The steps the slide goes down, in order, until it fits at the smallest type: beside
     results, the item's text goes, then option labels are cut to two lines' worth, then to
     one line beside their bar (with the base line and the group note left out), then
     shorter. */
  var STEPS = [
    { squeeze: "", compact: 0 },
    { squeeze: "squeeze", compact: 0 },
    { squeeze: "squeeze", compact: 1 },
    { squeeze: "squeeze squeeze-more", compact: 2 },
    { squeeze: "squeeze squeeze-more", compact: 3 }
  ];
  var fits = 0;

  function fit() {
    var withResults = !!(live && live.results && live.poll) && !$("p-results").hidden;
    var last = withResults ? STEPS.length - 1 : 0;
    for (var level = 0; level <= last; level++) {
      root.classList.remove("squeeze", "squeeze-more");
      if (STEPS[level].squeeze) { root.className += " " + STEPS[level].squeeze; }
      if (withResults && (level === 0 || STEPS[level].compact !== STEPS[level - 1].compact)) {
        Slide.render($("p-results"), live.results, live.poll, S, STEPS[level].compact);
      }
      largestScale();
      if (!overflows()) { break; }
    }
    hideCrampedNumbers();
    root.setAttribute("data-fit", String(++fits));
  }

  var fitTimer = null;
  function fitSoon() {
    if (fitTimer) { return; }
    fitTimer = window.requestAnimationFrame(function () { fitTimer = null; fit(); });
  }

  /* ---------- state ---------- */

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
    root.classList.toggle("has-results", shown);
    // Options are listed with their bars: the item text would only repeat them.
    var item = live && live.item;
    root.classList.toggle("options-poll", !!item && (item.type === "action_paths" ||
      !!(poll && poll.options && poll.options.length > 1)));
    // Drawn by fit(), at the first step where the slide fits.
    if (!shown) { box.textContent = ""; }
    $("p-hidden-note").hidden = !(poll && poll.state === "open" && !shown);
    fitSoon();
  }

  var tickCountdown = R.countdown("p-countdown", function () {
    return { poll: live && live.poll, offset: offset };
  }, function (node, left) {
    node.textContent = S.countdown + " " + R.formatSeconds(left);
    node.classList.toggle("ending", left <= 10);
  });

  function applyTheme(session) {
    var theme = session && session.projector_theme === "dark" ? "dark" : "light";
    root.setAttribute("data-theme", theme);
  }

  function applyState(s) {
    live = s;
    offset = R.clockOffset(s.server_time);
    applyTheme(s.session);
    var item = s.item;
    root.classList.toggle("idle", !item);
    root.classList.toggle("amendment", !!(item && item.amendment));
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
    fitSoon();
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

  window.addEventListener("resize", fitSoon);
  if (document.fonts && document.fonts.ready) { document.fonts.ready.then(fitSoon); }
  if (config.state) { applyState(config.state); } else { fitSoon(); }
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
