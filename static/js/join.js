// Join page: a phone that joined before (cookie lost, token kept) comes back as the same
// participant. The token is the one phone.js kept (live-shared.js).
(function () {
  "use strict";
  var field = document.getElementById("join-token");
  if (!field) { return; }
  var token = window.LiveShared.loadToken(field.getAttribute("data-code"));
  if (typeof token === "string") { field.value = token; }  // none: join as new
})();
