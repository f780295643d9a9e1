// Turns the server-rendered conversation (which works without JavaScript) into a live chat over the JSON API:
// answers are sent with fetch, bubbles are appended, focus moves to the new question and it is announced.
// Each question is an entry in the browser's history, so the phone's Back and Forward move between questions.
// Anything unexpected falls back to the plain form POST (or a reload), so the person is never stuck.
const main = document.querySelector("main.chat");
if (main) start(main);

// "Check in today" means today on the phone, not on the server's clock (UTC): the start form carries the phone's
// date, put in as the form is sent (the page may have been open since yesterday). Without it the server uses UTC's.
document.addEventListener("submit", (event) => {
  const day = event.target.querySelector("input[data-phone-day]");
  if (!day) return;
  const now = new Date();
  day.value = [now.getFullYear(), now.getMonth() + 1, now.getDate()].map((n) => String(n).padStart(2, "0")).join("-");
});

function start(main) {
  const $ = (sel, root = document) => root.querySelector(sel);
  const api = main.dataset.api;
  // The page's own words in its language (chat.html's #chat-words, from the gettext catalogs); English if missing.
  const words = {
    change: "Change your answer:", earlier: "(your earlier answer)", all: "Choose all that apply.", done: "Done",
    picked: "Picked: %(places)s", nothing: "Nothing picked yet.", why: "Why we ask", site: "Muscle pain check-in",
    today: "This needs a doctor today.", question: "Question %(number)s of about %(total)s",
    empty: "Please choose at least one answer, or “None of these”.",
    ...JSON.parse(($("#chat-words") || { content: {} }).content.textContent || "{}"),
  };
  const fill = (text, values) => text.replace(/%\((\w+)\)s/g, (_, name) => values[name]);
  const mapIds = (main.dataset.map || "").split(" ");
  const order = (main.dataset.order || "").split(" ");  // the flow's questions in order: every path keeps it
  const log = $("#log");
  const ask = $("#ask");
  const live = $("#announce");
  const csrf = ($("input[name=csrf_token]") || {}).value || "";
  const tpl = $("#map-template");
  const urgentTpl = $("#urgent-template");
  const liveMap = $(".map", ask);
  const mapNode = tpl ? tpl.content.firstElementChild : liveMap && liveMap.cloneNode(true);
  const stash = new Map();  // answer bubbles a rewind took off, by question: put back when the answer is kept
  let step = Number(main.dataset.step);
  let urgentSeen = !!$(".urgent", ask);
  let last = null;  // the conversation as the API last gave it
  let busy = false;
  let queue = Promise.resolve();

  const el = (tag, props = {}, ...kids) => {
    const node = Object.assign(document.createElement(tag), props);
    for (const kid of kids) if (kid != null) node.append(kid);
    return node;
  };
  const hidden = (name, value) => el("input", { type: "hidden", name, value });
  const say = (text) => { live.textContent = ""; setTimeout(() => { live.textContent = text; }, 50); };
  const label = (node) => node.textContent.replace(words.earlier, "").replace(/✓/g, "").replace(/\s+/g, " ").trim();
  const current = () => $("#answer").elements.question_id.value;
  const path = () => [...log.children].map((item) => item.dataset.q);

  async function send(path, body) {
    const response = await fetch(api + path, {
      method: body ? "POST" : "GET", headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: body && JSON.stringify(body), credentials: "same-origin",
    });
    const data = await response.json().catch(() => ({}));
    if (response.status === 200) last = data;
    return { status: response.status, data };
  }

  // --- history: one entry per question ------------------------------------------------------------------------------
  // n: how many question entries come before this one
  const entry = (prev, q = current(), n = ((history.state && history.state.n) || 0) + 1) => ({ chat: 1, q, prev, n });
  const push = (prev) => { if (prev !== current()) history.pushState(entry(prev), ""); };
  let leaving = false;
  if (history.state && history.state.chat) history.replaceState({ ...history.state, q: current() }, "");
  else {  // opened afresh (continued later, or after a change from the result): every earlier question gets its entry
    const ids = path();
    ids.forEach((id, i) => history[i ? "pushState" : "replaceState"](entry(ids[i - 1] || null, id, i), ""));
    history[ids.length ? "pushState" : "replaceState"](entry(ids[ids.length - 1] || null, current(), ids.length), "");
  }

  // The conversation ended: its question entries give way to the page it ended on, so that Back from the result
  // (or an emergency page) leaves instead of coming back to it once per question.
  function leave(url) {
    const n = (history.state && history.state.n) || 0;
    leaving = true;
    if (!n) return location.replace(url);
    addEventListener("popstate", () => location.replace(url), { once: true });
    setTimeout(() => location.replace(url), 1500);  // should the way back not come
    history.go(-n);
  }

  // --- showing things ---------------------------------------------------------------------------------------------
  function alertText(text) {
    const old = $(".alert", ask);
    if (old) old.remove();
    $("#q-text").before(el("p", { className: "alert", role: "alert", textContent: text }));
  }

  function turn(id, question, answer) {
    const form = el("form", { method: "post", action: main.dataset.rewind, className: "edit" },
      hidden("csrf_token", csrf), hidden("question_id", id),
      el("button", { type: "submit", className: "bubble me" }, el("span", { className: "vh", textContent: words.change + " " }),
        answer, el("span", { className: "pen", ariaHidden: "true", textContent: "✎" })));
    const item = el("li", { className: "turn enter" }, el("p", { className: "bubble bot", textContent: question }), form);
    item.dataset.q = id;
    return item;
  }

  // The bubbles follow the answers on the path: those after a rewind go aside, those kept after an edit come back.
  function syncLog(data) {
    const want = order.filter((id) => id in (data.answers || {}));
    const items = [...log.children];
    let i = 0;
    while (i < items.length && items[i].dataset.q === want[i]) i++;
    for (const item of items.slice(i)) { stash.set(item.dataset.q, item); item.remove(); }
    for (const id of want.slice(i)) {
      if (!stash.has(id)) return false;
      log.append(stash.get(id));
    }
    return true;
  }

  function chosen(value) { return value == null ? [] : [].concat(value); }

  function choiceReplies(q, picked) {
    return el("div", { className: "replies" }, ...q.options.map((o) => {
      const was = picked.includes(o.value);
      return el("button", { type: "submit", name: "value", value: o.value, className: "reply" + (was ? " was" : "") },
        o.label, was ? el("span", { className: "tag", textContent: " " + words.earlier }) : null);
    }));
  }

  // Checkboxes under their headings; "None of these" beside Done, where it is reached without scrolling.
  function chips(q, picked) {
    const chip = (o) => el("label", { className: "chip" },
      el("input", { type: "checkbox", name: "value", value: o.value, checked: picked.includes(o.value) }),
      el("span", { textContent: o.label }));
    const set = el("fieldset", { className: "chips" }, el("legend", { className: "hint" },
      el("span", { className: "vh", textContent: q.text + " " }), words.all));
    let group = set, name = "";
    for (const o of q.options) {
      if (o.value === "none") continue;
      if ((o.group || "") !== name) {
        name = o.group || "";
        group = name ? set.appendChild(el("fieldset", { className: "group" }, el("legend", { textContent: name }))) : set;
      }
      group.append(chip(o));
    }
    const none = q.options.find((o) => o.value === "none");
    set.append(el("div", { className: "dock" }, none ? Object.assign(chip(none), { className: "chip none" }) : null,
      el("button", { type: "submit", className: "btn primary done", textContent: words.done })));
    return set;
  }

  function bodyMap(picked) {
    const map = mapNode.cloneNode(true);
    for (const button of map.querySelectorAll("[name=toggle]")) {
      button.setAttribute("aria-pressed", String(picked.includes(button.value)));
    }
    syncMap(map);
    return map;
  }

  function syncMap(map) {
    const on = [...map.querySelectorAll("[name=toggle][aria-pressed=true]")];
    const box = $(".map-values", map);
    box.replaceChildren(...on.map((b) => hidden("value", b.value)));
    $(".picked", map).textContent = on.length ? fill(words.picked, { places: on.map(label).join(", ") }) : words.nothing;
  }

  // A doctor is needed today: said in full on the question after the answer that showed it, shorter after that.
  function urgent(advice) {
    if (!advice || !urgentTpl) return null;
    const node = urgentTpl.content.firstElementChild.cloneNode(true);
    $(".why-urgent", node).textContent = advice.text;
    // a button that dials where there is a number for it, else the words alone (as _today.html draws them)
    const { href, label } = advice.action;
    $(".act", node).replaceWith(href.startsWith("tel:")
      ? el("a", { className: "btn primary act", href, textContent: label })
      : el("p", { className: "say-now primary act" }, el("strong", { textContent: label })));
    if (urgentSeen) node.classList.add("again");
    urgentSeen = true;
    return node;
  }

  function showQuestion(conversation) {
    const q = conversation.question;
    const picked = chosen(q.suggested);
    step = conversation.step;
    const total = Math.max(conversation.progress.estimated_total, 1);
    const number = Math.min(conversation.progress.answered + 1, total);
    $("#progress-n").textContent = number;
    $("#progress-t").textContent = total;
    Object.assign($("#progress"), { max: total, value: number - 1 });

    const type = mapIds.includes(q.id) && mapNode ? "map" : q.type;
    const form = el("form", { method: "post", action: $("#answer").action, className: "answer", id: "answer" },
      hidden("csrf_token", csrf), hidden("question_id", q.id), hidden("step", step));
    form.dataset.type = type;
    if (type === "choice") form.append(choiceReplies(q, picked));
    else if (type === "map") form.append(bodyMap(picked), el("div", { className: "dock" },
      el("button", { type: "submit", className: "btn primary done", textContent: words.done })));
    else form.append(chips(q, picked));
    const heading = el("h1", { className: "bubble bot q", id: "q-text", tabIndex: -1, textContent: q.text });
    const help = q.help ? el("details", { className: "why" }, el("summary", { textContent: words.why }),
      el("p", { textContent: q.help })) : null;
    const news = !urgentSeen;
    const panel = urgent(conversation.urgent_advice);
    // new nodes slide in by themselves: restarting an animation on #ask would cost a second layout of the page
    const parts = [panel, heading, help, form].filter(Boolean);
    for (const part of parts) part.classList.add("enter");
    ask.replaceChildren(...parts);
    const title = q.text + " – " + words.site;  // the tab's title can wait until the question is drawn
    requestAnimationFrame(() => setTimeout(() => { document.title = title; }));
    place(heading, panel && news ? panel : null);
    const where = fill(words.question, { number, total });
    say(`${panel && news ? `${words.today} ${conversation.urgent_advice.text} ` : ""}${where}: ${q.text}`);
  }

  // Keep the answers in thumb reach: the whole question at the bottom of the screen when it fits, else its top
  // (or the top of a new "doctor today" panel, which must be seen first; a reminder of one stays above it too).
  function place(heading, first) {
    heading.focus({ preventScroll: true });
    requestAnimationFrame(() => {  // a tap's trailing events must not leave focus on the page body
      if (document.activeElement === document.body) heading.focus({ preventScroll: true });
    });
    const bar = $(".bar");
    const top = bar ? bar.offsetHeight : 0;
    const room = window.innerHeight - top;
    const box = ask.getBoundingClientRect();
    if (!first && box.height <= room) window.scrollBy(0, box.bottom - window.innerHeight);
    else window.scrollBy(0, (first || ask.firstElementChild).getBoundingClientRect().top - top - 8);
  }

  function answerOf(form, submitter) {
    const type = form.dataset.type;
    if (type === "choice") {
      return submitter && submitter.name === "value" ? { value: submitter.value, text: label(submitter) } : null;
    }
    const values = [...form.querySelectorAll(type === "map" ? "[name=toggle][aria-pressed=true]" : "input[name=value]:checked")];
    const labels = values.map((node) => label(type === "map" ? node : node.nextElementSibling));
    return { value: values.map((node) => node.value), text: labels.join(", ") };
  }

  function fallback(form, submitter) {
    if (submitter && submitter.name) form.append(hidden(submitter.name, submitter.value));
    HTMLFormElement.prototype.submit.call(form);
  }

  // After the server moved the conversation: the bubbles, then the next question or the page it ended on.
  function moved(data) {
    if (data.status === "finished") return leave(main.dataset.result);
    if (data.status !== "active") return leave(main.dataset.chat);
    // Let go of the tapped button while the page is still laid out: taking a focused element out of a changed page
    // makes the browser lay it out there and then, and place() needs one more layout for the new question anyway.
    if (ask.contains(document.activeElement)) document.activeElement.blur();
    if (!syncLog(data)) return location.assign(main.dataset.chat);
    showQuestion(data);
  }

  async function rewindTo(id) {
    const { status, data } = await send("/rewind", { question_id: id });
    if (status !== 200) return location.reload();
    moved(data);
  }

  // Forward to a question already answered: the kept answer is sent again (the flow goes on at the first question
  // without an answer), then back to the question asked for if the flow went past it.
  async function forwardTo(id) {
    const q = (last || (await send("")).data).question;
    if (!q || q.suggested == null) return;
    const { status, data } = await send("/answers", { question_id: q.id, value: q.suggested, step });
    if (status !== 200) return location.reload();
    const text = q.options.filter((o) => chosen(q.suggested).includes(o.value)).map((o) => o.label).join(", ");
    stash.set(q.id, turn(q.id, q.text, text));
    moved(data);
    if (data.status === "active" && path().includes(id)) await rewindTo(id);
  }

  async function go(id) {
    if (busy || !id || id === current()) return;
    busy = true;
    try {
      if (path().includes(id)) await rewindTo(id);
      else await forwardTo(id);
    } catch (err) {
      location.reload();
    } finally {
      busy = false;
      history.replaceState({ ...history.state, q: current() }, "");
    }
  }

  // --- events -----------------------------------------------------------------------------------------------------
  // a page brought back from the browser's cache may show a question that was answered since: ask the server
  addEventListener("pageshow", (event) => { if (event.persisted) location.reload(); });

  addEventListener("popstate", (event) => {
    if (event.state && event.state.chat && !leaving) queue = queue.then(() => go(event.state.q));
  });

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    const isAnswer = form.id === "answer";
    const isBack = form.id === "back";
    if (!isAnswer && !isBack && !form.classList.contains("edit")) return;
    if (isBack && !path().length) return;  // the first question: Back leaves for the start page
    event.preventDefault();
    if (busy) return;
    const submitter = event.submitter;
    const from = current();
    let route, body, answer;
    if (isBack) {
      const before = path().pop();
      if (history.state && history.state.prev === before) return history.back();
      route = "/rewind";
      body = { question_id: before };
    } else if (isAnswer) {
      answer = answerOf(form, submitter);
      if (!answer) return;
      if (Array.isArray(answer.value) && !answer.value.length) {
        alertText(words.empty);
        return;
      }
      route = "/answers";
      body = { question_id: form.elements.question_id.value, value: answer.value, step };
    } else {
      route = "/rewind";
      body = { question_id: form.elements.question_id.value };
    }
    busy = true;
    main.setAttribute("aria-busy", "true");
    try {
      const { status, data } = await send(route, body);
      if (status === 200) {
        if (isAnswer) stash.set(body.question_id, turn(body.question_id, $("#q-text").textContent, answer.text));
        moved(data);
        push(from);
      } else if (status === 422 && data.error) {
        alertText(data.error.message);
      } else if (status === 409) {
        location.reload();
      } else {
        fallback(form, submitter);
      }
    } catch (err) {
      fallback(form, submitter);
    } finally {
      busy = false;
      main.removeAttribute("aria-busy");
    }
  });

  // A tapped answer button does not take the focus (as on iOS): the page is not restyled for it between the tap and
  // the answer being sent, and the next question takes the focus anyway.
  document.addEventListener("mousedown", (event) => {
    if (event.target.closest("#answer button")) event.preventDefault();
  });

  // body map regions toggle in place (without JavaScript they round-trip through the server)
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[name=toggle]");
    if (!button) return;
    event.preventDefault();
    const map = button.closest(".map");
    const on = button.getAttribute("aria-pressed") !== "true";
    button.setAttribute("aria-pressed", String(on));
    if (on) {
      for (const other of map.querySelectorAll("[name=toggle]")) {
        if (other !== button && (button.value === "none" || other.value === "none")) other.setAttribute("aria-pressed", "false");
      }
    }
    syncMap(map);
  });

  // "None of these" stands alone
  document.addEventListener("change", (event) => {
    const box = event.target;
    if (!box.matches(".chips input[type=checkbox]") || !box.checked) return;
    for (const other of box.closest(".chips").querySelectorAll("input[type=checkbox]")) {
      if (other !== box && (box.value === "none" || other.value === "none")) other.checked = false;
    }
  });

  document.documentElement.classList.add("js");
}
