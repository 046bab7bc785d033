/* Signing a published synthesis: before the form goes, the browser asks the server for a
   challenge and finds the number whose SHA-256 matches it (ALTCHA's proof of work, solved
   with the vendored js-sha256, which works on plain-HTTP venue networks where
   crypto.subtle does not exist). A fraction of a second for a person; a cost for a script.
   ES5 only: old phones sign too. */
(function () {
  "use strict";
  var form = document.getElementById("support-form");
  if (!form || !window.sha256 || !window.fetch) { return; }
  var config = JSON.parse(document.getElementById("support-config").textContent);
  var status = form.querySelector(".support-status");
  var button = form.querySelector("button[type=submit]");
  var CHUNK = 4000;  // hashes between two looks at the page

  function solve(challenge, done) {
    var number = 0;
    function step() {
      var stop = Math.min(number + CHUNK, challenge.maxnumber + 1);
      for (; number < stop; number++) {
        if (window.sha256(challenge.salt + number) === challenge.challenge) {
          done(number);
          return;
        }
      }
      if (number > challenge.maxnumber) { done(null); return; }
      setTimeout(step, 0);
    }
    step();
  }

  function fail() {
    status.textContent = config.failed;
    button.disabled = false;
  }

  form.addEventListener("submit", function (event) {
    if (form.elements.proof.value) { return; }  // solved: the form goes
    event.preventDefault();
    if (!form.reportValidity()) { return; }
    button.disabled = true;
    status.textContent = config.checking;
    fetch(form.getAttribute("data-challenge-url"), {credentials: "same-origin"})
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (challenge) {
        solve(challenge, function (number) {
          if (number === null) { fail(); return; }
          form.elements.proof.value = JSON.stringify({
            algorithm: challenge.algorithm, challenge: challenge.challenge,
            number: number, salt: challenge.salt, signature: challenge.signature
          });
          status.textContent = config.sending;
          form.submit();
        });
      })
      .catch(fail);
  });
})();
