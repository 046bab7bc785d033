/* The projector's pictures of a result: each method drawn as its practitioners draw it, told
   by the method's Display (strings.displays[method], deliberation/methods/base.py), never by
   its name:
   - "scale": one stacked bar of the answers (consensus scale, yes / no), the rule's thresholds
     marked on it, the answers outside the base (abstentions) drawn apart with their own base;
   - "profile": a merit profile per option (majority judgment): grades stacked from best to
     worst, the median line, the majority grade in words;
   - "bars": one bar per option in ranking order (dots, ranking).
   Per group: small multiples of the same picture, and the divergence said in words.
   Projector only (the phone does not download it). Everything is written with textContent:
   labels come from organisers and are never HTML. Numbers are written on the bars; the
   colours come from projector.css (classes), so that the theme can change them. */
(function () {
  "use strict";

  var R = window.LiveResults;
  var el = R.el, fill = R.fill, pct = R.pct;
  var overallOf = R.overallOf, groupsOf = R.groupsOf, short = R.short;
  var gradeLabel = R.gradeLabel, answerFigure = R.answerFigure;
  var DEFAULT_DISPLAY = { slide: "bars", ranked: false, marks: [], per_option: false };
  var LONG = 30;
  // How far option labels are cut at each step of compaction (projector.js fit(): the slide
  // steps down until it fits): whole, then two lines' worth, then one line beside the bar,
  // then a shorter one.
  var CUTS = [0, 60, 30, 24];

  function displayOf(method, strings) {
    var display = strings.displays && strings.displays[method];
    return display || DEFAULT_DISPLAY;
  }

  function clampPercent(value) {
    return Math.max(0, Math.min(100, value || 0));
  }

  function baseLine(summary, strings) {
    var template = strings.bases && strings.bases[summary.base_note];
    return template ? fill(template, { n: summary.base, b: summary.ballots }) : "";
  }

  function ballotsText(n, strings) {
    return fill(n === 1 ? strings.group_ballots_one : strings.group_ballots, { n: n });
  }

  function gradeWords(entry, strings, poll) {
    if (!entry || !entry.majority_grade) { return "–"; }
    var sign = entry.sign === "+" ? " +" : entry.sign === "-" ? " −" : "";
    return gradeLabel(entry.majority_grade, strings, poll) + sign;
  }

  /* Long option labels (action paths…) go on their own line above their bar. */
  function longLabels(answers) {
    return answers.some(function (a) { return String(a.label || a.key).length > LONG; });
  }

  /* ---------- scale: one stacked bar, thresholds marked ---------- */

  /* Whether an answer's share is on the base of the result (abstentions are not). A group's
     summary has no base_note of its own: its base is the overall's. */
  function inBase(answer, summary, results) {
    var note = summary.base_note || (results && results.base_note);
    return !answer.base || answer.base === note;
  }

  function segment(key, percent, text) {
    var part = el("span", "seg k-" + key);
    part.style.width = clampPercent(percent) + "%";
    if (text && percent > 0) { part.appendChild(el("span", "seg-num", text)); }
    return part;
  }

  function scaleBar(summary, display, results, strings, mini) {
    var bar = el("div", mini ? "scale-bar mini" : "scale-bar");
    var track = el("div", "scale-track");
    track.setAttribute("aria-hidden", "true");
    (summary.answers || []).forEach(function (answer) {
      if (!inBase(answer, summary, results)) { return; }
      track.appendChild(segment(answer.key, answer.percent, mini ? "" : pct(answer.percent) + " %"));
    });
    bar.appendChild(track);
    var rule = results.rule || {};
    (display.marks || []).forEach(function (mark) {
      var threshold = rule[mark[0]];
      if (threshold === undefined || threshold === null) { return; }
      var at = mark[1] === "end" ? 100 - threshold : threshold;
      // Room for the label above (read from the start) or below (from the end) the bar.
      if (!mini) { bar.classList.add(mark[1] === "end" ? "label-below" : "label-above"); }
      var line = el("span", "mark mark-" + mark[0]);
      line.style.left = at + "%";
      line.setAttribute("aria-hidden", "true");
      track.appendChild(line);  // across the bar only, clear of the other mark's label
      if (!mini) {
        // Said in words beside the bar: the line alone would be read by nobody.
        var label = el("span", "mark-label mark-" + mark[0] + (at > 50 ? " to-left" : ""),
          fill(strings["mark_" + mark[0]] || "{t} %", { t: threshold }));
        label.style.left = at + "%";
        bar.appendChild(label);
      }
    });
    return bar;
  }

  function renderScale(summary, display, results, strings) {
    var wrap = el("div", "slide-scale");
    wrap.appendChild(scaleBar(summary, display, results, strings, false));
    var legend = el("ul", "scale-legend");
    var apart = [];
    (summary.answers || []).forEach(function (answer) {
      if (!inBase(answer, summary, results)) { apart.push(answer); return; }
      var item = el("li", "k-" + answer.key);
      item.appendChild(el("span", "sw"));
      item.appendChild(el("span", "bar-label", answer.label || answer.key));
      var figure = el("span", "bar-figure", answerFigure(answer));
      figure.setAttribute("data-key", answer.key);
      item.appendChild(figure);
      legend.appendChild(item);
    });
    wrap.appendChild(legend);
    // Abstentions are not in the base of the shares above: shown beside, on their own base.
    apart.forEach(function (answer) {
      var line = el("p", "apart k-" + answer.key);
      line.appendChild(el("span", "sw"));
      line.appendChild(el("span", "bar-label", answer.label || answer.key));
      var figure = el("span", "bar-figure", answerFigure(answer));
      figure.setAttribute("data-key", answer.key);
      line.appendChild(figure);
      line.appendChild(el("span", "apart-note", fill(strings.apart_note, { b: summary.ballots })));
      wrap.appendChild(line);
    });
    return wrap;
  }

  /* ---------- profile: merit profile per option, median line ---------- */

  function profileBar(answer, mini) {
    var bar = el("div", mini ? "profile-bar mini" : "profile-bar");
    bar.setAttribute("aria-hidden", "true");
    (answer.grades || []).forEach(function (g, index) {
      var text = mini || g.percent < 1 ? "" : pct(g.percent) + " %";
      bar.appendChild(segment("g" + index, g.percent, text));
    });
    bar.appendChild(el("span", "median"));
    return bar;
  }

  function gradeKeys(strings, poll) {
    return (poll && poll.grades && poll.grades.length) ? poll.grades.map(function (g) { return g.key; })
      : Object.keys(strings.grades || {});
  }

  function renderProfile(summary, strings, poll, compact) {
    var wrap = el("div", "slide-profile");
    var answers = (summary.answers || []).slice().sort(function (a, b) {
      return (a.rank || 999) - (b.rank || 999);
    });
    // One option is the item itself: its title is on screen already.
    var single = answers.length === 1;
    var long = longLabels(answers) && compact < 2;
    var list = el("div", single ? "profile-rows single" : "profile-rows" + (long ? " long" : ""));
    var head = el("div", "profile-head");
    head.appendChild(el("span", "median-label", strings.median));
    head.appendChild(el("span", "grade-head", strings.majority_grade));
    list.appendChild(head);
    answers.forEach(function (answer) {
      var row = el("div", "profile-row");
      row.setAttribute("data-key", answer.key);
      if (!single) {
        var label = CUTS[compact] ? short(answer.label || answer.key, CUTS[compact]) : (answer.label || answer.key);
        row.appendChild(el("span", "bar-label", (answer.rank ? answer.rank + ". " : "") + label));
      }
      row.appendChild(profileBar(answer, false));
      var grade = el("span", "bar-figure grade-word", gradeWords(answer, strings, poll));
      grade.setAttribute("data-key", answer.key);
      row.appendChild(grade);
      list.appendChild(row);
    });
    wrap.appendChild(list);
    var legend = el("ul", "scale-legend grades-legend");
    gradeKeys(strings, poll).forEach(function (grade, index) {
      var item = el("li", "k-g" + index);
      item.appendChild(el("span", "sw"));
      item.appendChild(el("span", null, gradeLabel(grade, strings, poll)));
      legend.appendChild(item);
    });
    wrap.appendChild(legend);
    return wrap;
  }

  /* ---------- bars: one bar per option, ranked ---------- */

  function ranked(summary, display) {
    var answers = summary.answers || [];
    if (!display.ranked || !summary.ranking) { return answers; }
    var byKey = {};
    answers.forEach(function (a) { byKey[a.key] = a; });
    return summary.ranking.map(function (r) {
      var a = byKey[r.key] || { key: r.key, label: r.key, count: r.count, percent: null };
      return { key: a.key, label: a.label, count: a.count, percent: a.percent, rank: r.rank };
    });
  }

  function barRow(answer, scale, cut) {
    var row = el("div", "rank-row");
    row.setAttribute("data-key", answer.key);
    var text = cut ? short(answer.label || answer.key, cut) : (answer.label || answer.key);
    row.appendChild(el("span", "bar-label", (answer.rank ? answer.rank + ". " : "") + text));
    var track = el("div", "rank-track");
    var bar = el("span", "rank-fill");
    // The longest bar fills the track: a ranking is read by comparing lengths.
    var width = scale > 0 ? clampPercent((answer.percent || 0) * 100 / scale) : 0;
    bar.style.width = width + "%";
    track.appendChild(bar);
    var figure = el("span", "bar-figure", answerFigure(answer));
    figure.setAttribute("data-key", answer.key);
    // The number on the bar when it is long enough to hold it, else just after it.
    if (width >= 55) { bar.appendChild(figure); figure.classList.add("inside"); } else { track.appendChild(figure); }
    row.appendChild(track);
    return row;
  }

  function renderRanked(summary, display, compact) {
    var answers = ranked(summary, display);
    var scale = Math.max.apply(null, answers.map(function (a) { return a.percent || 0; }).concat([0]));
    var cut = CUTS[compact];
    var long = longLabels(answers) && compact < 2;
    var list = el("div", "rank-rows" + (long ? " long" : ""));
    answers.forEach(function (answer) {
      list.appendChild(barRow(answer, scale, cut));
    });
    return list;
  }

  /* ---------- per group: small multiples, the divergence in words ---------- */

  function groupName(group, strings) {
    return group.label || R.groupLabel(group.group, strings);
  }

  function groupBallots(group) {
    var summary = group.summary || group;
    return group.ballots !== undefined ? group.ballots : summary.ballots;
  }

  /* One group's small multiple: its name, ballots and figure above its small bar (a verdict's
     scale, or the merit profile of the one text graded), on the overall's scale and marks. */
  function groupPanel(group, figure, bar, strings) {
    var panel = el("div", "sm");
    panel.setAttribute("data-group", group.group);
    var head = el("p", "sm-head");
    head.appendChild(el("span", "sm-name", groupName(group, strings)));
    head.appendChild(document.createTextNode(" "));
    head.appendChild(el("span", "sm-count", ballotsText(groupBallots(group), strings)));
    panel.appendChild(head);
    if (group.hidden || !bar) {
      head.appendChild(el("span", "sm-few", strings.too_few || ""));
      return panel;
    }
    head.appendChild(el("span", "sm-figure", figure));
    panel.appendChild(bar);
    return panel;
  }

  function scalePanel(group, display, results, strings) {
    var summary = group.summary || group;
    var support = summary.support_percent;
    var figure = support === null || support === undefined ? "–" : fill(strings.sm_support, { p: pct(support) });
    return groupPanel(group, figure, scaleBar(summary, display, results, strings, true), strings);
  }

  function profilePanel(group, strings, poll) {
    var answer = ((group.summary || group).answers || [])[0];
    return groupPanel(group, gradeWords(answer, strings, poll), answer ? profileBar(answer, true) : null, strings);
  }

  /* Options' groups: one column per group beside the options, in the overall order — each
     group's bars (or majority grades) read down its column, compared across. */
  function optionsMatrix(summary, groups, display, strings, poll, compact) {
    var table = el("table", "sm-matrix");
    var head = el("tr");
    // The title of the comparison sits in the corner: no line of its own.
    var corner = el("th", "sm-corner", strings.by_group);
    corner.setAttribute("scope", "col");
    head.appendChild(corner);
    groups.forEach(function (group) {
      var th = el("th", null);
      th.setAttribute("scope", "col");
      th.setAttribute("data-group", group.group);
      th.appendChild(el("span", "sm-name", groupName(group, strings)));
      th.appendChild(document.createTextNode(" "));  // a place to wrap before the count
      th.appendChild(el("span", "sm-count", ballotsText(groupBallots(group), strings)));
      head.appendChild(th);
    });
    var thead = el("thead");
    thead.appendChild(head);
    table.appendChild(thead);
    var body = el("tbody");
    var order = display.slide === "profile"
      ? (summary.answers || []).slice().sort(function (a, b) { return (a.rank || 999) - (b.rank || 999); })
      : ranked(summary, display);
    var byGroup = groups.map(function (group) {
      var found = {};
      var answers = (group.summary || group).answers || [];
      var top = Math.max.apply(null, answers.map(function (a) { return a.percent || 0; }).concat([0]));
      answers.forEach(function (a) { found[a.key] = a; });
      return { group: group, answers: found, top: top };
    });
    order.forEach(function (option) {
      var row = el("tr");
      var rank = option.rank ? option.rank + ". " : "";
      var name = el("th", null, rank + short(option.label || option.key, [40, 30, 22, 16][compact]));
      name.setAttribute("scope", "row");
      row.appendChild(name);
      byGroup.forEach(function (entry) {
        var cell = el("td");
        var answer = entry.answers[option.key];
        if (entry.group.hidden || !answer) {
          cell.textContent = "–";
        } else if (display.slide === "profile") {
          var index = gradeKeys(strings, poll).indexOf(answer.majority_grade);
          var word = el("span", "cell-grade k-g" + index);
          word.appendChild(el("span", "sw"));
          word.appendChild(el("span", null, gradeWords(answer, strings, poll)));
          cell.appendChild(word);
        } else {
          var bar = el("span", "cell-bar");
          bar.setAttribute("aria-hidden", "true");
          // Its length against the group's first: a fixed span, so that the column does not grow.
          var share = entry.top > 0 ? clampPercent((answer.percent || 0) * 100 / entry.top) / 100 : 0;
          bar.style.width = "calc(" + share.toFixed(3) + " * var(--cell-bar))";
          cell.appendChild(bar);
          cell.appendChild(el("span", "cell-num", String(answer.count)));
        }
        row.appendChild(cell);
      });
      body.appendChild(row);
    });
    table.appendChild(body);
    return table;
  }

  function renderDivergence(results, display, strings, compact) {
    var d = results.divergence;
    if (!d || !d.groups || d.groups.length !== 2) { return null; }
    var percents = d.percents || [];
    var detail = fill(strings.divergence_pair, {
      a: R.groupLabel(d.groups[0], strings), pa: pct(percents[0]),
      b: R.groupLabel(d.groups[1], strings), pb: pct(percents[1])
    });
    // For majority judgment and dots the gap is about one option: name it.
    var option = (results.answers || []).filter(function (a) { return a.key === d.item; })[0];
    if (option && display.per_option && (results.answers || []).length > 1) {
      detail = short(option.label || option.key, compact ? 26 : 60) + " — " + detail;
    }
    var box = el("p", "divergence", fill(strings.divergence, { detail: detail }));
    box.setAttribute("data-gap", String(d.gap_points));
    return box;
  }

  function renderGroups(results, summary, display, strings, poll, compact) {
    var groups = groupsOf(results);
    if (groups.length < 2) { return null; }
    var box = el("section", "small-multiples");
    var options = (summary.answers || []).length > 1 || display.slide !== "profile";
    if (display.slide === "scale" || !options) { box.appendChild(el("h2", "sm-title", strings.by_group)); }
    if (display.slide === "scale") {
      var grid = el("div", "sm-grid");
      groups.forEach(function (group) { grid.appendChild(scalePanel(group, display, results, strings)); });
      box.appendChild(grid);
    } else if (options) {
      box.classList.add("with-matrix");
      box.appendChild(optionsMatrix(summary, groups, display, strings, poll, compact));
    } else {
      // One text graded: each group's merit profile of it.
      var single = el("div", "sm-grid");
      groups.forEach(function (group) { single.appendChild(profilePanel(group, strings, poll)); });
      box.appendChild(single);
    }
    // Said where it happens: only when a group was merged or is too small to show.
    var rule = results.rule || {};
    var merged = groups.some(function (g) { return g.is_other || g.hidden; });
    if (merged && rule.min_group && strings.small_groups) {
      box.appendChild(el("p", "sm-note", fill(strings.small_groups, { n: rule.min_group })));
    }
    return box;
  }

  /* ---------- the whole result ---------- */

  function picture(summary, display, results, strings, poll, compact) {
    if (display.slide === "scale") { return renderScale(summary, display, results, strings); }
    if (display.slide === "profile") { return renderProfile(summary, strings, poll, compact); }
    return renderRanked(summary, display, compact);
  }

  /* Render results into `container` as a slide. Never the groups while the vote is open:
     group bars moving vote by vote could reveal one person's choice. `compact` (0, 1, 2):
     how far labels are cut (0 to 3), for a slide that does not fit otherwise. */
  function render(container, results, poll, strings, compact) {
    compact = compact || 0;
    container.textContent = "";
    var summary = overallOf(results);
    if (!summary) { return false; }
    var open = !!poll && poll.state === "open";
    var display = displayOf((results && results.method) || (poll && poll.method), strings);
    var main = el("div", "slide-main");
    main.appendChild(el("p", "results-base", baseLine(summary, strings)));
    if (!summary.ballots) { main.appendChild(el("p", "p-waiting", strings.no_results)); }
    main.appendChild(picture(summary, display, results, strings, poll, compact));
    // The verdict, the divergence and the groups: beside the picture on a wide screen, under
    // it on a 4:3 one.
    var side = el("div", "slide-side");
    var verdict = el("div", "slide-verdict");
    var outcome = R.outcome ? R.outcome(summary, results, strings) : null;
    if (outcome && outcome.childNodes.length) { verdict.appendChild(outcome); }
    var divergence = open ? null : renderDivergence(results, display, strings, compact);
    if (divergence) { verdict.appendChild(divergence); }
    if (verdict.childNodes.length) { side.appendChild(verdict); }
    var groups = open ? null : renderGroups(results, summary, display, strings, poll, compact);
    if (groups) { side.appendChild(groups); }
    container.classList.toggle("with-groups", !!groups);
    // A column per group needs the width: the groups' table goes under the result.
    container.classList.toggle("with-matrix", !!groups && groups.classList.contains("with-matrix"));
    container.setAttribute("data-slide", display.slide);
    container.appendChild(main);
    if (side.childNodes.length) { container.appendChild(side); }
    return true;
  }

  window.SlideCharts = { render: render };
})();
