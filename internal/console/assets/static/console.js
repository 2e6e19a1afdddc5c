// qun console: the live timeline and bot events (Server-Sent Events) and the ice-breaker
// preview. Served as a file of its own: the Content-Security-Policy allows
// no inline script.
"use strict";

function lineElement(l) {
  const li = document.createElement("li");
  li.className = l.notice ? "notice" : "bubble";
  li.dataset.seq = String(l.seq);
  if (!l.notice) {
    const s = document.createElement("span");
    s.className = "sender";
    s.textContent = l.sender;
    li.append(s, " ");
  }
  const t = document.createElement("span");
  t.className = "text";
  t.textContent = l.text;
  const time = document.createElement("time");
  time.textContent = l.time;
  li.append(t, " ", time);
  return li;
}

function followTimeline(list) {
  const src = new EventSource(list.dataset.stream);
  src.onmessage = (e) => {
    const l = JSON.parse(e.data);
    if (list.querySelector('[data-seq="' + l.seq + '"]')) return;
    list.append(lineElement(l));
    list.lastElementChild.scrollIntoView({block: "nearest"});
  };
}

// DefaultShownEvents bounds the bot's events kept on the page; older ones
// scroll off.
const DefaultShownEvents = 200;

// followEvents shows the JSON the bot was sent, each frame as it arrives.
function followEvents(list) {
  const src = new EventSource(list.dataset.events);
  src.onmessage = (e) => {
    if (list.querySelector('[data-seq="' + e.lastEventId + '"]')) return;
    const li = document.createElement("li");
    li.dataset.seq = e.lastEventId;
    const code = document.createElement("code");
    code.textContent = e.data;
    li.append(code);
    list.append(li);
    while (list.childElementCount > DefaultShownEvents) list.firstElementChild.remove();
    li.scrollIntoView({block: "nearest"});
  };
}

// DefaultRefresh is how often the overview reads its numbers again.
const DefaultRefresh = 2000;

// refreshInPlace reads the page again every DefaultRefresh and puts its
// numbers in place: each read is a sample of the rates.
function refreshInPlace(el) {
  setInterval(async () => {
    try {
      const r = await fetch(el.dataset.refresh, {credentials: "same-origin"});
      if (!r.ok) return;
      const doc = new DOMParser().parseFromString(await r.text(), "text/html");
      const fresh = doc.getElementById(el.id);
      if (fresh) el.replaceChildren(...fresh.childNodes);
    } catch (err) {
      // the next tick tries again
    }
  }, DefaultRefresh);
}

// sendInPlace posts a form without leaving the page: the live timeline
// shows what it caused. A refusal shows the error page's message.
function sendInPlace(form) {
  const out = document.getElementById(form.dataset.ajax);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = new URLSearchParams(new FormData(form));
    let msg = "";
    try {
      const r = await fetch(form.action, {method: "POST", body, credentials: "same-origin"});
      if (r.ok) {
        const text = form.querySelector('[name="text"]');
        if (text) text.value = "";
      } else {
        const doc = new DOMParser().parseFromString(await r.text(), "text/html");
        const err = doc.getElementById("error");
        msg = err ? err.textContent : "HTTP " + r.status;
      }
    } catch (err) {
      msg = String(err);
    }
    out.textContent = msg;
    out.hidden = msg === "";
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-ajax]").forEach(sendInPlace);
  const list = document.getElementById("timeline");
  if (list && list.dataset.stream) followTimeline(list);
  document.querySelectorAll("[data-refresh]").forEach(refreshInPlace);
  const events = document.getElementById("bot-events");
  if (events && events.dataset.events) followEvents(events);
  document.querySelectorAll("[data-preview]").forEach((input) => {
    const out = document.getElementById(input.dataset.preview);
    input.addEventListener("input", () => { out.textContent = input.value; });
  });
});
