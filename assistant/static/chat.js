// Turns the server-rendered conversation (which works without JavaScript) into a live chat over the JSON API:
// answers are sent with fetch, bubbles are appended, focus moves to the new question and it is announced.
// Anything unexpected falls back to the plain form POST, so the person is never stuck.
const main = document.querySelector("main.chat");
if (main) start(main);

function start(main) {
  const $ = (sel, root = document) => root.querySelector(sel);
  const api = main.dataset.api;
  const mapIds = (main.dataset.map || "").split(" ");
  const log = $("#log");
  const ask = $("#ask");
  const live = $("#announce");
  const csrf = ($("input[name=csrf_token]") || {}).value || "";
  const tpl = $("#map-template");
  const liveMap = $(".map", ask);
  const mapNode = tpl ? tpl.content.firstElementChild : liveMap && liveMap.cloneNode(true);
  let step = Number(main.dataset.step);
  let busy = false;

  const el = (tag, props = {}, ...kids) => {
    const node = Object.assign(document.createElement(tag), props);
    for (const kid of kids) if (kid != null) node.append(kid);
    return node;
  };
  const hidden = (name, value) => el("input", { type: "hidden", name, value });
  const say = (text) => { live.textContent = ""; setTimeout(() => { live.textContent = text; }, 50); };
  const label = (node) => node.textContent.replace(/\(your earlier answer\)|✓/g, "").replace(/\s+/g, " ").trim();

  async function send(path, body) {
    const response = await fetch(api + path, {
      method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body), credentials: "same-origin",
    });
    const data = await response.json().catch(() => ({}));
    return { status: response.status, data };
  }

  // --- showing things ---------------------------------------------------------------------------------------------
  function alertText(text) {
    const old = $(".alert", ask);
    if (old) old.remove();
    const box = el("p", { className: "alert", role: "alert", textContent: text });
    ask.prepend(box);
  }

  function turn(id, question, answer) {
    const form = el("form", { method: "post", action: main.dataset.rewind, className: "edit" },
      hidden("csrf_token", csrf), hidden("question_id", id),
      el("button", { type: "submit", className: "bubble me" }, el("span", { className: "vh", textContent: "Change your answer: " }),
        answer, el("span", { className: "pen", ariaHidden: "true", textContent: "✎" })));
    const item = el("li", { className: "turn enter" }, el("p", { className: "bubble bot", textContent: question }), form);
    item.dataset.q = id;
    log.append(item);
  }

  function chosen(value) { return value == null ? [] : [].concat(value); }

  function choiceReplies(q, picked) {
    return el("div", { className: "replies" }, ...q.options.map((o) => {
      const was = picked.includes(o.value);
      return el("button", { type: "submit", name: "value", value: o.value, className: "reply" + (was ? " was" : "") },
        o.label, was ? el("span", { className: "tag", textContent: " (your earlier answer)" }) : null);
    }));
  }

  function chips(q, picked) {
    return el("fieldset", { className: "chips" },
      el("legend", { className: "vh", textContent: q.text + " Choose all that apply." }),
      ...q.options.map((o) => el("label", { className: "chip" + (o.value === "none" ? " none" : "") },
        el("input", { type: "checkbox", name: "value", value: o.value, checked: picked.includes(o.value) }),
        el("span", { textContent: o.label }))));
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
    $(".picked", map).textContent = on.length ? "Picked: " + on.map(label).join(", ") : "Nothing picked yet.";
  }

  function showQuestion(conversation) {
    const q = conversation.question;
    const picked = chosen(q.suggested);
    step = conversation.step;
    const total = Math.max(conversation.progress.estimated_total, 1);
    const number = conversation.progress.answered + 1;
    $("#progress-n").textContent = number;
    $("#progress-t").textContent = total;
    Object.assign($("#progress"), { max: total, value: number - 1 });

    const type = mapIds.includes(q.id) && mapNode ? "map" : q.type;
    const form = el("form", { method: "post", action: $("#answer").action, className: "answer", id: "answer" },
      hidden("csrf_token", csrf), hidden("question_id", q.id), hidden("step", step));
    form.dataset.type = type;
    if (type === "choice") form.append(choiceReplies(q, picked));
    else form.append(type === "map" ? bodyMap(picked) : chips(q, picked),
      el("div", { className: "dock" }, el("button", { type: "submit", className: "btn primary done", textContent: "Done" })));
    const heading = el("h1", { className: "bubble bot q", id: "q-text", tabIndex: -1, textContent: q.text });
    const help = q.help ? el("details", { className: "why" }, el("summary", { textContent: "Why we ask" }),
      el("p", { textContent: q.help })) : null;
    ask.replaceChildren(...[heading, help, form].filter(Boolean));
    ask.classList.remove("enter");
    void ask.offsetWidth;
    ask.classList.add("enter");
    document.title = q.text + " – Muscle pain check-in";
    place(heading);
    say(`Question ${number} of about ${total}: ${q.text}`);
  }

  // Keep the answers in thumb reach: the whole question at the bottom of the screen when it fits, else its top.
  function place(heading) {
    heading.focus({ preventScroll: true });
    requestAnimationFrame(() => {  // a tap's trailing events must not leave focus on the page body
      if (document.activeElement === document.body) heading.focus({ preventScroll: true });
    });
    const bar = $(".bar");
    const room = window.innerHeight - (bar ? bar.offsetHeight : 0);
    const box = ask.getBoundingClientRect();
    if (box.height <= room) window.scrollBy(0, box.bottom - window.innerHeight);
    else window.scrollBy(0, heading.getBoundingClientRect().top - (bar ? bar.offsetHeight : 0) - 8);
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

  // --- events -----------------------------------------------------------------------------------------------------
  document.addEventListener("submit", async (event) => {
    const form = event.target;
    const isAnswer = form.id === "answer";
    if (!isAnswer && !form.classList.contains("edit")) return;
    event.preventDefault();
    if (busy) return;
    const submitter = event.submitter;
    let path, body, answer;
    if (isAnswer) {
      answer = answerOf(form, submitter);
      if (!answer) return;
      if (Array.isArray(answer.value) && !answer.value.length) {
        alertText("Please choose at least one answer, or “None of these”.");
        return;
      }
      path = "/answers";
      body = { question_id: form.elements.question_id.value, value: answer.value, step };
    } else {
      path = "/rewind";
      body = { question_id: form.elements.question_id.value };
    }
    busy = true;
    main.setAttribute("aria-busy", "true");
    try {
      const { status, data } = await send(path, body);
      if (status === 200) {
        if (isAnswer) turn(body.question_id, $("#q-text").textContent, answer.text);
        else {
          const item = log.querySelector(`[data-q="${CSS.escape(body.question_id)}"]`);
          let next = item;
          while (next) { const after = next.nextElementSibling; next.remove(); next = after; }
        }
        if (data.status === "finished") return location.assign(main.dataset.result);
        if (data.status !== "active") return location.assign(main.dataset.chat);
        showQuestion(data);
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
