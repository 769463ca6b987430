// The policy page's form editor: groups, members, seats and who is not counted, written into the
// JSON textarea (which stays the form's one field, and the editor without JavaScript), and checked
// by the registry (tpp.policy.check) as the draft changes, so a refusal is explained before saving.
"use strict";

(() => {
  const form = document.getElementById("policy-form");
  if (!form) {
    return;
  }
  const builder = document.getElementById("policy-builder");
  const list = document.getElementById("builder-groups");
  const template = document.getElementById("group-template");
  const textarea = document.getElementById("policy-json");
  const verdict = document.getElementById("policy-check");
  const candidates = JSON.parse(form.dataset.candidates);
  let frame = { scope: null, version: 1 }; // what the form does not edit, kept from the JSON
  let asked = 0; // the latest check sent: older answers are dropped
  let timer = null;

  function parsed() {
    try {
      const value = JSON.parse(textarea.value);
      return value && Array.isArray(value.groups) ? value : null;
    } catch (ignored) {
      return null; // the check names what is wrong with the text
    }
  }

  function choice(person, className, checked) {
    const label = document.createElement("label");
    label.className = "choice";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.className = className;
    box.value = person;
    box.checked = checked;
    label.append(box, ` ${person}`);
    return label;
  }

  // A group's fieldset, filled from its JSON form; people it names are offered even if not candidates.
  function groupEditor(group) {
    const node = template.content.firstElementChild.cloneNode(true);
    const members = new Set(group.members || []);
    const excluded = new Set(group.excluded || []);
    const people = Array.from(new Set([...candidates, ...members, ...excluded])).sort();
    node.querySelector(".group-name").value = group.name || "";
    node.querySelector(".group-seats").value = group.seats || 1;
    node.querySelector(".uploader").checked = Boolean(group.exclude_uploader);
    const [memberChoices, excludedChoices] = node.querySelectorAll(".choices");
    for (const person of people) {
      memberChoices.append(choice(person, "member", members.has(person)));
      excludedChoices.append(choice(person, "excluded", excluded.has(person)));
    }
    node.querySelector(".remove-group").addEventListener("click", () => {
      node.remove();
      changed();
    });
    return node;
  }

  // Only a member can be left uncounted: the other boxes are disabled, and cleared.
  function limitExclusions(node) {
    const members = new Set(Array.from(node.querySelectorAll(".member:checked"), (box) => box.value));
    for (const box of node.querySelectorAll(".excluded")) {
      box.disabled = !members.has(box.value);
      box.checked = box.checked && !box.disabled;
    }
  }

  function render(document_) {
    frame = { scope: document_.scope, version: document_.version };
    list.replaceChildren(...document_.groups.map(groupEditor));
    list.querySelectorAll(".group-editor").forEach(limitExclusions);
  }

  function written() {
    const groups = Array.from(list.querySelectorAll(".group-editor"), (node) => ({
      name: node.querySelector(".group-name").value.trim(),
      members: Array.from(node.querySelectorAll(".member:checked"), (box) => box.value),
      seats: Number(node.querySelector(".group-seats").value),
      exclude_uploader: node.querySelector(".uploader").checked,
      excluded: Array.from(node.querySelectorAll(".excluded:checked"), (box) => box.value),
    }));
    return { scope: frame.scope, version: frame.version, groups };
  }

  function show(answer) {
    verdict.replaceChildren();
    verdict.classList.toggle("error", !answer.valid);
    verdict.classList.toggle("ok", answer.valid);
    const head = document.createElement("p");
    if (!answer.valid) {
      head.textContent = `Refused: ${answer.reason}`;
      verdict.append(head);
      return;
    }
    head.textContent = `This policy can be satisfied. ${answer.effect} If everyone approved, the seats would go to:`;
    const seats = document.createElement("ul");
    for (const group of answer.seats) {
      const item = document.createElement("li");
      item.textContent = `${group.group}: ${group.filled_by.join(", ")}`;
      seats.append(item);
    }
    verdict.append(head, seats);
  }

  async function check() {
    const mine = ++asked;
    let answer;
    try {
      answer = await tpp.post(form.dataset.check, { policy: textarea.value });
    } catch (error) {
      answer = { valid: false, reason: tpp.explain(error) };
    }
    if (mine === asked) {
      show(answer);
    }
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(check, 250);
  }

  function changed() {
    list.querySelectorAll(".group-editor").forEach(limitExclusions);
    textarea.value = JSON.stringify(written(), null, 2);
    soon();
  }

  list.addEventListener("input", changed);
  list.addEventListener("change", changed);
  textarea.addEventListener("input", () => {
    const document_ = parsed();
    if (document_) {
      render(document_);
    }
    soon();
  });
  document.getElementById("add-group").addEventListener("click", () => {
    const number = list.querySelectorAll(".group-editor").length + 1;
    const node = groupEditor({ name: `group ${number}`, members: [], seats: 1 });
    list.append(node);
    limitExclusions(node);
    changed();
    node.querySelector(".group-name").focus();
  });

  const initial = parsed();
  if (initial) {
    render(initial);
    builder.hidden = false;
    document.getElementById("policy-advanced").open = false; // still one click away
  }
  check();
})();
