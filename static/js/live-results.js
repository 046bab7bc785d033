/* Results renderer shared by the projector, the console and the phone.
   Input: the `results` object of docs/protocol.md (tally.summarize output) and the poll.
   Everything is written with textContent: labels come from organisers and are never HTML. */
(function () {
  "use strict";

  var GRADE_COLOURS = ["#1b6e37", "#4f7f2a", "#6f8f1f", "#8a6a00", "#b3452c", "#7a1020"];
  var DEFAULT_COLOUR = "#3d5a80";
  var DEFAULT_DISPLAY = { chart: "bars", ranked: false, group_cell: "bars", support_column: false,
    per_option: false, colours: {} };

  /* How a method's result is drawn: sent by the server for every method
     (strings.displays, from deliberation.methods), never guessed from the method's name. */
  function displayOf(method, strings) {
    return (strings.displays && strings.displays[method]) || DEFAULT_DISPLAY;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function fill(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (match, name) {
      return values[name] === undefined || values[name] === null ? match : String(values[name]);
    });
  }

  function pct(value) {
    if (value === null || value === undefined) { return "–"; }
    var text = (Math.round(value * 10) / 10).toString();
    return text.replace(".", document.documentElement.lang === "fr" ? "," : ".");
  }

  function overallOf(results) {
    if (!results) { return null; }
    return results.overall || results.summary || (results.answers ? results : null);
  }

  function groupsOf(results) {
    var groups = results && (results.groups || results.by_group);
    if (!groups) { return []; }
    if (Array.isArray(groups)) { return groups; }
    return Object.keys(groups).map(function (key) {
      var entry = groups[key] || {};
      if (entry.group === undefined) { entry.group = key; }
      return entry;
    });
  }

  function groupLabel(key, strings) {
    return (strings.groups && strings.groups[key]) || key || (strings.groups && strings.groups[""]) || "";
  }

  function baseLine(summary, strings) {
    var template = strings.bases && strings.bases[summary.base_note];
    if (!template) { return ""; }
    return fill(template, { n: summary.base, b: summary.ballots });
  }

  function answerFigure(answer) {
    return answer.count + " · " + pct(answer.percent) + " %";
  }

  function longLabels(answers) {
    return answers.some(function (a) { return String(a.label || a.key).length > 32; });
  }

  /* An answer counted outside the base of the shares (abstentions beside yes / no): drawn
     after the others, set apart, its share said with its own base (the ballots cast). */
  function outsideBase(answer, summary) {
    return !!answer.base && answer.base !== summary.base_note;
  }

  function renderBars(summary, display, strings) {
    var answers = summary.answers || [];
    var list = el("div", longLabels(answers) ? "bars stacked" : "bars");
    if (display.ranked && summary.ranking) {
      var byKey = {};
      answers.forEach(function (a) { byKey[a.key] = a; });
      answers = summary.ranking.map(function (r) {
        var a = byKey[r.key] || { key: r.key, label: r.key, count: r.count, percent: null };
        a.rank = r.rank;
        return a;
      });
    }
    answers = answers.filter(function (a) { return !outsideBase(a, summary); })
      .concat(answers.filter(function (a) { return outsideBase(a, summary); }));
    answers.forEach(function (answer) {
      var apart = outsideBase(answer, summary);
      var label = el("div", apart ? "bar-label apart" : "bar-label", (answer.rank ? answer.rank + ". " : "") + (answer.label || answer.key));
      var track = el("div", "bar-track");
      var bar = el("div", "bar-fill k-" + answer.key);
      bar.style.width = Math.max(0, Math.min(100, answer.percent || 0)) + "%";
      track.appendChild(bar);
      track.setAttribute("aria-hidden", "true");
      var figure = el("div", "bar-figure", apart && strings.apart_share
        ? answer.count + " · " + fill(strings.apart_share, { p: pct(answer.percent) })
        : answerFigure(answer));
      figure.setAttribute("data-key", answer.key);
      if (apart) { track.className += " apart"; }
      list.appendChild(label);
      list.appendChild(track);
      list.appendChild(figure);
    });
    return list;
  }

  function gradeLabel(grade, strings, poll) {
    var fromPoll = poll && poll.grades && poll.grades.filter(function (g) { return g.key === grade; })[0];
    if (fromPoll && fromPoll.label) { return fromPoll.label; }
    return (strings.grades && strings.grades[grade]) || grade;
  }

  function renderJudgment(summary, strings, poll) {
    var list = el("div", longLabels(summary.answers || []) ? "bars stacked" : "bars");
    var answers = (summary.answers || []).slice().sort(function (a, b) {
      return (a.rank || 999) - (b.rank || 999);
    });
    answers.forEach(function (answer) {
      list.appendChild(el("div", "bar-label", (answer.rank ? answer.rank + ". " : "") + (answer.label || answer.key)));
      var stack = el("div", "mini-bar");
      stack.setAttribute("aria-hidden", "true");
      (answer.grades || []).forEach(function (g, index) {
        var part = el("span");
        part.style.width = (g.percent || 0) + "%";
        part.style.background = GRADE_COLOURS[index] || "#555";
        stack.appendChild(part);
      });
      var track = el("div", "bar-track");
      track.style.height = "auto";
      track.style.border = "0";
      track.appendChild(stack);
      list.appendChild(track);
      var grade = answer.majority_grade ? gradeLabel(answer.majority_grade, strings, poll) + (answer.sign === "+" ? " +" : answer.sign === "-" ? " −" : "") : "–";
      list.appendChild(el("div", "bar-figure", grade));
    });
    var legend = el("div", "legend-row");
    var grades = (poll && poll.grades && poll.grades.length) ? poll.grades.map(function (g) { return g.key; })
      : Object.keys(strings.grades || {});
    grades.forEach(function (grade, index) {
      var item = el("span");
      var sw = el("span", "sw");
      sw.style.background = GRADE_COLOURS[index];
      item.appendChild(sw);
      item.appendChild(document.createTextNode(gradeLabel(grade, strings, poll)));
      legend.appendChild(item);
    });
    var wrap = el("div");
    wrap.appendChild(list);
    wrap.appendChild(legend);
    return wrap;
  }

  /* The verdict as every surface words it (results.verdict, from the server: label and
     reason in the method's own terms — docs/protocol.md). Its own colour AND an icon and a
     word, never colour alone; no support figure beside a majority grade. */
  var OUTCOME_ICONS = { validated: "✓", rework: "↻", rejected: "✗", no_votes: "–" };

  function renderOutcome(summary, results, strings) {
    var wrap = el("div", "outcome-wrap");
    var verdict = (results && results.verdict) || summary.verdict;
    var outcome = (verdict && verdict.outcome) || summary.outcome;
    if (!outcome) { return wrap; }
    var badge = el("p", "outcome " + outcome);
    badge.setAttribute("data-outcome", outcome);
    var icon = el("span", "outcome-icon", OUTCOME_ICONS[outcome] || "");
    icon.setAttribute("aria-hidden", "true");
    badge.appendChild(icon);
    badge.appendChild(document.createTextNode(" " + ((verdict && verdict.label) ||
      (strings.outcomes && strings.outcomes[outcome]) || outcome)));
    wrap.appendChild(badge);
    if (verdict && verdict.reason) {
      wrap.appendChild(el("p", "outcome-detail", verdict.reason));
    }
    return wrap;
  }

  function short(text, max) {
    text = String(text);
    return text.length > max ? text.slice(0, max - 1).replace(/\s+\S*$/, "") + "…" : text;
  }

  function leaderText(summary, display, strings, poll) {
    var labels = {};
    (summary.answers || []).forEach(function (a) { labels[a.key] = short(a.label || a.key, 40); });
    if (display.group_cell === "top") {
      return (summary.top || []).map(function (k) { return labels[k] || k; }).join(", ");
    }
    var first = (summary.ranking || [])[0];
    if (!first) { return ""; }
    return (labels[first.key] || first.key) + ": " + gradeLabel(first.majority_grade, strings, poll) +
      (first.sign === "+" ? " +" : first.sign === "-" ? " −" : "");
  }

  function renderGroups(results, display, strings, poll) {
    var groups = groupsOf(results);
    var box = el("div", "groups");
    if (groups.length < 2) { return box; }
    box.appendChild(el("h3", null, strings.by_group));
    var table = el("table", "group-table");
    var head = el("tr");
    var columns = [strings.group, strings.ballots, ""];
    var withSupport = display.support_column;
    if (withSupport) { columns.push(strings.support_col); }
    columns.forEach(function (text, index) {
      var th = el("th", index === 1 || index === 3 ? "num" : null, text);
      th.setAttribute("scope", "col");
      head.appendChild(th);
    });
    var thead = el("thead");
    thead.appendChild(head);
    table.appendChild(thead);
    var body = el("tbody");
    groups.forEach(function (group) {
      var summary = group.summary || group;
      var row = el("tr");
      var name = el("th", null, group.label || groupLabel(group.group, strings));
      name.setAttribute("scope", "row");
      row.appendChild(name);
      row.appendChild(el("td", "num", group.ballots !== undefined ? group.ballots : summary.ballots));
      var cell = el("td");
      var bar = el("div", "mini-bar");
      bar.setAttribute("aria-hidden", "true");
      (summary.answers || []).forEach(function (answer) {
        if (display.group_cell !== "bars") { return; }
        var part = el("span");
        // An answer outside the base (abstentions) takes no room in the bar.
        part.style.width = (answer.base && answer.base !== summary.base_note ? 0 : (answer.percent || 0)) + "%";
        part.style.background = (display.colours || {})[answer.key] || DEFAULT_COLOUR;
        bar.appendChild(part);
      });
      if (group.hidden) {
        // too few ballots: counted, not shown
      } else if (display.group_cell !== "bars") {
        cell.textContent = leaderText(summary, display, strings, poll);
      } else {
        cell.appendChild(bar);
      }
      row.appendChild(cell);
      var support = summary.support_percent;
      if (!withSupport) {
        if (group.hidden) { cell.textContent = strings.too_few || ""; }
      } else if (group.hidden) {
        cell.textContent = strings.too_few || "";
        row.appendChild(el("td", "num", "–"));
      } else {
        row.appendChild(el("td", "num", support === null || support === undefined ? "–" : pct(support) + " %"));
      }
      row.setAttribute("data-group", group.group);
      body.appendChild(row);
    });
    table.appendChild(body);
    box.appendChild(table);
    var rule = results.rule || {};
    // Said where it happens: only when some ballots are shown under « Other ».
    var merged = groups.some(function (group) { return group.is_other || group.group === "other"; });
    if (merged && rule.min_group && strings.small_groups) {
      box.appendChild(el("p", "results-base", fill(strings.small_groups, { n: rule.min_group })));
    }
    return box;
  }

  function renderDivergence(results, display, strings) {
    var d = results.divergence;
    if (!d || !d.groups || d.groups.length !== 2) { return null; }
    var percents = d.percents || [];
    var detail = fill(strings.divergence_pair, {
      a: groupLabel(d.groups[0], strings), pa: pct(percents[0]),
      b: groupLabel(d.groups[1], strings), pb: pct(percents[1])
    });
    // For majority judgment and dots the gap is about one option: name it.
    var option = (results.answers || []).filter(function (a) { return a.key === d.item; })[0];
    if (option && display.per_option) {
      detail = short(option.label || option.key, 60) + " — " + detail;
    }
    var box = el("p", "divergence", fill(strings.divergence, { detail: detail }));
    box.setAttribute("data-gap", String(d.gap_points));
    return box;
  }

  /* Render results into `container`. opts.groups (default true) shows the group table.
     Never while the vote is open: group bars moving vote by vote could reveal one
     person's choice; the breakdown and the divergence signal wait for the close. */
  function render(container, results, poll, strings, opts) {
    opts = opts || {};
    var open = !!poll && poll.state === "open";
    container.textContent = "";
    var summary = overallOf(results);
    if (!summary) { return false; }
    var display = displayOf((results && results.method) || (poll && poll.method), strings);
    var main = el("div", "results-main");
    main.appendChild(el("p", "results-base", baseLine(summary, strings)));
    if (!summary.ballots) {
      main.appendChild(el("p", "p-waiting", strings.no_results));
    }
    main.appendChild(display.chart === "grades" ? renderJudgment(summary, strings, poll) : renderBars(summary, display, strings));
    main.appendChild(renderOutcome(summary, results, strings));
    var divergence = open ? null : renderDivergence(results, display, strings);
    if (divergence) { main.appendChild(divergence); }
    if (opts.groups === false || open) {
      container.appendChild(main);
      return true;
    }
    var groups = renderGroups(results, display, strings, poll);
    if (!groups.childNodes.length) {
      container.appendChild(main);
      return true;
    }
    var grid = el("div", "results-grid");
    grid.appendChild(main);
    grid.appendChild(groups);
    container.appendChild(grid);
    return true;
  }

  /* Seconds left on a countdown, corrected by the server clock offset. */
  function secondsLeft(endsAt, offsetMs) {
    if (!endsAt) { return null; }
    var end = Date.parse(endsAt + (/Z|[+-]\d\d:?\d\d$/.test(endsAt) ? "" : "Z"));
    if (isNaN(end)) { return null; }
    return Math.max(0, Math.round((end - (Date.now() + offsetMs)) / 1000));
  }

  /* A countdown shown in the node `nodeId` while the poll of `now()` ({poll, offset}) is open:
     returns the tick to call on every state; it hides the node and stops ticking when there is
     nothing to count, and `show(node, left, poll)` writes the seconds left each second. */
  function countdown(nodeId, now, show) {
    var timer = null;
    function tick() {
      var current = now();
      var poll = current.poll;
      var node = document.getElementById(nodeId);
      var left = poll && poll.state === "open" ? secondsLeft(poll.countdown_ends_at, current.offset) : null;
      if (left === null) {
        node.hidden = true;
        if (timer) { clearInterval(timer); timer = null; }
        return;
      }
      node.hidden = false;
      show(node, left, poll);
      if (!timer) { timer = setInterval(tick, 1000); }
    }
    return tick;
  }

  function clockOffset(serverTime) {
    if (!serverTime) { return 0; }
    var server = Date.parse(serverTime + (/Z|[+-]\d\d:?\d\d$/.test(serverTime) ? "" : "Z"));
    return isNaN(server) ? 0 : server - Date.now();
  }

  function formatSeconds(total) {
    var m = Math.floor(total / 60), s = total % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }

  window.LiveResults = {
    render: render,
    fill: fill,
    pct: pct,
    el: el,
    secondsLeft: secondsLeft,
    countdown: countdown,
    clockOffset: clockOffset,
    formatSeconds: formatSeconds,
    groupLabel: groupLabel,
    // Shared with the projector's slide (static/js/slide-charts.js), which draws its own
    // pictures from the same results.
    overallOf: overallOf,
    groupsOf: groupsOf,
    short: short,
    gradeLabel: gradeLabel,
    answerFigure: answerFigure,
    // The verdict badge and its reason, for the projector's slide (static/js/slide-charts.js).
    outcome: renderOutcome
  };
})();
