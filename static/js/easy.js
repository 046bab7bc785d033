/* The easy-to-read mode's « Lire à voix haute » (docs/phones.md): reads the item on screen
   and the answers of its ballot aloud with the browser's speech synthesis, in the session's
   language (the page's lang). The button stays hidden where the browser cannot speak.
   Loaded only in the easy-to-read mode. ES5 on purpose: old phones. */
(function () {
  "use strict";

  var button = document.getElementById("read-aloud");
  var synth = window.speechSynthesis;
  if (!button || !synth || typeof window.SpeechSynthesisUtterance !== "function") { return; }

  var label = document.getElementById("read-aloud-text");
  var language = document.documentElement.lang || "fr";
  // The regional voice most phones have for each language the pages speak.
  var LOCALES = { fr: "fr-FR", en: "en-GB" };

  function visibleText(node) {
    return node && !node.hidden && node.offsetParent !== null ? node.textContent.replace(/\s+/g, " ").trim() : "";
  }

  /* What is read, in the order of the page: the item (its kind, title, context, summary and
     text), then the ballot (its question and each answer), then the state of the vote. */
  function passages() {
    var parts = [];
    ["item-kind", "item-title", "item-context", "item-summary-text", "item-text", "poll-state", "countdown"].forEach(function (id) {
      var text = visibleText(document.getElementById(id));
      if (text) { parts.push(text); }
    });
    var ballot = document.getElementById("ballot");
    if (ballot && !ballot.hidden) {
      var nodes = ballot.querySelectorAll("legend, .choice-text, .dot-label, .rank-label, .choice");
      Array.prototype.forEach.call(nodes, function (node) {
        // A label with its words in a .choice-text is read once, through that span.
        if (node.classList.contains("choice") && node.querySelector(".choice-text")) { return; }
        var text = visibleText(node);
        if (text) { parts.push(text); }
      });
    }
    return parts;
  }

  function voiceFor(lang) {
    var voices = synth.getVoices ? synth.getVoices() : [];
    var exact = voices.filter(function (voice) { return voice.lang === LOCALES[lang]; })[0];
    return exact || voices.filter(function (voice) { return (voice.lang || "").indexOf(lang) === 0; })[0] || null;
  }

  // The button says what it will do (read, or stop): its words change, not a pressed state.
  function setReading(reading) {
    button.setAttribute("data-reading", reading ? "yes" : "no");
    label.textContent = button.getAttribute(reading ? "data-stop" : "data-read");
  }

  function read() {
    synth.cancel();
    var parts = passages();
    var voice = voiceFor(language);
    parts.forEach(function (text, index) {
      var utterance = new window.SpeechSynthesisUtterance(text);
      utterance.lang = LOCALES[language] || language;
      if (voice) { utterance.voice = voice; }
      utterance.rate = 0.9;  // a little slower than the default: easier to follow
      if (index === parts.length - 1) {
        utterance.onend = function () { setReading(false); };
        utterance.onerror = function () { setReading(false); };
      }
      synth.speak(utterance);
    });
    setReading(parts.length > 0);
  }

  button.addEventListener("click", function () {
    if (button.getAttribute("data-reading") === "yes") {
      synth.cancel();
      setReading(false);
      return;
    }
    read();
  });
  // Leaving the page (or reloading it) stops the reading.
  window.addEventListener("pagehide", function () { synth.cancel(); });
  setReading(false);
  button.hidden = false;
})();
