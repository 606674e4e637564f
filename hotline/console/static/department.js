/* The department's desk: poll the desk's feed and show new cases without a reload.
   New rows are put in their place in the queue (soonest deadline first) and highlighted, the
   tab counts are updated, and a notice says what arrived. A row someone is writing in (an open
   form) is never taken away. */
(function () {
  "use strict";
  var desk = document.getElementById("desk");
  if (!desk || !window.fetch) { return; }
  var feed = desk.getAttribute("data-feed");
  var seconds = Math.max(1, parseInt(desk.getAttribute("data-poll"), 10) || 15);
  var body = document.getElementById("queue");
  var notice = document.getElementById("desk-notice");
  var baseTitle = document.title;
  var stopped = false;

  function rowsByNumber() {
    var out = {};
    var rows = body.querySelectorAll("tr[data-number]");
    for (var i = 0; i < rows.length; i++) { out[rows[i].getAttribute("data-number")] = rows[i]; }
    return out;
  }

  function busy(row) {
    return row.querySelector("details[open]") !== null || row.contains(document.activeElement);
  }

  function fromHtml(html) {
    var holder = document.createElement("tbody");
    holder.innerHTML = html;
    return holder.querySelector("tr");
  }

  function say(text) {
    notice.textContent = text;
    notice.hidden = false;
  }

  function apply(data) {
    var present = rowsByNumber();
    var wanted = {};
    var arrived = [];
    var next = null;
    for (var i = data.rows.length - 1; i >= 0; i--) {
      var item = data.rows[i];
      wanted[item.number] = true;
      var row = present[item.number];
      if (!row) {
        row = fromHtml(item.html);
        row.classList.add("arrived");
        arrived.unshift(item);
      } else if (row.getAttribute("data-status") !== item.status && !busy(row)) {
        var fresh = fromHtml(item.html);
        row.parentNode.replaceChild(fresh, row);
        row = fresh;
      }
      if (next) {
        if (row.nextElementSibling !== next) { body.insertBefore(row, next); }
      } else if (row.parentNode !== body) {
        body.insertBefore(row, body.querySelector("tr.empty-row"));
      }
      next = row;
    }
    Object.keys(present).forEach(function (number) {
      if (!wanted[number] && !busy(present[number])) { present[number].remove(); }
    });
    body.querySelector("tr.empty-row").hidden = body.querySelector("tr[data-number]") !== null;
    Object.keys(data.counts).forEach(function (key) {
      var els = document.querySelectorAll('[data-count="' + key + '"]');
      for (var j = 0; j < els.length; j++) { els[j].textContent = data.counts[key]; }
    });
    var waiting = data.counts.dispatched || 0;
    document.title = (waiting ? "(" + waiting + ") " : "") + baseTitle;
    var newCases = arrived.filter(function (item) { return item.status === "dispatched"; });
    if (newCases.length) {
      say("新工单到达 " + newCases.length + " 件：" +
          newCases.map(function (item) { return item.number; }).join("、") + "，请及时签收。");
    } else if (arrived.length) {
      say("队列有更新：" + arrived.map(function (item) { return item.number; }).join("、"));
    }
  }

  function poll() {
    if (stopped) { return; }
    fetch(feed, {credentials: "same-origin", headers: {"Accept": "application/json"},
                 redirect: "manual"})
      .then(function (resp) {
        var type = resp.headers.get("Content-Type") || "";
        if (!resp.ok || type.indexOf("application/json") !== 0) {
          stopped = true;
          say("登录已失效或网络中断，新工单不再自动显示。请刷新页面。");
          return null;
        }
        return resp.json();
      })
      .then(function (data) { if (data) { apply(data); } })
      .catch(function () { /* a network blip: try again at the next tick */ })
      .then(function () { if (!stopped) { window.setTimeout(poll, seconds * 1000); } });
  }

  window.setTimeout(poll, seconds * 1000);
}());
