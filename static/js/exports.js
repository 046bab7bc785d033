// Exports page: start a document in the background and follow its progress without
// reloading; without scripts the forms post and the page lists the files.
(function () {
  "use strict";
  var box = document.getElementById("export-progress");
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var words = JSON.parse(document.getElementById("exports-config").textContent).words;

  function render(line, status) {
    var bar = line.querySelector("progress");
    var state = line.querySelector(".export-state");
    bar.max = status.total || 1;
    bar.value = status.state === "done" ? bar.max : status.done;
    state.textContent = words[status.state] + (status.state === "running" ? " (" + status.done + "/" + (status.total || "?") + ")" : "");
    if (status.state === "done" && status.download_url) {
      var link = document.createElement("a");
      link.href = status.download_url;
      link.textContent = words.download + " " + status.file;
      state.appendChild(document.createTextNode(" "));
      state.appendChild(link);
    } else if (status.state === "failed") {
      state.textContent = words.failed + " — " + (status.message || "");
    }
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
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (status) {
          var line = document.createElement("p");
          line.className = "export-job";
          line.setAttribute("data-status-url", status.status_url);
          line.appendChild(document.createTextNode(button.textContent + " — "));
          line.appendChild(document.createElement("progress"));
          var state = document.createElement("span");
          state.className = "export-state";
          line.appendChild(state);
          box.appendChild(line);
          render(line, status);
          follow(line);
        })
        .catch(function () { form.submit(); })
        .finally(function () { button.disabled = false; });
    });
  });
})();
