/* The moderation queue of the facilitator console (templates/live/_moderation.html).
   Every action is a `moderate` event with an acknowledgement; the queue is re-rendered from
   the server's list after each change (docs/protocol.md, "Proposals"). */
(function () {
  "use strict";

  var root = document.getElementById("moderation");
  if (!root) { return; }
  var config = JSON.parse(document.getElementById("moderation-config").textContent);
  var S = config.strings;
  var ACK_TIMEOUT = 8000;
  var $ = function (id) { return document.getElementById(id); };
  var proposals = [];
  var socket = null;
  var busy = false;

  function fill(text, values) {
    return String(text).replace(/\{(\w+)\}/g, function (all, name) {
      return values[name] === undefined ? all : values[name];
    });
  }

  function filter() {
    var checked = root.querySelector("input[name=moderation-filter]:checked");
    return checked ? checked.value : "pending";
  }

  function setStatus(kind, message) {
    var box = $("moderation-status");
    box.className = "moderation-status " + (kind || "");
    box.textContent = message || "";
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function button(label, className, onClick) {
    var node = el("button", className, label);
    node.type = "button";
    node.addEventListener("click", onClick);
    return node;
  }

  function moderate(payload) {
    if (!socket || !socket.connected) { setStatus("bad", S.offline); return; }
    if (busy) { return; }
    busy = true;
    setStatus("", "");
    socket.timeout(ACK_TIMEOUT).emit("moderate", payload, function (err, ack) {
      busy = false;
      if (err) { setStatus("bad", S.offline); return; }
      if (!ack.ok) { setStatus("bad", ack.message || ack.error); return; }
      setStatus("ok", payload.action === "accept" ? S.onAgenda : S.done);
      render(ack.proposals);
    });
  }

  function mergeCandidates(proposal) {
    return proposals.filter(function (other) {
      return other.id !== proposal.id && other.kind === proposal.kind &&
        other.item_type === proposal.item_type && other.item_id === proposal.item_id &&
        (other.status === "pending" || other.status === "accepted");
    });
  }

  function sendBackForm(card, proposal) {
    var form = el("form", "moderation-reason");
    var id = "reason-" + proposal.id;
    var label = el("label", "", S.reasonLabel);
    label.htmlFor = id;
    var input = el("input");
    input.id = id;
    input.type = "text";
    input.maxLength = 500;
    input.required = true;
    form.appendChild(label);
    form.appendChild(input);
    var confirm = el("button", "primary", S.confirmSendBack);
    confirm.type = "submit";
    form.appendChild(confirm);
    form.appendChild(button(S.cancel, "", function () { card.removeChild(form); }));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!input.value.replace(/\s+/g, "")) { setStatus("bad", S.reasonRequired); input.focus(); return; }
      moderate({ proposal_id: proposal.id, action: "send_back", reason: input.value });
    });
    card.appendChild(form);
    input.focus();
  }

  function mergeForm(card, proposal) {
    var candidates = mergeCandidates(proposal);
    if (!candidates.length) { setStatus("warn", S.mergeNone); return; }
    var form = el("form", "moderation-merge");
    var select = el("select");
    select.setAttribute("aria-label", S.mergeInto);
    candidates.forEach(function (other) {
      var option = el("option", "", "#" + other.id + " — " + other.text.slice(0, 80));
      option.value = other.id;
      select.appendChild(option);
    });
    form.appendChild(select);
    var confirm = el("button", "primary", S.merge);
    confirm.type = "submit";
    form.appendChild(confirm);
    form.appendChild(button(S.cancel, "", function () { card.removeChild(form); }));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      moderate({ proposal_id: proposal.id, action: "merge", into: parseInt(select.value, 10) });
    });
    card.appendChild(form);
    select.focus();
  }

  function card(proposal) {
    var li = el("li", "moderation-card status-" + proposal.status);
    li.setAttribute("data-proposal-id", proposal.id);
    if (proposal.agenda_item_id) { li.setAttribute("data-agenda-item-id", proposal.agenda_item_id); }
    var head = el("p", "moderation-head");
    head.appendChild(el("strong", "", "#" + proposal.id + " " + proposal.kind_label));
    if (proposal.item_label) { head.appendChild(el("span", "", " " + fill(S.about, { item: proposal.item_label }))); }
    head.appendChild(el("span", "", " · " + fill(S.by, { author: proposal.author })));
    if (proposal.supporters > 1) {
      head.appendChild(el("span", "supporters", " · " + fill(S.supporters, { n: proposal.supporters })));
    }
    head.appendChild(el("span", "moderation-state", " · " + (S.statuses[proposal.status] || proposal.status)));
    li.appendChild(head);
    var body = el("div", "moderation-text");
    // diff_html is escaped by services.textdiff and text_html sanitised by services.text.
    body.innerHTML = proposal.kind === "comment" ? proposal.text_html : (proposal.diff_html || proposal.text_html);
    li.appendChild(body);
    if (proposal.reason) { li.appendChild(el("p", "moderation-reason-text", proposal.reason)); }
    if (proposal.merged_into_id) { li.appendChild(el("p", "waiting", fill(S.mergedInto, { id: proposal.merged_into_id }))); }
    if (proposal.status === "pending") {
      var actions = el("div", "moderation-actions");
      if (proposal.kind !== "comment") {
        actions.appendChild(button(S.accept, "primary", function () {
          moderate({ proposal_id: proposal.id, action: "accept" });
        }));
      }
      actions.appendChild(button(S.keep, "", function () {
        moderate({ proposal_id: proposal.id, action: "keep_as_comment" });
      }));
      actions.appendChild(button(S.mergeInto, "", function () { mergeForm(li, proposal); }));
      actions.appendChild(button(S.sendBack, "", function () { sendBackForm(li, proposal); }));
      li.appendChild(actions);
    }
    return li;
  }

  function render(list) {
    if (list) { proposals = list; }
    var shown = filter() === "all" ? proposals : proposals.filter(function (p) { return p.status === "pending"; });
    var waiting = proposals.filter(function (p) { return p.status === "pending"; }).length;
    var target = $("moderation-list");
    // Do not pull a half-typed reason from under the facilitator's fingers.
    if (target.querySelector("form") && list && document.activeElement && target.contains(document.activeElement)) {
      $("moderation-count").textContent = fill(S.count, { n: waiting });
      return;
    }
    while (target.firstChild) { target.removeChild(target.firstChild); }
    shown.forEach(function (proposal) { target.appendChild(card(proposal)); });
    $("moderation-empty").hidden = shown.length > 0;
    $("moderation-count").textContent = fill(S.count, { n: waiting });
  }

  function refresh() {
    if (!socket || !socket.connected) { return; }
    socket.timeout(ACK_TIMEOUT).emit("list_proposals", {}, function (err, ack) {
      if (!err && ack && ack.ok) { render(ack.proposals); }
    });
  }

  root.addEventListener("change", function (event) {
    if (event.target.name === "moderation-filter") { render(); }
  });

  function attach(sock) {
    socket = sock;
    socket.on("connect", refresh);
    socket.on("proposals", function (message) { render(message.proposals); });
    socket.on("state", function (state) {
      // After a vote on an amendment is published, its proposal was adopted or not.
      if (state && state.item && state.item.type === "amendment" && state.poll &&
          state.poll.state === "published") { refresh(); }
    });
    if (socket.connected) { refresh(); }
  }

  function ownSocket() {
    var sessionId = parseInt(root.getAttribute("data-session-id"), 10);
    if (typeof window.io !== "function" || !sessionId) { return null; }
    return window.io({ auth: { role: "facilitator", session_id: sessionId } });
  }

  render([]);
  window.LiveShared.withSocket(attach, ownSocket);
})();
