// The operator's desk: as the operator types, ask the server for routing's suggestion, the
// caller's earlier cases and earlier answers; one click (or Alt+A) takes the suggestion.
// Without this script the form still files a case: the server decides everything.
(function () {
  "use strict";
  var form = document.getElementById("desk-form");
  if (!form) return;
  var $ = function (id) { return document.getElementById(id); };
  var line = $("line"), category = $("category"), content = $("content"), phone = $("phone"),
      name = $("name"), region = $("region"), department = $("department"), find = $("find"),
      answer = $("answer"), knowledgeQ = $("knowledge-q"), enterprise = $("enterprise-field");
  var groups = Array.prototype.slice.call(category.querySelectorAll("optgroup"));
  var timers = {};

  function debounce(key, ms, fn) {
    clearTimeout(timers[key]);
    timers[key] = setTimeout(fn, ms);
  }

  function query(params) {
    return Object.keys(params).map(function (k) {
      return encodeURIComponent(k) + "=" + encodeURIComponent(params[k] || "");
    }).join("&");
  }

  var seq = {};
  function fetchInto(key, url, done) {
    var mine = (seq[key] = (seq[key] || 0) + 1);
    fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) { if (mine === seq[key] && html) done(html); })
      .catch(function () {});
  }

  // Categories of the chosen line only; 省长直通车 asks for the enterprise.
  function lineChanged() {
    var code = line.value, value = category.value;
    var selected = category.selectedIndex > 0 ?
      category.options[category.selectedIndex].getAttribute("data-line") : null;
    groups.forEach(function (g) { if (g.parentNode) g.parentNode.removeChild(g); });
    groups.forEach(function (g) { if (g.getAttribute("data-line") === code) category.appendChild(g); });
    category.value = selected === code ? value : "";
    var lines = (enterprise.getAttribute("data-lines") || "").split(" ");
    enterprise.hidden = lines.indexOf(code) < 0 && !$("enterprise").value;
  }

  function assist() {
    var url = form.getAttribute("data-assist") + "?" + query({
      line: line.value, content: content.value, phone: phone.value, name: name.value,
      region: region.value, find: find.value});
    fetchInto("assist", url, function (html) {
      var box = document.createElement("div");
      box.innerHTML = html;
      var s = box.querySelector("[data-part=suggestion]"), e = box.querySelector("[data-part=earlier]");
      if (s) $("assist").replaceChildren.apply($("assist"), Array.prototype.slice.call(s.childNodes));
      if (e) $("earlier").replaceChildren.apply($("earlier"), Array.prototype.slice.call(e.childNodes));
    });
  }

  function knowledge() {
    var q = knowledgeQ.value.trim();
    if (!q) { $("knowledge").replaceChildren(); return; }
    var url = form.getAttribute("data-knowledge") + "?" + query({q: q, line: line.value});
    fetchInto("knowledge", url, function (html) { $("knowledge").innerHTML = html; });
  }

  function acceptSuggestion() {
    var button = $("accept-suggestion");
    if (!button) return false;
    department.value = button.getAttribute("data-department");
    var cat = button.getAttribute("data-category");
    if (cat && !category.value) category.value = cat;
    var reg = button.getAttribute("data-region");
    if (reg && !region.value && region.querySelector('option[value="' + reg + '"]')) region.value = reg;
    department.classList.add("taken");
    button.textContent = "已采用，按 Enter 登记";
    $("file-case").focus();
    return true;
  }

  function useAnswer(button) {
    var item = button.closest("li");
    answer.value = item.querySelector(".a").textContent;
    $("knowledge_case").value = button.getAttribute("data-number");
    $("knowledge-used").textContent = "参考已答工单 " + button.getAttribute("data-number");
    $("answer-box").open = true;
    answer.focus();
  }

  line.addEventListener("change", function () { lineChanged(); assist(); });
  [content, region].forEach(function (el) {
    el.addEventListener("input", function () { debounce("assist", 400, assist); });
  });
  region.addEventListener("change", assist);
  [phone, name, find].forEach(function (el) {
    el.addEventListener("input", function () { debounce("assist", 300, assist); });
  });
  // Enter in the finder looks up, it does not file the form.
  find.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") { ev.preventDefault(); assist(); }
  });
  knowledgeQ.addEventListener("input", function () { debounce("knowledge", 300, knowledge); });
  knowledgeQ.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") { ev.preventDefault(); knowledge(); }
  });
  document.addEventListener("click", function (ev) {
    var t = ev.target;
    if (t.id === "accept-suggestion") acceptSuggestion();
    else if (t.classList && t.classList.contains("use-answer")) useAnswer(t);
    else if (t.id === "copy-number") copyNumber(t);
  });

  function copyNumber(button) {
    var text = button.getAttribute("data-copy");
    var done = function () { button.textContent = "已复制"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { selectNumber(); });
    } else {
      selectNumber();
      try { if (document.execCommand("copy")) done(); } catch (e) { /* selected for Ctrl+C */ }
    }
  }

  function selectNumber() {
    var range = document.createRange();
    range.selectNodeContents($("saved-number"));
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  var submitted = false;
  form.addEventListener("submit", function (ev) {
    // One case per call: a second Enter while the first is on its way does nothing.
    if (submitted) { ev.preventDefault(); return; }
    submitted = true;
    $("file-case").disabled = true;
    $("file-case").textContent = "正在登记…";
  });

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey && ev.key === "Enter") {
      ev.preventDefault();
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    } else if (ev.altKey && !ev.ctrlKey) {
      var k = ev.key.toLowerCase();
      if (k === "a") { ev.preventDefault(); acceptSuggestion(); }
      else if (k === "k") { ev.preventDefault(); knowledgeQ.focus(); }
      else if (k === "f") { ev.preventDefault(); find.focus(); }
      else if (k === "n") { ev.preventDefault(); window.location = form.getAttribute("data-new"); }
    }
  });

  lineChanged();
  if (content.value || phone.value) assist();
  if (!$("saved") && content.value === "") content.focus();
  else if ($("saved")) content.focus();
})();
