/* Proposals from the floor, on the phone page (templates/live/_propose.html).
   A proposal is kept in localStorage until the server acknowledged it, and resent with the
   same client id after a reconnection (the server stores it once). ES5 on purpose: old phones.
   Protocol: docs/protocol.md, section "Proposals". */
(function () {
  "use strict";

  var root = document.getElementById("propose");
  if (!root) { return; }
  var config = JSON.parse(document.getElementById("propose-config").textContent);
  var liveConfig = JSON.parse((document.getElementById("live-config") || {}).textContent || "{}");
  var S = config.strings;
  var ACK_TIMEOUT = 8000;
  var PENDING_KEY = "proposals:" + (liveConfig.sessionId || liveConfig.code || "");
  var AMENDABLE = ["hypothesis", "finding", "recommendation", "action_path", "implementation_condition"];
  var UNDER_FINDING = ["finding", "action_paths", "recommendation", "action_path", "implementation_condition"];

  var $ = function (id) { return document.getElementById(id); };
  var form = $("propose-form");
  var textarea = $("propose-text");
  var item = null;          // the item on screen (from the last state)
  var target = null;        // what the text being written is about, fixed when writing starts
  var mine = {};            // proposal id -> {kind, status, reason, text}
  var order = [];           // proposal ids, oldest first
  var socket = null;

  function fill(text, values) {
    return String(text).replace(/\{(\w+)\}/g, function (all, name) {
      return values[name] === undefined ? all : values[name];
    });
  }

  function load() {
    try { return JSON.parse(window.localStorage.getItem(PENDING_KEY) || "{}") || {}; } catch (e) { return {}; }
  }
  var pending = load();
  function savePending() {
    try { window.localStorage.setItem(PENDING_KEY, JSON.stringify(pending)); } catch (e) { /* memory only */ }
  }

  function uuid() {
    var bytes = new Uint8Array(16);
    var cryptoObj = window.crypto || window.msCrypto;
    var i;
    if (cryptoObj && cryptoObj.getRandomValues) {
      cryptoObj.getRandomValues(bytes);
    } else {
      for (i = 0; i < 16; i += 1) { bytes[i] = Math.floor(Math.random() * 256); }
    }
    var hex = "";
    for (i = 0; i < 16; i += 1) { hex += (bytes[i] + 256).toString(16).slice(1); }
    return hex;
  }

  function contains(list, value) { return list.indexOf(value) !== -1; }

  function kind() {
    var checked = form.querySelector("input[name=propose-kind]:checked");
    return checked ? checked.value : "comment";
  }

  /* ---------- what can be proposed about the item on screen ---------- */

  function targetOf(current) {
    if (!current || current.type === "free" || current.type === "amendment") { return null; }
    return {
      item_type: current.type === "action_paths" ? "finding" : current.type,
      item_id: current.item_id,
      type: current.type,
      title: current.title,
      text: current.type === "action_paths" ? "" : (current.text || "")
    };
  }

  function allowed(value, about) {
    if (value === "comment") { return true; }
    if (!about) { return false; }
    if (value === "amendment") { return contains(AMENDABLE, about.type); }
    return contains(UNDER_FINDING, about.type);
  }

  function renderKinds() {
    var about = target || targetOf(item);
    var inputs = form.querySelectorAll("input[name=propose-kind]");
    var firstAllowed = null;
    var i;
    for (i = 0; i < inputs.length; i += 1) {
      var ok = allowed(inputs[i].value, about);
      inputs[i].disabled = !ok;
      inputs[i].parentNode.hidden = !ok;
      if (ok && !firstAllowed) { firstAllowed = inputs[i]; }
    }
    var current = form.querySelector("input[name=propose-kind]:checked");
    if ((!current || current.disabled) && firstAllowed) { firstAllowed.checked = true; }
    $("propose-about").textContent = about ? fill(S.about, { title: about.title }) :
      (item ? S.commentOnly : S.aboutNothing);
    $("propose-start").hidden = !(about && kind() === "amendment" && about.text);
  }

  function renderCount() {
    $("propose-count").textContent = fill(S.count, { count: textarea.value.length, max: config.maxLength });
  }

  function setStatus(kindOfMessage, message) {
    var box = $("propose-status");
    box.className = "vote-status " + (kindOfMessage || "");
    box.textContent = message || "";
  }

  /* ---------- my proposals ---------- */

  function remember(id, data) {
    if (!mine[id]) { order.push(id); }
    mine[id] = data;
  }

  function renderMine() {
    var list = $("my-proposals");
    while (list.firstChild) { list.removeChild(list.firstChild); }
    var ids = order.slice().reverse();
    var key;
    for (key in pending) {
      if (Object.prototype.hasOwnProperty.call(pending, key)) {
        ids.unshift("pending:" + key);
        mine["pending:" + key] = { kind: pending[key].kind, status: "sending", text: pending[key].text, reason: "" };
      }
    }
    $("my-proposals-empty").hidden = ids.length > 0;
    ids.forEach(function (id) {
      var data = mine[id];
      if (!data) { return; }
      var li = document.createElement("li");
      li.className = "my-proposal status-" + data.status;
      li.setAttribute("data-proposal-id", id);
      var head = document.createElement("p");
      var strong = document.createElement("strong");
      strong.textContent = (S.kinds[data.kind] || data.kind) + " — ";
      head.appendChild(strong);
      var status = document.createElement("span");
      status.className = "proposal-status";
      status.textContent = S.statuses[data.status] || data.status;
      head.appendChild(status);
      li.appendChild(head);
      var text = document.createElement("p");
      text.className = "proposal-text";
      text.textContent = data.text.length > 160 ? data.text.slice(0, 159) + "…" : data.text;
      li.appendChild(text);
      if (data.reason) {
        var reason = document.createElement("p");
        reason.className = "proposal-reason";
        reason.textContent = fill(S.reason, { reason: data.reason });
        li.appendChild(reason);
      }
      list.appendChild(li);
    });
  }

  function refreshMine() {
    if (!socket || !socket.connected) { return; }
    socket.timeout(ACK_TIMEOUT).emit("my_proposals", {}, function (err, ack) {
      if (err || !ack || !ack.ok) { return; }
      ack.proposals.forEach(function (p) {
        remember(p.id, { kind: p.kind, status: p.status, reason: p.reason, text: p.text });
      });
      renderMine();
    });
  }

  /* ---------- sending ---------- */

  function send(clientId) {
    var entry = pending[clientId];
    if (!entry) { return; }
    if (!socket || !socket.connected) { setStatus("warn", S.offline); return; }
    var payload = { kind: entry.kind, text: entry.text, client_id: entry.client_id };
    if (entry.item_type) { payload.item_type = entry.item_type; payload.item_id = entry.item_id; }
    socket.timeout(ACK_TIMEOUT).emit("propose", payload, function (err, ack) {
      if (err) { setStatus("warn", S.offline); return; }  // kept; resent on reconnect
      delete pending[clientId];
      savePending();
      if (ack && ack.ok) {
        remember(ack.proposal_id, { kind: entry.kind, status: ack.status, reason: "", text: entry.text });
        if (entry.fromForm) { setStatus("ok", S.received); }
      } else if (ack) {
        setStatus("bad", ack.message || ack.error);
        if (entry.fromForm && !textarea.value) { textarea.value = entry.text; renderCount(); }
      }
      renderMine();
    });
  }

  function resendAll() {
    var key;
    for (key in pending) {
      if (Object.prototype.hasOwnProperty.call(pending, key)) { send(key); }
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = textarea.value.replace(/^\s+|\s+$/g, "");
    if (!text) { setStatus("bad", S.empty); textarea.focus(); return; }
    if (text.length > config.maxLength) { setStatus("bad", S.tooLong); return; }
    var about = target || targetOf(item);
    var entry = { kind: kind(), text: text, client_id: uuid(), fromForm: true };
    if (about) {
      entry.item_type = about.item_type;
      entry.item_id = about.item_id;
    }
    // Stored before it is sent: a proposal survives a reload or a lost connection.
    pending[entry.client_id] = entry;
    savePending();
    textarea.value = "";
    target = null;
    renderCount();
    renderKinds();
    setStatus("", S.sending);
    renderMine();
    send(entry.client_id);
  });

  textarea.addEventListener("input", function () {
    if (!target && textarea.value) { target = targetOf(item); }
    if (!textarea.value) { target = null; }
    renderCount();
  });

  form.addEventListener("change", function (event) {
    if (event.target.name === "propose-kind") { renderKinds(); }
  });

  $("propose-start").addEventListener("click", function () {
    var about = target || targetOf(item);
    if (!about) { return; }
    target = about;
    textarea.value = about.text;
    renderCount();
    textarea.focus();
  });

  /* ---------- state from the server ---------- */

  function applyState(state) {
    if (!state) { return; }
    item = state.item || null;
    if (!textarea.value) { target = null; }
    renderKinds();
    // A vote on an amendment was published: my proposals may have been adopted or not.
    if (item && item.type === "amendment" && state.poll && state.poll.state === "published") {
      refreshMine();
    }
  }

  function attach(sock) {
    socket = sock;
    socket.on("state", applyState);
    socket.on("connect", function () { resendAll(); refreshMine(); });
    socket.on("proposal_status", function (message) {
      var known = mine[message.proposal_id];
      if (known) {
        known.status = message.status;
        known.reason = message.reason || "";
        renderMine();
      } else {
        refreshMine();
      }
    });
    if (socket.connected) { resendAll(); refreshMine(); }
  }

  function ownSocket() {
    if (typeof window.io !== "function") { return null; }
    var token = liveConfig.token || window.LiveShared.loadToken(liveConfig.code);
    return window.io({ auth: { role: "phone", token: token } });
  }

  applyState(liveConfig.state);
  renderCount();
  renderMine();
  window.LiveShared.withSocket(attach, ownSocket);
})();
