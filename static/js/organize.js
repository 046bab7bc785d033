/* Organiser pages: live Markdown preview and drag-and-drop reordering.
   Everything here is an enhancement: the forms and the up/down buttons work without it. */
(function () {
  "use strict";

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = csrfMeta ? csrfMeta.getAttribute("content") : "";

  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": csrfToken
      },
      body: JSON.stringify(body)
    });
  }

  /* -- live preview ---------------------------------------------------------------- */

  function setupPreview(form) {
    var url = form.getAttribute("data-preview-url");
    if (!url) { return; }
    form.querySelectorAll("textarea[data-preview]").forEach(function (area) {
      var target = document.getElementById(area.id + "-preview");
      if (!target) { return; }
      var timer = null;
      var sent = 0;
      function refresh() {
        var ticket = ++sent;
        postJSON(url, { text: area.value })
          .then(function (response) { return response.ok ? response.json() : null; })
          .then(function (data) {
            // Only the answer to the latest keystroke may replace the preview.
            if (!data || ticket !== sent) { return; }
            target.innerHTML = data.html; // sanitised by the server (nh3)
            target.classList.toggle("too-long", Boolean(data.warning));
            target.setAttribute("data-warning", data.warning || "");
          })
          .catch(function () { /* offline: the preview just stays as it was */ });
      }
      area.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(refresh, 250);
      });
    });
  }

  /* -- character counts ------------------------------------------------------------ */

  // "1 234 of 20 000 characters" under each Markdown box, as one types: the limit is said
  // before it is reached (the box refuses more: maxlength is the server's limit).
  function setupCounts() {
    var language = document.documentElement.lang || undefined;
    document.querySelectorAll("p.char-count[data-max]").forEach(function (counter) {
      var area = document.getElementById(counter.id.replace(/-count$/, ""));
      var max = Number(counter.getAttribute("data-max"));
      var format = counter.getAttribute("data-format");
      if (!area || !max || !format) { return; }
      function show() {
        var count = area.value.length;
        counter.textContent = format
          .replace("{count}", count.toLocaleString(language))
          .replace("{max}", max.toLocaleString(language));
        counter.classList.toggle("near-limit", count >= max * 0.9);
      }
      area.addEventListener("input", show);
      show();
    });
  }

  /* -- drag and drop reordering ------------------------------------------------------ */

  function directItems(list) {
    return Array.prototype.filter.call(list.children, function (child) {
      return child.tagName === "LI" && child.hasAttribute("data-id");
    });
  }

  function refreshButtons(list) {
    var items = directItems(list);
    items.forEach(function (item, index) {
      var actions = item.querySelector(".item-actions");
      if (!actions) { return; }
      var up = actions.querySelector('[data-move="up"]');
      var down = actions.querySelector('[data-move="down"]');
      if (up) { up.disabled = index === 0; }
      if (down) { down.disabled = index === items.length - 1; }
    });
  }

  function setupSortable(list) {
    var dragged = null;
    var before = null;

    directItems(list).forEach(function (item) {
      // The whole row (the item's own head, not its sub-items) is what one drags: a small
      // handle missed by a quick gesture made dragging work only with slow, careful moves.
      var head = item.querySelector(":scope > .item-head");
      if (!head || !head.querySelector(".drag-handle")) { return; }
      head.draggable = true;
      head.classList.add("drag-row");
      head.addEventListener("dragstart", function (event) {
        event.stopPropagation();
        dragged = item;
        before = directItems(list).map(function (li) { return li.getAttribute("data-id"); });
        item.classList.add("dragging");
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", item.getAttribute("data-id"));
        event.dataTransfer.setDragImage(item, 16, 16);
      });
      head.addEventListener("dragend", function () {
        item.classList.remove("dragging");
        if (dragged !== item) { return; }
        dragged = null;
        var order = directItems(list).map(function (li) { return li.getAttribute("data-id"); });
        if (order.join(",") !== before.join(",")) { save(order); }
      });
    });

    list.addEventListener("dragover", function (event) {
      if (!dragged) { return; }
      event.preventDefault();
      event.stopPropagation();
      var over = event.target.closest("li[data-id]");
      while (over && over.parentElement !== list) {
        over = over.parentElement.closest("li[data-id]");
      }
      if (!over || over === dragged) { return; }
      var box = over.getBoundingClientRect();
      var after = event.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? over.nextSibling : over);
    });
    list.addEventListener("drop", function (event) {
      if (dragged) { event.preventDefault(); event.stopPropagation(); }
    });

    function save(order) {
      var body = { ids: order.map(Number) };
      var parent = list.getAttribute("data-parent-id");
      if (parent) { body.parent_id = Number(parent); }
      list.setAttribute("aria-busy", "true");
      postJSON(list.getAttribute("data-reorder-url"), body)
        .then(function (response) {
          if (!response.ok) { throw new Error("refused"); }
          list.removeAttribute("aria-busy");
          refreshButtons(list);
          // Finding numbers and labels depend on the order: reload when they are shown.
          if (list.getAttribute("data-kind") === "finding" || list.getAttribute("data-kind") === "field") {
            window.location.reload();
          }
        })
        .catch(function () { window.location.reload(); });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-preview-url]").forEach(setupPreview);
    setupCounts();
    document.querySelectorAll("ol.sortable[data-reorder-url], ul.sortable[data-reorder-url]")
      .forEach(setupSortable);
  });
})();
