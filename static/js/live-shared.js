/* What the live pages' scripts share, defined once: where a phone keeps its token, and the
   page's one Socket.IO connection (phone.js and console.js open it; propose.js and
   moderation.js use it). Loaded before them. ES5 on purpose: old phones. */
(function () {
  "use strict";

  var socket = null;
  var waiting = [];

  function tokenKey(code) { return "assises:token:" + code; }

  window.LiveShared = {
    /* The phone's token for a session, kept so that a phone whose cookie was lost comes
       back as the same participant (JSON in localStorage; null when absent or unreadable). */
    loadToken: function (code) {
      try {
        var raw = window.localStorage.getItem(tokenKey(code));
        return raw ? JSON.parse(raw) : null;
      } catch (e) { return null; }
    },
    saveToken: function (code, token) {
      try { window.localStorage.setItem(tokenKey(code), JSON.stringify(token)); } catch (e) { /* memory only */ }
    },
    forgetToken: function (code) {
      try { window.localStorage.removeItem(tokenKey(code)); } catch (e) { /* nothing to do */ }
    },

    /* The page's socket, opened by the page's main script (null until then). */
    socket: function () { return socket; },
    shareSocket: function (opened) {
      socket = opened;
      var callbacks = waiting;
      waiting = [];
      callbacks.forEach(function (callback) { callback(opened); });
    },
    /* Call ``callback`` with the page's socket. When the page's scripts have all run and
       none was shared (the main script stopped early), ``openOwn()`` opens one. */
    withSocket: function (callback, openOwn) {
      if (socket) { callback(socket); return; }
      waiting.push(callback);
      var fallback = function () {
        if (socket) { return; }
        var own = openOwn ? openOwn() : null;
        if (own) { window.LiveShared.shareSocket(own); }
      };
      if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", fallback);
      } else {
        fallback();
      }
    }
  };
})();
