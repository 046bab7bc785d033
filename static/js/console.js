/* The facilitator console. Every control is an HTML form that works without this script
   (HTTP POST); with it, the form's data goes through Socket.IO with an acknowledgement
   (docs/protocol.md §3) and the page follows the `state` and `tally` events. */
(function () {
  "use strict";

  var R = window.LiveResults;
  var config = JSON.parse(document.getElementById("live-config").textContent);
  var S = config.strings;
  var $ = function (id) { return document.getElementById(id); };
  var live = null;
  var offset = 0;
  var autoClosedPoll = null;
  var socket = null;

  function log(kind, text) {
    var node = $("console-log");
    node.hidden = !text;
    node.className = "console-log notice" + (kind ? " " + kind : "");
    node.textContent = text || "";
  }

  function setConnection(ok) {
    var node = $("connection");
    node.setAttribute("data-state", ok ? "online" : "offline");
    node.textContent = ok ? S.connected : S.disconnected;
  }

  function show(id, visible) { $(id).hidden = !visible; }

  function setPollIds(pollId) {
    var inputs = document.querySelectorAll("input[name=poll_id]");
    for (var i = 0; i < inputs.length; i++) { inputs[i].value = pollId === null ? "" : String(pollId); }
  }

  /* What the chosen method uses ("options", "dots"): the server writes it on each method's
     <option> (data-uses, from deliberation.methods). */
  function methodUses(what) {
    var select = $("open-method");
    var chosen = select.options[select.selectedIndex];
    var uses = chosen ? (chosen.getAttribute("data-uses") || "").split(" ") : [];
    return uses.indexOf(what) >= 0;
  }

  function methodFields() {
    var blocks = document.querySelectorAll("[data-method-uses]");
    for (var i = 0; i < blocks.length; i++) {
      blocks[i].hidden = !methodUses(blocks[i].getAttribute("data-method-uses"));
    }
  }

  function hidden(name, value) {
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    return input;
  }

  function smallForm(url, fields, button, eventName) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = url;
    if (eventName) { form.setAttribute("data-event", eventName); }
    form.appendChild(hidden("csrf_token", config.csrfToken));
    Object.keys(fields).forEach(function (name) { form.appendChild(hidden(name, fields[name])); });
    form.appendChild(button);
    return form;
  }

  function button(text, className, label) {
    var node = document.createElement("button");
    node.type = "submit";
    if (className) { node.className = className; }
    node.textContent = text;
    if (label) { node.setAttribute("aria-label", label); }
    return node;
  }

  function agendaUrl(pattern, id) { return pattern.replace("/0/", "/" + id + "/"); }

  /* The agenda changed elsewhere (another console, a proposal accepted from the floor):
     rebuild the list with the same forms the server renders. */
  function rebuildAgenda(agenda) {
    var list = $("agenda-list");
    list.textContent = "";
    agenda.forEach(function (entry, index) {
      var row = document.createElement("li");
      row.id = "agenda-" + entry.id;
      row.setAttribute("data-id", entry.id);
      row.appendChild(R.el("span", "pos", index + 1));
      var body = document.createElement("div");
      body.appendChild(R.el("strong", null, entry.title));
      body.appendChild(document.createTextNode(" "));
      var badge = R.el("span", "badge", S.items[entry.type] || entry.type);
      badge.setAttribute("data-badge", entry.id);
      body.appendChild(badge);
      body.appendChild(R.el("div", "agenda-text", entry.excerpt));
      row.appendChild(body);
      var actions = R.el("div", "agenda-actions");
      var show = button(S.show, "primary");
      show.setAttribute("data-show", entry.id);
      show.appendChild(R.el("span", "visually-hidden", ": " + entry.title));
      actions.appendChild(smallForm(config.urls.show, { item_id: entry.id }, show, "show_item"));
      var up = button("↑", null, R.fill(S.move_up, { title: entry.title }));
      up.disabled = index === 0;
      actions.appendChild(smallForm(agendaUrl(config.urls.move, entry.id), { direction: "up" }, up));
      var down = button("↓", null, R.fill(S.move_down, { title: entry.title }));
      down.disabled = index === agenda.length - 1;
      actions.appendChild(smallForm(agendaUrl(config.urls.move, entry.id), { direction: "down" }, down));
      var voted = (entry.polls || []).some(function (p) { return p.state !== "draft"; });
      if (!voted) {
        var remove = button(S.remove, "danger", R.fill(S.remove_label, { title: entry.title }));
        actions.appendChild(smallForm(agendaUrl(config.urls.remove, entry.id), {}, remove));
      }
      row.appendChild(actions);
      list.appendChild(row);
    });
    $("agenda-empty").hidden = agenda.length > 0;
    config.agendaIds = agenda.map(function (entry) { return entry.id; });
  }

  function renderAgenda(s) {
    var agenda = s.agenda || [];
    var ids = agenda.map(function (entry) { return entry.id; });
    if (ids.join(",") !== config.agendaIds.join(",")) { rebuildAgenda(agenda); }
    agenda.forEach(function (entry) {
      var row = $("agenda-" + entry.id);
      if (!row) { return; }
      row.classList.toggle("current", !!(s.item && s.item.id === entry.id));
      var badge = row.querySelector("[data-badge]");
      var last = entry.polls && entry.polls.length ? entry.polls[entry.polls.length - 1] : null;
      if (badge && last) {
        badge.textContent = S.states[last.state] || last.state;
        badge.className = "badge " + last.state;
      }
    });
  }

  function renderCurrent(s) {
    var item = s.item, poll = s.poll;
    $("c-kind").textContent = item ? (S.items[item.type] || "") : "";
    $("c-title").textContent = item ? item.title : S.nothing_shown;
    $("c-context").textContent = item ? (item.context || "") : "";
    // text_html is sanitised on the server (services.text.render_markdown).
    $("c-text").innerHTML = item ? (item.text_html || "") : "";
    var state = $("c-poll-state");
    state.textContent = poll ? (S.states[poll.state] || poll.state) : (item ? S.no_poll : "");
    state.className = "badge " + (poll ? poll.state : "");
    state.setAttribute("data-state", poll ? poll.state : "none");

    var previousItem = $("open-item-id").value;
    $("open-item-id").value = item ? String(item.id) : "";
    if (item && previousItem !== String(item.id)) {
      $("open-method").value = item.suggested_method || $("open-method").options[0].value;
      // Each new item starts from a secret vote: a named one is chosen, never inherited.
      $("open-secret").checked = true;
      $("open-show-live").checked = false;
      $("open-options").value = "";
      $("open-countdown").value = "";
      var suggested = (item.options || []).map(function (o) { return o.label; });
      $("open-options-hint").textContent = suggested.length ? R.fill(S.option_hint, { options: suggested.join(" · ") }) : "";
      methodFields();
    }
    show("form-open", !!item && !(poll && poll.state === "open"));
    show("form-close", !!poll && poll.state === "open");
    show("form-publish", !!poll && poll.state === "closed");
    // Live results are for named votes only: a secret vote shows turnout until it closes.
    show("form-live", !!poll && !poll.secret && (poll.state === "open" || poll.state === "closed"));
    show("c-secret-hint", !!poll && !!poll.secret && poll.state === "open");
    show("form-reset", !!poll && poll.state !== "draft");
    $("live-toggle").checked = !!(poll && poll.show_live);
    // The theme another console chose (or this one, before a reload).
    if (s.session && s.session.projector_theme && document.activeElement !== $("projector-theme")) {
      $("projector-theme").value = s.session.projector_theme;
    }
    $("btn-idle").disabled = !item || !!(poll && poll.state === "open");
    var ids = (s.agenda || []).map(function (entry) { return entry.id; });
    var nextIndex = item ? ids.indexOf(item.id) + 1 : 0;
    $("next-item-id").value = nextIndex < ids.length ? String(ids[nextIndex]) : "";
    show("form-next", nextIndex < ids.length && !(poll && poll.state === "open"));
    var showButtons = document.querySelectorAll("[data-show]");
    for (var i = 0; i < showButtons.length; i++) {
      showButtons[i].disabled = !!(poll && poll.state === "open");
    }
    setPollIds(poll ? poll.id : null);
  }

  function setCounts(counts) {
    counts = counts || {};
    var joined = counts.joined || 0;
    var expected = counts.expected;
    $("c-connected").textContent = counts.connected || 0;
    $("c-voted").textContent = counts.voted || 0;
    $("c-joined").textContent = joined;
    $("c-expected").textContent = expected === null || expected === undefined ? "—" : expected;
    // Said in words (and an icon), not by colour alone.
    var overflow = expected !== null && expected !== undefined && joined > expected;
    $("c-overflow").hidden = !overflow;
    $("c-overflow-text").textContent = overflow ? R.fill(S.overflow, { joined: joined, expected: expected }) : "";
    var tickets = counts.tickets;
    $("c-tickets").hidden = !tickets;
    if (tickets) {
      $("c-tickets-used").textContent = tickets.used;
      $("c-tickets-issued").textContent = tickets.issued;
    }
  }

  /* Who voted what: named votes only, once closed (the server sends nothing otherwise). */
  function renderRecord(rows) {
    var body = $("record-rows");
    body.textContent = "";
    (rows || []).forEach(function (row) {
      var line = document.createElement("tr");
      line.appendChild(R.el("td", null, row.name || R.fill(S.participant_n, { n: row.participant })));
      line.appendChild(R.el("td", null, S.groups[row.group] || row.group));
      line.appendChild(R.el("td", null, row.choice_label));
      body.appendChild(line);
    });
    $("record-panel").hidden = !(rows && rows.length);
  }

  function renderResults(results, poll) {
    var box = $("c-results");
    if (!results || !poll) {
      box.textContent = "";
      box.appendChild(R.el("p", "waiting", S.no_results));
      return;
    }
    R.render(box, results, poll, S, { groups: true });
  }

  var tickCountdown = R.countdown("c-countdown", function () {
    return { poll: live && live.poll, offset: offset };
  }, function (node, left, poll) {
    node.textContent = S.countdown + " " + R.formatSeconds(left);
    // The server closes the vote itself (unless told not to when opening): say so once.
    if (left === 0 && autoClosedPoll !== poll.id) {
      autoClosedPoll = poll.id;
      log("warn", $("open-autoclose").checked ? S.countdown_over : S.countdown_over_manual);
    }
  });

  function applyState(s) {
    var before = live && live.poll;
    if (before && s.poll && before.id === s.poll.id && before.state === "open" && s.poll.state === "closed") {
      // Closed elsewhere: by the server at the end of the countdown, or another console.
      log("ok", S.closed_elsewhere);
    }
    live = s;
    offset = R.clockOffset(s.server_time);
    renderAgenda(s);
    renderCurrent(s);
    setCounts(s.counts);
    renderResults(s.results, s.poll);
    renderRecord(s.record);
    tickCountdown();
  }

  function applyTally(t) {
    if (!live) { return; }
    live.counts = {
      connected: t.connected, voted: t.voted, joined: t.joined, expected: t.expected, tickets: t.tickets
    };
    setCounts(live.counts);
    if (live.poll && t.poll_id === live.poll.id && t.results) {
      live.results = t.results;
      renderResults(t.results, live.poll);
    }
  }

  /* ---------- forms → socket events ---------- */

  function intOrNull(value) {
    var text = String(value || "").trim();
    return /^\d+$/.test(text) ? parseInt(text, 10) : null;
  }

  function payloadOf(event, form) {
    var data = {};
    if (event === "show_item") {
      data.item_id = intOrNull(form.elements.item_id.value);
    } else if (event === "open_poll") {
      data.item_id = intOrNull(form.elements.item_id.value);
      data.method = form.elements.method.value;
      data.secret = !$("open-named").checked;
      data.show_live = !data.secret && form.elements.show_live.checked;
      // The lines as typed: the server reads them into options (one place, both paths).
      if (methodUses("options")) { data.options = form.elements.options.value; }
      if (methodUses("dots")) { data.dots = intOrNull(form.elements.dots.value) || 3; }
      var countdown = intOrNull(form.elements.countdown_seconds.value);
      if (countdown) { data.countdown_seconds = countdown; }
      data.auto_close = $("open-autoclose").checked;
    } else if (event === "set_show_live") {
      data.poll_id = intOrNull(form.elements.poll_id.value);
      data.show_live = form.elements.show_live.checked;
    } else if (event === "set_projector_theme") {
      data.theme = form.elements.theme.value;
    } else {
      data.poll_id = intOrNull(form.elements.poll_id.value);
    }
    return data;
  }

  /* What the action just did, in words (the state it brought is already applied). */
  function didWhat(event, data) {
    var title = live && live.item ? live.item.title : "";
    if (event === "show_item") { return data.item_id === null ? S.did_idle : R.fill(S.did_show, { title: title }); }
    if (event === "open_poll") { return R.fill(S.did_open, { title: title }); }
    if (event === "close_poll") { return S.did_close; }
    if (event === "publish_poll") { return S.did_publish; }
    if (event === "reset_poll") { return S.did_reset; }
    if (event === "set_show_live") { return data.show_live ? S.did_live_on : S.did_live_off; }
    if (event === "set_projector_theme") { return data.theme === "dark" ? S.did_theme_dark : S.did_theme_light; }
    return S.done;
  }

  function send(event, data, form) {
    var buttons = form ? form.querySelectorAll("button") : [];
    for (var i = 0; i < buttons.length; i++) { buttons[i].disabled = true; }
    socket.timeout(8000).emit(event, data, function (err, ack) {
      for (var j = 0; j < buttons.length; j++) { buttons[j].disabled = false; }
      if (err) { log("bad", S.disconnected); return; }
      if (ack && ack.ok) {
        if (ack.state) { applyState(ack.state); }
        log("ok", didWhat(event, data));
        if (event === "reset_poll") { $("reset-confirm").checked = false; }
      } else {
        log("bad", (ack && ack.message) || (ack && ack.error) || "?");
      }
    });
  }

  function onSubmit(event) {
    var form = event.target;
    var name = form.getAttribute && form.getAttribute("data-event");
    if (!name || !socket || !socket.connected) { return; } // plain HTTP POST
    event.preventDefault();
    if (name === "reset_poll" && !$("reset-confirm").checked) {
      log("warn", S.confirm_reset);
      $("reset-confirm").focus();
      return;
    }
    send(name, payloadOf(name, form), form);
  }

  /* Keyboard and presenter clicker (they send PageDown / PageUp, and B or "." to blank the
     screen, as presentation software expects). Off while typing in a field, and can be
     switched off (WCAG 2.1.4). Each key presses a visible button: same path, same words. */
  function press(id) {
    var node = $(id);
    var form = node && node.form;
    if (!node || node.disabled || !form || form.hidden) { return false; }
    node.click();
    return true;
  }

  function nextStep() {
    var poll = live && live.poll;
    var item = live && live.item;
    if (poll && poll.state === "open") { return press("btn-close"); }
    if (poll && poll.state === "closed") { return press("btn-publish"); }
    if (item && (!poll || poll.state === "draft")) { return press("btn-open"); }
    return press("btn-next");
  }

  function previousItem() {
    var poll = live && live.poll;
    if (!live || (poll && poll.state === "open")) { return false; }
    var ids = (live.agenda || []).map(function (entry) { return entry.id; });
    var index = live.item ? ids.indexOf(live.item.id) - 1 : -1;
    var target = index >= 0 ? document.querySelector('[data-show="' + ids[index] + '"]') : null;
    if (!target || target.disabled) { return false; }
    target.click();
    return true;
  }

  function onKey(event) {
    if (!$("shortcuts-on").checked || event.altKey || event.ctrlKey || event.metaKey) { return; }
    var target = event.target || {};
    var page = event.key === "PageDown" || event.key === "PageUp";
    // A clicker's page keys work from a small field too (the countdown just typed); never
    // from a text area or a list, where they move; letters only outside any field.
    var field = /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) && target.type !== "checkbox" && target.type !== "radio";
    if (target.isContentEditable || (field && (!page || target.tagName !== "INPUT"))) { return; }
    var done = false;
    if (event.key === "PageDown") { done = nextStep(); }
    else if (event.key === "PageUp") { done = previousItem(); }
    else if (event.key === "b" || event.key === "B" || event.key === ".") { done = press("btn-idle"); }
    else { return; }
    // The key is ours even when nothing could be done (no page scroll under the facilitator).
    event.preventDefault();
    if (!done) { log("warn", S.key_nothing); }
  }

  document.addEventListener("keydown", onKey);
  document.addEventListener("submit", onSubmit);
  $("open-method").addEventListener("change", methodFields);
  methodFields();

  applyState(config.state);
  if (typeof window.io !== "function") { return; }
  socket = window.io({ auth: { role: "facilitator", session_id: config.sessionId } });
  window.LiveShared.shareSocket(socket); // moderation.js (proposals from the floor) uses it
  socket.on("connect", function () { setConnection(true); });
  socket.on("disconnect", function () { setConnection(false); });
  socket.on("connect_error", function (err) {
    setConnection(false);
    if (err && err.data && err.data.message) { log("bad", err.data.message); }
  });
  socket.on("state", applyState);
  socket.on("tally", applyTally);
})();
