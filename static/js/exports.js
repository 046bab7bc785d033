/* The exports screen: start a document without leaving the page, follow its progress
   (waiting in the queue, in progress, ready or failed) by polling its status; without
   scripts the forms post and the page lists the files. */
(function () {
  "use strict";
  var box = document.getElementById("export-progress");
  if (!box) { return; }
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var words = JSON.parse(document.getElementById("exports-config").textContent).words;

  function stateText(status) {
    if (status.state === "queued") {
      return words.queued + (status.ahead ? " (" + words.ahead.replace("{n}", status.ahead) + ")" : "");
    }
    if (status.state === "running") {
      var step = status.total
        ? words.step.replace("{done}", status.done).replace("{total}", status.total)
        : words.starting;
      return words.running + " (" + step + ")";
    }
    return words[status.state] || status.state;
  }

  function render(line, status) {
    var bar = line.querySelector("progress");
    var state = line.querySelector(".export-state");
    bar.max = status.total || 1;
    bar.value = status.state === "done" ? bar.max : status.done;
    state.textContent = stateText(status);
    if (status.state === "done" && status.download_url) {
      var link = document.createElement("a");
      link.href = status.download_url;
      link.textContent = words.download + " " + status.file;
      state.appendChild(document.createTextNode(" "));
      state.appendChild(link);
      listFile(status);
    } else if (status.state === "failed") {
      state.textContent = words.failed + " — " + (status.message || "");
      state.setAttribute("role", "alert");
    }
  }

  // A file just made goes to the top of the list, as a reload would show it; a file of the
  // same name (the same document exported again the same day) is replaced.
  function listFile(status) {
    var list = document.getElementById("export-files");
    if (!list) { return; }
    Array.prototype.forEach.call(list.querySelectorAll("a"), function (a) {
      if (a.textContent === status.file) { list.removeChild(a.parentNode); }
    });
    var item = document.createElement("li");
    var link = document.createElement("a");
    link.href = status.download_url;
    link.textContent = status.file;
    var size = document.createElement("span");
    size.className = "meta";
    size.textContent = "(" + words.size.replace("{size}", status.size_kb || 0) + ")";
    item.appendChild(link);
    item.appendChild(document.createTextNode(" "));
    item.appendChild(size);
    list.insertBefore(item, list.firstChild);
    list.hidden = false;
    var none = document.getElementById("export-no-files");
    if (none) { none.hidden = true; }
  }

  function follow(line) {
    var url = line.getAttribute("data-status-url");
    function tick() {
      fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (status) {
          render(line, status);
          if (status.state === "queued" || status.state === "running") { setTimeout(tick, 700); }
        })
        .catch(function () { setTimeout(tick, 2000); });
    }
    tick();
  }

  Array.prototype.forEach.call(box.querySelectorAll(".export-job"), follow);

  Array.prototype.forEach.call(document.querySelectorAll("form.export-start"), function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.fetch) { return; }
      event.preventDefault();
      var button = form.querySelector("button");
      button.disabled = true;
      fetch(form.action, {method: "POST", credentials: "same-origin",
                          headers: {"Accept": "application/json", "X-CSRFToken": csrf}})
        .then(function (r) {
          return r.json().then(function (body) { return {ok: r.ok, body: body}; });
        })
        .then(function (answer) {
          var line = document.createElement("p");
          line.className = "export-job";
          line.appendChild(document.createTextNode(button.textContent + " — "));
          line.appendChild(document.createElement("progress"));
          var state = document.createElement("span");
          state.className = "export-state";
          line.appendChild(state);
          box.appendChild(line);
          if (!answer.ok) {
            // Not started (a full disk…): the server says why.
            state.textContent = words.failed + " — " + (answer.body.message || words.refused);
            state.setAttribute("role", "alert");
            return;
          }
          line.setAttribute("data-status-url", answer.body.status_url);
          render(line, answer.body);
          follow(line);
        })
        .catch(function () { form.submit(); })
        .finally(function () { button.disabled = false; });
    });
  });
})();
