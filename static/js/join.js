// Join page: a phone that joined before (cookie lost, token kept) comes back as the same
// participant. The token is read from localStorage under the session's code.
(function () {
  "use strict";
  var field = document.getElementById("join-token");
  if (!field) { return; }
  try {
    var token = localStorage.getItem("assises:token:" + field.getAttribute("data-code"));
    if (token) { field.value = token; }
  } catch (e) { /* storage unavailable: join as new */ }
})();
