/* The minutes of the item shown (templates/live/console.html, #minutes). Without this script
   the box is a form with a Save button; with it, the text is saved as the facilitator types
   (0.8 s after the last key) by POST …/minutes with JSON, each save a version. A save carries
   the version it was written from (`base`): when another console saved meanwhile, the
   server merges both texts and answers with the merge (docs/protocol.md, "Minutes"). The other
   consoles get a `minutes` event and show the new text unless they are typing. */
(function () {
  "use strict";

  var box = document.getElementById("minutes-text");
  if (!box) { return; }
  var config = JSON.parse(document.getElementById("live-config").textContent);
  var S = config.strings;
  var $ = function (id) { return document.getElementById(id); };
  var DELAY = 800;
  var RETRY = 5000;
  var itemId = intOrNull($("minutes-item-id").value);
  var base = intOrNull($("minutes-base").value);
  var dirty = box.value !== ((config.state.minutes || {}).text || "") && itemId !== null;
  var timer = null;
  var inFlight = false;
  var again = false;

  function intOrNull(value) {
    var text = String(value === null || value === undefined ? "" : value).trim();
    return /^\d+$/.test(text) ? parseInt(text, 10) : null;
  }

  function fill(text, values) {
    return String(text).replace(/\{(\w+)\}/g, function (all, name) {
      return values[name] === undefined ? all : values[name];
    });
  }

  /* What became of the last save, in words; data-state says it to scripts and tests. */
  function status(text, state) {
    var node = $("minutes-status");
    node.textContent = text || "";
    node.setAttribute("data-state", state || "");
  }

  function clock() {
    var now = new Date();
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return pad(now.getHours()) + ":" + pad(now.getMinutes()) + ":" + pad(now.getSeconds());
  }

  function setBase(version) {
    base = version;
    $("minutes-base").value = version === null ? "" : String(version);
  }

  function schedule(delay) {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(save, delay);
  }

  function post(item, text, from) {
    return fetch(config.urls.minutes, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": config.csrfToken },
      body: JSON.stringify({ item_id: item, text: text, base: from })
    }).then(function (response) {
      return response.json().catch(function () { return { ok: false, message: String(response.status) }; });
    });
  }

  /* The whole text, with the version it was written from; one save in flight at a time. */
  function save() {
    timer = null;
    if (itemId === null || !dirty) { return; }
    if (inFlight) { again = true; return; }
    var item = itemId, sent = box.value;
    inFlight = true;
    status(S.minutes_saving, "saving");
    post(item, sent, base).then(function (ack) {
      inFlight = false;
      if (item !== itemId) { return; }  // another item is shown now (its text was sent)
      if (!ack || !ack.ok) {
        // Refused (too long, the item gone…): the text stays in the box, nothing retried.
        status(fill(S.minutes_failed, { message: (ack && ack.message) || "?" }), "refused");
        return;
      }
      if (box.value === sent) {
        // Nothing typed since: the box shows what the server keeps (a merge, maybe).
        if (ack.text !== sent) { box.value = ack.text; }
        setBase(ack.version);
        dirty = false;
      } else {
        // Typed meanwhile: the box's text grows from what this console sent.
        setBase(ack.own_version);
        schedule(DELAY);
      }
      status(fill(ack.merged ? S.minutes_merged : S.minutes_saved, { time: clock() }),
             ack.merged ? "merged" : "saved");
      if ($("minutes-history").open) { loadHistory(); }
      if (again) { again = false; save(); }
    }).catch(function () {
      inFlight = false;
      if (item !== itemId) { return; }
      status(S.minutes_offline, "offline");
      schedule(RETRY);
    });
  }

  /* The item shown changed (this console or another): what was typed for the previous one
     is saved first, then the box shows the new item's minutes. */
  function follow(minutes) {
    var next = minutes ? minutes.item_id : null;
    if (next !== itemId) {
      // Sent as it is now, even while a save is under way (a save merges on the server).
      if (dirty && itemId !== null) { post(itemId, box.value, base).catch(function () {}); }
      if (timer) { clearTimeout(timer); timer = null; }
      inFlight = false;
      itemId = next;
      $("minutes-item-id").value = next === null ? "" : String(next);
      box.value = minutes ? minutes.text : "";
      setBase(minutes ? minutes.version : null);
      dirty = false;
      again = false;
      status("");
      $("minutes").hidden = next === null;
      $("minutes-history").open = false;
      $("minutes-count").textContent = minutes && minutes.version !== null ? "…" : "0";
      return;
    }
    takeOthers(minutes);
  }

  /* Another console saved: shown here unless this console has unsaved text (its next save
     is merged on the server). */
  function takeOthers(minutes) {
    if (!minutes || minutes.item_id !== itemId || dirty || inFlight) { return; }
    if (minutes.version !== null && minutes.version !== base) {
      box.value = minutes.text;
      setBase(minutes.version);
      if ($("minutes-history").open) { loadHistory(); }
    }
  }

  function loadHistory() {
    if (itemId === null) { return; }
    var url = config.urls.history.replace(/\/0$/, "/" + itemId);
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        if (!answer || !answer.ok || answer.item_id !== itemId) { return; }
        var list = $("minutes-versions");
        list.textContent = "";
        answer.versions.forEach(function (version) {
          var row = document.createElement("li");
          var meta = document.createElement("span");
          meta.className = "hint";
          meta.textContent = version.saved_at.replace("T", " ") + " · " + version.author +
            (version.merged ? " · " + S.minutes_merge_mark : "");
          var text = document.createElement("div");
          text.className = "minutes-version-text";
          text.textContent = version.text;
          row.appendChild(meta);
          row.appendChild(text);
          list.appendChild(row);
        });
        if (!answer.versions.length) {
          var none = document.createElement("li");
          none.className = "hint";
          none.textContent = S.minutes_none;
          list.appendChild(none);
        }
        $("minutes-count").textContent = String(answer.versions.length);
      })
      .catch(function () { /* the list stays as it was */ });
  }

  box.addEventListener("input", function () {
    dirty = true;
    status("");
    schedule(DELAY);
  });
  $("minutes-form").addEventListener("submit", function (event) {
    event.preventDefault();
    dirty = true;
    save();
  });
  $("minutes-history").addEventListener("toggle", function () {
    if ($("minutes-history").open) { loadHistory(); }
  });
  // Leaving with unsaved text: one last save, as the form would send it.
  window.addEventListener("pagehide", function () {
    if (!dirty || itemId === null || !navigator.sendBeacon) { return; }
    var data = new FormData($("minutes-form"));
    navigator.sendBeacon($("minutes-form").action, data);
  });
  if (dirty) { schedule(DELAY); }  // a refused form's text, shown back: saved again

  window.LiveShared.withSocket(function (socket) {
    socket.on("state", function (s) { follow(s.minutes); });
    socket.on("minutes", takeOthers);
  });
})();
