/* The phone page: current item, its ballot, and a vote that is "recorded" only once the
   server acknowledged it (docs/protocol.md §4). ES5 on purpose: old phones. */
(function () {
  "use strict";

  var R = window.LiveResults;
  var config = JSON.parse(document.getElementById("live-config").textContent);
  var S = config.strings;
  var PENDING_KEY = "pending:" + config.sessionId;
  // The refusals after which a ballot is kept and sent again (the server's catalogue).
  var RETRY_CODES = config.retryCodes || [];
  function mayRetry(code) { return RETRY_CODES.indexOf(code) !== -1; }
  var ACK_TIMEOUT = 5000;
  var BUSY_RETRY = 2000;
  var HTTP_RETRY = 5000;          // no socket, and the HTTP fallback failed: try again

  var $ = function (id) { return document.getElementById(id); };
  var live = null;            // the last full state from the server
  var offset = 0;             // server clock minus device clock, in ms
  var renderedKey = null;     // which item/poll/state the form was built for
  var lastChoice = {};        // poll id -> choice acknowledged during this page's life
  var acked = {};             // poll id -> ballot id acknowledged
  var inFlight = {};          // poll id -> ballot id awaiting an ack
  var dotState = {};          // poll id -> {option key: dots}
  var tapped = {};            // poll id -> ballot id the voter sent from this page (focus)
  var socket = null;

  /* ---------- storage (may be unavailable: private mode, full quota) ---------- */

  function load(key, fallback) {
    try {
      var raw = window.localStorage.getItem(key);
      return raw ? JSON.parse(raw) : fallback;
    } catch (e) { return fallback; }
  }

  function save(key, value) {
    try { window.localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* memory only */ }
  }

  function forget(key) {
    try { window.localStorage.removeItem(key); } catch (e) { /* nothing to do */ }
  }

  var memoryPending = load(PENDING_KEY, {}) || {};
  function pending() { return memoryPending; }
  function setPending(pollId, ballot) {
    if (ballot) { memoryPending[pollId] = ballot; } else { delete memoryPending[pollId]; }
    save(PENDING_KEY, memoryPending);
  }

  function token() {
    return config.token || window.LiveShared.loadToken(config.code);
  }

  if (config.token) { window.LiveShared.saveToken(config.code, config.token); }
  // The join form answers with this page (one round trip less than a redirect): give it
  // its own address, so that a reload or a bookmark opens the ballot, not the join form.
  if (config.phoneUrl && window.location.pathname !== config.phoneUrl && window.history.replaceState) {
    window.history.replaceState(null, "", config.phoneUrl);
  }

  function uuid() {
    var bytes = new Uint8Array(16);
    var cryptoObj = window.crypto || window.msCrypto;
    if (cryptoObj && cryptoObj.getRandomValues) {
      cryptoObj.getRandomValues(bytes);
    } else {
      for (var i = 0; i < 16; i++) { bytes[i] = Math.floor(Math.random() * 256); }
    }
    bytes[6] = (bytes[6] & 15) | 64;
    bytes[8] = (bytes[8] & 63) | 128;
    var hex = "";
    for (var j = 0; j < 16; j++) {
      hex += (bytes[j] + 256).toString(16).slice(1);
      if (j === 3 || j === 5 || j === 7 || j === 9) { hex += "-"; }
    }
    return hex;
  }

  /* ---------- connection status ---------- */

  function setConnection(name, text) {
    var node = $("connection");
    node.hidden = false;  // hidden in the page until this script keeps it true
    node.setAttribute("data-state", name);
    node.textContent = text || S[name] || name;
    document.body.setAttribute("data-connection", name);
  }

  function setVoteStatus(kind, text) {
    var node = $("vote-status");
    node.className = "vote-status" + (kind ? " notice " + kind : "");
    node.textContent = text || "";
    node.setAttribute("data-kind", kind || "");
  }

  /* ---------- rendering ---------- */

  function currentPoll() { return live && live.poll; }

  function stateKey(s) {
    var poll = s.poll;
    return [s.item ? s.item.id : "-", poll ? poll.id : "-", poll ? poll.state : "-", poll ? poll.round : "-"].join("/");
  }

  function renderItem(item) {
    var kinds = (config.results && config.results.items) || {};
    $("item-kind").textContent = item ? (kinds[item.type] || "") : "";
    $("item-title").textContent = item ? item.title : S.waiting;
    var context = $("item-context");
    context.hidden = !(item && item.context);
    context.textContent = item && item.context ? item.context : "";
    // text_html is sanitised on the server (services.text.render_markdown).
    $("item-text").innerHTML = item ? (item.text_html || "") : "";
    // The plain-language summary: only drawn in the easy-to-read mode (docs/phones.md).
    var summary = $("item-summary");
    if (summary) {
      summary.hidden = !(item && item.summary);
      $("item-summary-text").textContent = item && item.summary ? item.summary : "";
    }
  }

  /* A copy of a pictogram of the page's <template id="pictograms"> (easy-to-read mode only;
     elsewhere there is none, and nothing is drawn). */
  function pictogram(name) {
    var holder = config.easy && name ? $("pictograms") : null;
    var found = holder && holder.content ? holder.content.querySelector("[data-picto=" + name + "]") : null;
    return found ? found.cloneNode(true) : null;
  }

  function choiceLabel(input, text, swatchKey, pictoName) {
    var label = document.createElement("label");
    label.className = "choice";
    label.appendChild(input);
    if (swatchKey) {
      var swatch = document.createElement("span");
      swatch.className = "swatch bar-fill k-" + swatchKey;
      swatch.setAttribute("aria-hidden", "true");
      label.appendChild(swatch);
    }
    var picture = pictogram(pictoName);
    if (picture) { label.appendChild(picture); }
    var words = document.createElement("span");
    words.className = "choice-text";
    words.textContent = text;
    label.appendChild(words);
    return label;
  }

  function radio(name, value, checked) {
    var input = document.createElement("input");
    input.type = "radio";
    input.name = name;
    input.value = value;
    input.checked = !!checked;
    return input;
  }

  function markChecked(form) {
    var labels = form.querySelectorAll(".choice");
    for (var i = 0; i < labels.length; i++) {
      var input = labels[i].querySelector("input");
      labels[i].classList.toggle("is-checked", !!(input && input.checked));
    }
  }

  function buildSingleChoice(poll, previous) {
    var fieldset = document.createElement("fieldset");
    var legend = document.createElement("legend");
    legend.textContent = poll.legend || "";
    fieldset.appendChild(legend);
    var list = document.createElement("div");
    list.className = "choices";
    (poll.answers || []).forEach(function (answer) {
      var input = radio("answer", answer.key, previous && previous.answer === answer.key);
      list.appendChild(choiceLabel(input, answer.label, answer.key, answer.picto));
    });
    fieldset.appendChild(list);
    return fieldset;
  }

  function buildJudgment(poll, previous) {
    var wrap = document.createElement("fieldset");
    var legend = document.createElement("legend");
    legend.textContent = poll.legend || "";
    wrap.appendChild(legend);
    (poll.options || []).forEach(function (option, index) {
      var fieldset = document.createElement("fieldset");
      fieldset.className = "mj-option";
      var inner = document.createElement("legend");
      inner.textContent = option.label;
      fieldset.appendChild(inner);
      var grades = document.createElement("div");
      grades.className = "grades";
      (poll.grades || []).forEach(function (grade) {
        var chosen = previous && previous.grades && previous.grades[option.key] === grade.key;
        var input = radio("grade-" + index, grade.key, chosen);
        input.setAttribute("data-option", option.key);
        grades.appendChild(choiceLabel(input, grade.label));
      });
      fieldset.appendChild(grades);
      wrap.appendChild(fieldset);
    });
    return wrap;
  }

  function dotsUsed(pollId) {
    var used = 0, counts = dotState[pollId] || {};
    Object.keys(counts).forEach(function (k) { used += counts[k]; });
    return used;
  }

  function updateDots(poll) {
    var counts = dotState[poll.id];
    var left = poll.dots - dotsUsed(poll.id);
    $("dots-left").textContent = R.fill(S.dots_left, { n: left, total: poll.dots });
    (poll.options || []).forEach(function (option, index) {
      var n = counts[option.key] || 0;
      var out = $("dot-count-" + index);
      out.textContent = String(n);
      out.setAttribute("aria-label", R.fill(S.dots_for, { n: n, label: option.label }));
      $("dot-minus-" + index).disabled = n <= 0;
      $("dot-plus-" + index).disabled = left <= 0;
    });
  }

  function buildDots(poll, previous) {
    var counts = {};
    (poll.options || []).forEach(function (option) {
      counts[option.key] = previous && previous.dots && previous.dots[option.key] ? previous.dots[option.key] : 0;
    });
    dotState[poll.id] = counts;
    var fieldset = document.createElement("fieldset");
    var legend = document.createElement("legend");
    legend.textContent = poll.legend || "";
    fieldset.appendChild(legend);
    var left = document.createElement("p");
    left.className = "dots-left";
    left.id = "dots-left";
    left.setAttribute("aria-live", "polite");
    fieldset.appendChild(left);
    (poll.options || []).forEach(function (option, index) {
      var row = document.createElement("div");
      row.className = "dot-row";
      var label = document.createElement("span");
      label.className = "dot-label";
      label.id = "dot-label-" + index;
      label.textContent = option.label;
      row.appendChild(label);
      var controls = document.createElement("div");
      controls.className = "dot-controls";
      var minus = document.createElement("button");
      minus.type = "button";
      minus.id = "dot-minus-" + index;
      minus.textContent = "−";
      minus.setAttribute("aria-label", R.fill(S.remove_dot, { label: option.label }));
      var out = document.createElement("output");
      out.className = "dot-count";
      out.id = "dot-count-" + index;
      var plus = document.createElement("button");
      plus.type = "button";
      plus.id = "dot-plus-" + index;
      plus.textContent = "+";
      plus.setAttribute("aria-label", R.fill(S.add_dot, { label: option.label }));
      minus.addEventListener("click", function () {
        if (counts[option.key] > 0) { counts[option.key] -= 1; updateDots(poll); }
      });
      plus.addEventListener("click", function () {
        if (dotsUsed(poll.id) < poll.dots) { counts[option.key] += 1; updateDots(poll); }
      });
      controls.appendChild(minus);
      controls.appendChild(out);
      controls.appendChild(plus);
      row.appendChild(controls);
      fieldset.appendChild(row);
    });
    return fieldset;
  }

  /* What the voter picked on the form the server drew, before this (deferred) script ran:
     kept when the form is drawn again, for the forms whose fields have the same names. */
  var serverDrawn = true;
  function drawnChoice(poll) {
    if (!serverDrawn || !poll || poll.state !== "open" || !formOf(poll).sameFields) { return null; }
    var choice = formOf(poll).read(poll);
    return choice.error ? null : choice;
  }

  function renderBallot(poll) {
    var form = $("ballot");
    var fields = $("ballot-fields");
    var drawn = drawnChoice(poll);
    serverDrawn = false;
    fields.textContent = "";
    var item = live && live.item;
    var withOptions = !!poll && poll.state === "open" && !!item && item.type === "action_paths" &&
      (poll.options || []).length > 0;
    document.body.setAttribute("data-options-poll", withOptions ? "yes" : "no");
    if (!poll || poll.state !== "open") {
      form.hidden = true;
      return;
    }
    var previous = lastChoice[poll.id] || (pending()[poll.id] && pending()[poll.id].choice) || drawn;
    var ballotForm = formOf(poll);
    fields.appendChild(ballotForm.build(poll, previous));
    form.hidden = false;
    if (ballotForm.shown) { ballotForm.shown(poll); }
    markChecked(form);
  }

  /* Secret or named, said before the ballot (docs/security.md). */
  function renderPrivacy(poll) {
    var node = $("poll-privacy");
    node.hidden = !poll;
    var named = !!poll && poll.secret === false;
    node.textContent = poll ? (named ? S.named_vote : S.secret_vote) : "";
    node.setAttribute("data-kind", poll ? (named ? "named" : "secret") : "");
  }

  function pollStateText(s) {
    if (!s.item) { return ""; }
    if (!s.poll) { return S.no_poll; }
    return S[s.poll.state] || "";
  }

  function refreshVoteStatus() {
    var poll = currentPoll();
    if (!poll) { setVoteStatus("", ""); return; }
    var waiting = pending()[poll.id];
    if (waiting && waiting.round === poll.round) {
      setVoteStatus("warn", inFlight[poll.id] ? S.sending : S.pending);
    } else if (poll.state === "open") {
      if (acked[poll.id] || live.voted) { setVoteStatus("ok", S.recorded_change); }
      else { setVoteStatus("", ""); }
    } else if (poll.state === "closed" || poll.state === "published") {
      setVoteStatus(live.voted ? "ok" : "", live.voted ? S.counted : S.not_voted);
    } else {
      setVoteStatus("", "");
    }
    $("send").textContent = (acked[poll.id] || live.voted) ? S.change : S.send;
    $("send").disabled = !!inFlight[poll.id];
  }

  function renderResults(s) {
    var section = $("phone-results");
    var shown = !!(s.results && s.poll && s.poll.state === "published");
    section.hidden = !shown;
    if (shown) { R.render($("phone-results-body"), s.results, s.poll, config.results, { groups: true }); }
  }

  var tickCountdown = R.countdown("countdown", function () {
    return { poll: currentPoll(), offset: offset };
  }, function (node, left) {
    node.textContent = left > 0 ? R.fill(S.countdown, { t: R.formatSeconds(left) }) : S.time_up;
  });

  function applyRendering(s) {
    var key = stateKey(s);
    if (key !== renderedKey) {
      renderedKey = key;
      renderItem(s.item);
      renderPrivacy(s.poll);
      renderBallot(s.poll);
      $("poll-state").textContent = pollStateText(s);
    }
  }

  function applyState(s) {
    // The state sent to the whole room has `voted: null`: keep what this phone knew for
    // the same poll and round (docs/protocol.md §2).
    if (s.voted == null && live && live.poll && s.poll && live.poll.id === s.poll.id &&
        live.poll.round === s.poll.round) { s.voted = live.voted; }
    live = s;
    offset = R.clockOffset(s.server_time);
    applyRendering(s);
    // A ballot of an earlier round can never count: forget it (the server would refuse it
    // with stale_round) and ask the voter again.
    var poll = s.poll;
    var stale = !!(poll && pending()[poll.id] && pending()[poll.id].round !== poll.round);
    if (stale) { forgetRound(poll.id); }
    renderResults(s);
    refreshVoteStatus();
    if (stale) { setVoteStatus("bad", S.vote_again); }
    tickCountdown();
    document.body.setAttribute("data-poll-state", poll ? poll.state : "none");
    document.body.setAttribute("data-voted", s.voted ? "yes" : "no");
  }

  /* ---------- voting ---------- */

  function readSingleChoice(poll) {
    var picked = $("ballot").querySelector("input[name=answer]:checked");
    return picked ? { answer: picked.value } : { error: S.choose_first };
  }

  function readJudgment(poll) {
    var form = $("ballot");
    var grades = {}, missing = 0;
    (poll.options || []).forEach(function (option, index) {
      var chosen = form.querySelector("input[name=grade-" + index + "]:checked");
      if (chosen) { grades[option.key] = chosen.value; } else { missing += 1; }
    });
    return missing ? { error: R.fill(S.grade_all, { missing: missing }) } : { grades: grades };
  }

  function readDots(poll) {
    var dots = {}, counts = dotState[poll.id] || {}, total = 0;
    Object.keys(counts).forEach(function (k) { if (counts[k] > 0) { dots[k] = counts[k]; total += counts[k]; } });
    return total ? { dots: dots } : { error: S.dots_none };
  }

  /* ---------- ranking: order the options (drag, or the arrow buttons) ---------- */

  var rankState = {};  // poll id -> option keys in the voter's order

  function rankLabels(poll) {
    var labels = {};
    (poll.options || []).forEach(function (option) { labels[option.key] = option.label; });
    return labels;
  }

  function announceRank(poll, key) {
    var order = rankState[poll.id];
    $("rank-live").textContent = R.fill(S.moved, {
      label: rankLabels(poll)[key], n: order.indexOf(key) + 1, total: order.length
    });
  }

  /* Put `key` at `index` and redraw; focus stays on the control that moved it. */
  function moveRank(poll, key, index, focusId) {
    var order = rankState[poll.id];
    var from = order.indexOf(key);
    if (from < 0 || index < 0 || index >= order.length || index === from) { return false; }
    order.splice(from, 1);
    order.splice(index, 0, key);
    drawRanking(poll);
    announceRank(poll, key);
    if (focusId && $(focusId)) { $(focusId).focus(); }
    return true;
  }

  function drawRanking(poll) {
    var list = $("rank-list");
    var labels = rankLabels(poll);
    var order = rankState[poll.id];
    var rows = {};
    Array.prototype.forEach.call(list.children, function (row) { rows[row.getAttribute("data-key")] = row; });
    order.forEach(function (key, index) {
      var row = rows[key];
      list.appendChild(row);  // moves the row: the list follows the order
      row.querySelector(".rank-position").textContent = String(index + 1);
      row.querySelector(".rank-position").setAttribute("aria-label", R.fill(S.position, { n: index + 1 }));
      var up = row.querySelector(".rank-up"), down = row.querySelector(".rank-down");
      // aria-disabled rather than disabled: a button that keeps focus at either end.
      up.setAttribute("aria-disabled", index === 0 ? "true" : "false");
      down.setAttribute("aria-disabled", index === order.length - 1 ? "true" : "false");
      up.setAttribute("aria-label", R.fill(S.move_up, { label: labels[key] }));
      down.setAttribute("aria-label", R.fill(S.move_down, { label: labels[key] }));
    });
  }

  /* Dragging by the handle, with a pointer (finger or mouse): the row under the pointer
     gives the new place. Keyboards use the buttons. */
  function dragRow(poll, row, handle) {
    handle.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      var key = row.getAttribute("data-key");
      row.classList.add("is-dragging");
      if (handle.setPointerCapture) { handle.setPointerCapture(event.pointerId); }
      function over(move) {
        var target = document.elementFromPoint(move.clientX, move.clientY);
        var targetRow = target && target.closest ? target.closest(".rank-row") : null;
        if (targetRow && targetRow !== row) {
          moveRank(poll, key, rankState[poll.id].indexOf(targetRow.getAttribute("data-key")));
        }
      }
      function done() {
        row.classList.remove("is-dragging");
        handle.removeEventListener("pointermove", over);
        handle.removeEventListener("pointerup", done);
        handle.removeEventListener("pointercancel", done);
      }
      handle.addEventListener("pointermove", over);
      handle.addEventListener("pointerup", done);
      handle.addEventListener("pointercancel", done);
    });
  }

  function buildRanking(poll, previous) {
    var keys = (poll.options || []).map(function (option) { return option.key; });
    var kept = previous && Array.isArray(previous.ranking) && previous.ranking.length === keys.length &&
      previous.ranking.every(function (key) { return keys.indexOf(key) >= 0; });
    rankState[poll.id] = kept ? previous.ranking.slice() : keys;
    var fieldset = document.createElement("fieldset");
    var legend = document.createElement("legend");
    legend.textContent = poll.legend || "";
    fieldset.appendChild(legend);
    var hint = document.createElement("p");
    hint.className = "rank-hint";
    hint.id = "rank-hint";
    hint.textContent = S.order_hint;
    fieldset.appendChild(hint);
    var list = document.createElement("ol");
    list.className = "rank-list";
    list.id = "rank-list";
    list.setAttribute("aria-describedby", "rank-hint");
    (poll.options || []).forEach(function (option, index) {
      var row = document.createElement("li");
      row.className = "rank-row";
      row.setAttribute("data-key", option.key);
      var handle = document.createElement("span");
      handle.className = "rank-handle";
      handle.setAttribute("aria-hidden", "true");
      handle.textContent = "⠿";
      var position = document.createElement("span");
      position.className = "rank-position";
      var label = document.createElement("span");
      label.className = "rank-label";
      label.textContent = option.label;
      var up = document.createElement("button");
      up.type = "button";
      up.className = "rank-up";
      up.id = "rank-up-" + index;
      up.textContent = "↑";
      var down = document.createElement("button");
      down.type = "button";
      down.className = "rank-down";
      down.id = "rank-down-" + index;
      down.textContent = "↓";
      up.addEventListener("click", function () {
        moveRank(poll, option.key, rankState[poll.id].indexOf(option.key) - 1, up.id);
      });
      down.addEventListener("click", function () {
        moveRank(poll, option.key, rankState[poll.id].indexOf(option.key) + 1, down.id);
      });
      var controls = document.createElement("span");
      controls.className = "rank-controls";
      controls.appendChild(up);
      controls.appendChild(down);
      row.appendChild(handle);
      row.appendChild(position);
      row.appendChild(label);
      row.appendChild(controls);
      dragRow(poll, row, handle);
      list.appendChild(row);
    });
    fieldset.appendChild(list);
    var live = document.createElement("p");
    live.className = "visually-hidden";
    live.id = "rank-live";
    live.setAttribute("aria-live", "polite");
    fieldset.appendChild(live);
    return fieldset;
  }

  function readRanking(poll) {
    return { ranking: (rankState[poll.id] || []).slice() };
  }

  /* The ballot forms, by the `form` the server names for the poll's method
     (deliberation.methods): build the fields, read the choice, and (optionally) refresh
     once shown. `sameFields`: the server's plain form (templates/live/_ballot_<form>.html)
     has the same fields, so a choice made before this script ran can be read and kept. A
     method with a new kind of ballot adds its form here. */
  var FORMS = {
    single: { build: buildSingleChoice, read: readSingleChoice, sameFields: true },
    grades: { build: buildJudgment, read: readJudgment, sameFields: true },
    dots: { build: buildDots, read: readDots, shown: updateDots },
    order: { build: buildRanking, read: readRanking, shown: drawRanking }
  };

  function formOf(poll) {
    return FORMS[poll.form] || FORMS.single;
  }

  function readChoice(poll) {
    return formOf(poll).read(poll);
  }

  function forgetRound(pollId) {
    setPending(pollId, null);
    delete acked[pollId];
    delete lastChoice[pollId];
    // The form is built again without the old choice: the voter chooses anew.
    renderedKey = null;
    if (live) { applyRendering(live); }
  }

  function retryLater(pollId, delay) {
    setTimeout(function () { sendBallot(pollId); }, delay);
  }

  function handleAck(pollId, ballot, ack) {
    if (inFlight[pollId] === ballot.ballot_id) { delete inFlight[pollId]; }
    var current = pending()[pollId];
    var same = current && current.ballot_id === ballot.ballot_id;
    if (ack && ack.ok) {
      if (same) { setPending(pollId, null); }
      acked[pollId] = ballot.ballot_id;
      lastChoice[pollId] = ballot.choice;
      if (live && live.poll && String(live.poll.id) === String(pollId)) { live.voted = true; }
      refreshVoteStatus();
      if (live && live.poll && String(live.poll.id) === String(pollId)) {
        setVoteStatus("ok", live.poll.state === "open" ? S.recorded_change : S.counted);
      }
      // The voter's own tap: the focus goes to the confirmation (not to the page body, and
      // never for a ballot resent in the background while they do something else).
      if (tapped[pollId] === ballot.ballot_id) {
        delete tapped[pollId];
        $("vote-status").focus();
      }
      return;
    }
    var code = ack && ack.error;
    if (mayRetry(code)) {
      // Nothing was written: keep the ballot (same id) and send it again shortly (after
      // the wait the server asked for, when it said how long).
      var wait = code === "server_busy" ? BUSY_RETRY : 2 * BUSY_RETRY;
      if (code === "rate_limited" && ack.retry_after) { wait = Math.max(1000, ack.retry_after * 1000); }
      retryLater(pollId, wait);
      refreshVoteStatus();
      return;
    }
    if (code === "invalid_token") { rejoin(); return; }
    if (code === "stale_round") {
      // The vote was started again since this ballot was made: ask again.
      if (same) { forgetRound(pollId); }
      refreshVoteStatus();
      setVoteStatus("bad", S.vote_again);
      return;
    }
    if (same) { setPending(pollId, null); }
    refreshVoteStatus();
    setVoteStatus("bad", (ack && ack.message) || code || "");
  }

  function sendOverHttp(pollId, ballot) {
    if (!window.fetch) { return; }
    inFlight[pollId] = ballot.ballot_id;
    refreshVoteStatus();
    var body = { token: token(), poll_id: Number(pollId), ballot_id: ballot.ballot_id, choice: ballot.choice, round: ballot.round };
    window.fetch(config.ballotUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify(body)
    }).then(function (response) {
      // A server error (5xx: database down, a proxy's error page…) is never a refusal of
      // this ballot: keep it. Only the server's own refusals (4xx with a code) drop it.
      if (response.status >= 500) { throw new Error("server " + response.status); }
      return response.json();
    }).then(function (ack) {
      if (!ack || typeof ack.ok !== "boolean") { throw new Error("not an acknowledgement"); }
      handleAck(pollId, ballot, ack);
    }).catch(function () {
      // No network, or no answer that says what became of the ballot: keep it and try
      // again (over the socket if it is back by then).
      if (inFlight[pollId] === ballot.ballot_id) { delete inFlight[pollId]; }
      refreshVoteStatus();
      retryLater(pollId, HTTP_RETRY);
    });
  }

  function sendBallot(pollId) {
    var ballot = pending()[pollId];
    if (!ballot) { return; }
    if (!socket || !socket.connected) {
      sendOverHttp(pollId, ballot);
      return;
    }
    inFlight[pollId] = ballot.ballot_id;
    refreshVoteStatus();
    var payload = { poll_id: Number(pollId), ballot_id: ballot.ballot_id, choice: ballot.choice, round: ballot.round };
    socket.timeout(ACK_TIMEOUT).emit("vote", payload, function (err, ack) {
      if (err) {
        // No ack in time: keep it; it is resent (same id) on the next connect.
        if (inFlight[pollId] === ballot.ballot_id) { delete inFlight[pollId]; }
        refreshVoteStatus();
        if (socket.connected) { setTimeout(function () { sendBallot(pollId); }, BUSY_RETRY); }
        return;
      }
      handleAck(pollId, ballot, ack);
    });
  }

  function resendAll() {
    Object.keys(pending()).forEach(function (pollId) { sendBallot(pollId); });
  }

  function rejoin() {
    window.LiveShared.forgetToken(config.code);
    forget(PENDING_KEY);
    setConnection("offline", S.rejoin);
    setVoteStatus("bad", S.rejoin);
    setTimeout(function () { window.location.href = config.joinUrl; }, 2500);
  }

  $("ballot").addEventListener("change", function () { markChecked($("ballot")); });

  $("ballot").addEventListener("submit", function (event) {
    event.preventDefault();
    var poll = currentPoll();
    if (!poll || poll.state !== "open" || inFlight[poll.id]) { return; }
    var choice = readChoice(poll);
    if (choice.error) { setVoteStatus("bad", choice.error); $("vote-status").focus(); return; }
    // Stored before it is sent: a ballot survives a reload or a lost connection.
    var ballotId = uuid();
    tapped[poll.id] = ballotId;
    setPending(poll.id, { ballot_id: ballotId, choice: choice, round: poll.round });
    delete acked[poll.id];
    sendBallot(poll.id);
  });

  /* ---------- connection ---------- */

  applyState(config.state);
  if (typeof window.io !== "function") {
    setConnection("offline");
    return;
  }
  /* The socket cannot get through (yet) and Socket.IO dials again. With a network, a vote
     goes over HTTP meanwhile: say so ("connecting…, your vote is sent all the same"), not
     "lost, sent when it comes back"; without one (the device says it is offline), that. */
  function dialling() {
    setConnection(window.navigator.onLine === false ? "offline" : "connecting");
  }

  /* WebSocket first: one request per (re)connection instead of the four or five of
     long-polling and its upgrade, which is what a hall reconnecting at once costs the server
     (docs/benchmarks.md, "the connect path"). A network that blocks WebSockets (some proxies)
     falls back to long-polling on the same dial (tryAllTransports, socket.io-client 4.8). */
  socket = window.io({
    auth: { role: "phone", token: token() },
    transports: ["websocket", "polling"],
    tryAllTransports: true
  });
  window.LiveShared.shareSocket(socket); // propose.js (proposals from the floor) uses it
  setConnection("connecting");
  socket.on("connect", function () {
    setConnection("online");
    resendAll();
  });
  socket.on("disconnect", function (reason) {
    setConnection("offline");
    // Socket.IO does not reconnect after the server closed the connection itself (it does
    // so only for a client ignoring rate limits): come back after a pause.
    if (reason === "io server disconnect") {
      setTimeout(function () { if (!socket.connected) { socket.connect(); } },
        5000 + Math.random() * 5000);
    }
  });
  socket.io.on("reconnect_attempt", dialling);
  socket.on("connect_error", function (err) {
    var data = err && err.data;
    if (data && data.error === "invalid_token") { rejoin(); return; }
    if (data && mayRetry(data.error)) {
      // The server asks to come back later (a hall connecting at once, a phone reconnecting
      // too fast, too many sockets from this network). Socket.IO does not retry a refused
      // connection by itself: dial again after the wait it gave, else a random 1-3 s (for
      // too_many_connections, half a minute or more: it will not be over sooner).
      var wait = 1000 + Math.random() * 2000;
      if (data.retry_after) { wait = data.retry_after * 1000 + Math.random() * 1000; }
      if (data.error === "too_many_connections") { wait = 30000 + Math.random() * 30000; }
      setConnection("connecting", data.message);
      setTimeout(function () { if (!socket.connected) { socket.connect(); } }, wait);
      return;
    }
    if (data && data.error) {
      setConnection("offline", R.fill(S.refused, { message: data.message || data.error }));
      return;
    }
    dialling();
  });
  socket.on("state", applyState);
  window.addEventListener("online", function () { if (!socket.connected) { socket.connect(); } });
})();
