// digitlab's drawing pad for notebooks (an anywidget ES module).
// The front end only draws and sends the drawing; the kernel answers with the
// same explain() the web page uses. Plain JavaScript, no build step, nothing
// loaded from elsewhere. The drawing logic follows the web page's app.js.

const DEBOUNCE_MS = 120;

const TEMPLATE = `
<div class="dl-model muted"></div>
<div class="dl-columns">
  <section class="dl-draw">
    <canvas class="dl-canvas" width="280" height="280" tabindex="0" role="img"
            aria-label="Drawing area: draw one digit with the mouse, a finger or a pen"></canvas>
    <div class="dl-tools">
      <button type="button" class="dl-undo" title="Undo the last stroke (Ctrl+Z)">Undo</button>
      <button type="button" class="dl-clear" title="Clear the drawing">Clear</button>
    </div>
    <p class="dl-hint muted">One digit, large, in the middle. Mouse, finger or pen; Ctrl+Z undoes.</p>
  </section>
  <fieldset class="dl-teach">
    <legend>That was a …</legend>
    <div class="dl-labels"></div>
    <p class="dl-status muted" role="status" aria-live="polite"></p>
  </fieldset>
  <section class="dl-answer-side">
    <div class="dl-answer" aria-live="polite" aria-atomic="true">
      <output class="dl-digit" aria-label="predicted digit">?</output>
      <p class="dl-confidence muted">Draw a digit to begin.</p>
    </div>
    <p class="dl-error" role="alert" hidden></p>
    <h4>Votes</h4>
    <ol class="dl-votes" aria-label="vote share for each digit"></ol>
    <div class="dl-two">
      <div>
        <h4>What the model sees</h4>
        <div class="dl-grid" role="img" aria-label="the model input"></div>
      </div>
      <div>
        <h4>Nearest training digits</h4>
        <ol class="dl-neighbors" aria-label="nearest training digits"></ol>
        <p class="dl-neighbors-note muted" hidden>This model does not decide by its nearest training digits, so there are none to show.</p>
      </div>
    </div>
  </section>
</div>`;

function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "digitlab-pad";
  // JupyterLab's keyboard shortcuts (z, Ctrl+Z on cells...) stay out of the pad.
  root.setAttribute("data-lm-suppress-shortcuts", "true");
  root.innerHTML = TEMPLATE;
  root.dataset.state = "ready";
  el.appendChild(root);
  const $ = (name) => root.querySelector(".dl-" + name);
  const pad = $("canvas");
  // Strokes, pen and Undo: canvas.js (shared with the page), which Python puts
  // before this file in the widget's module.
  const canvas = drawingCanvas(pad, {
    onDraw: () => schedule(),
    onStroke: () => sendNow(),
  });
  const state = {
    sentImage: model.get("image"),
    timer: null,
  };

  // ---- drawing ---------------------------------------------------------------

  const paint = canvas.paint;
  const isEmpty = canvas.isEmpty;

  function undo() {
    if (canvas.undo() !== null) sendNow();
  }

  function clear() {
    canvas.show(null);
    sendNow();
  }

  function onKey(event) {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") {
      event.preventDefault();
      event.stopPropagation();
      undo();
    }
  }

  root.addEventListener("keydown", onKey);
  $("undo").addEventListener("click", undo);
  $("clear").addEventListener("click", clear);

  // ---- sending the drawing -------------------------------------------------

  function schedule() {
    clearTimeout(state.timer);
    state.timer = setTimeout(sendNow, DEBOUNCE_MS);
  }

  function sendNow() {
    clearTimeout(state.timer);
    state.timer = null;
    const image = isEmpty() ? "" : pad.toDataURL("image/png");
    state.sentImage = image;
    root.dataset.state = "predicting";
    model.set("image", image);
    model.set("_drawn", model.get("_drawn") + 1);
    model.save_changes();
  }

  // A picture set in the kernel (pad.picture = ...) is shown on the canvas.
  function onImage() {
    const image = model.get("image");
    if (image === state.sentImage) return;
    state.sentImage = image;
    canvas.show(null);
    if (!image) return;
    const img = new Image();
    img.onload = () => {
      if (state.sentImage !== image) return;
      canvas.show(img);
    };
    img.src = image;
  }

  // ---- showing the answer --------------------------------------------------

  function info() { return model.get("model_info") || {}; }
  function classes() { return info().classes || ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]; }
  function inputShape() { return info().input_shape || [8, 8]; }
  function inputMax() { return info().input_max || 16; }

  function buildVotes() {
    const list = $("votes");
    list.replaceChildren();
    for (const label of classes()) {
      const li = document.createElement("li");
      li.dataset.label = label;
      li.innerHTML =
        '<span class="dl-vlabel"></span><span class="dl-track" role="meter" aria-valuemin="0" ' +
        'aria-valuemax="100" aria-valuenow="0"><span class="dl-fill"></span></span>' +
        '<span class="dl-share">0 %</span>';
      li.querySelector(".dl-vlabel").textContent = label;
      li.querySelector(".dl-track").setAttribute("aria-label", "votes for " + label);
      list.appendChild(li);
    }
  }

  function buildGrid() {
    const [rows, cols] = inputShape();
    const grid = $("grid");
    grid.replaceChildren();
    grid.style.gridTemplateColumns = "repeat(" + cols + ", 1fr)";
    for (let i = 0; i < rows * cols; i++) {
      const cell = document.createElement("div");
      cell.className = "dl-cell";
      cell.textContent = "0";
      grid.appendChild(cell);
    }
    // Large inputs (28×28) are shown as shades only: numbers would not fit.
    grid.classList.toggle("dl-dense", cols > 12);
  }

  function buildLabels() {
    const row = $("labels");
    row.replaceChildren();
    for (const label of classes()) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = label;
      button.dataset.label = label;
      button.setAttribute("aria-label", "that was a " + label + ": teach the model this drawing as a " + label);
      button.addEventListener("click", () => {
        if (state.timer) sendNow(); // the kernel teaches the drawing as it is now
        root.dataset.teaching = label;
        model.send({ type: "teach", label });
      });
      row.appendChild(button);
    }
  }

  function setVotes(votes, digit) {
    for (const li of $("votes").children) {
      const share = votes ? votes[li.dataset.label] || 0 : 0;
      const pct = Math.round(share * 100);
      li.querySelector(".dl-fill").style.width = share * 100 + "%";
      li.querySelector(".dl-share").textContent = pct + " %";
      li.querySelector(".dl-track").setAttribute("aria-valuenow", String(pct));
      li.classList.toggle("dl-top", votes !== null && li.dataset.label === digit);
    }
  }

  function setGrid(input) {
    const cells = $("grid").children;
    const flat = input ? input.flat() : null;
    const max = inputMax();
    $("grid").classList.toggle("dl-empty", !flat);
    for (let i = 0; i < cells.length; i++) {
      const value = flat ? flat[i] : 0;
      cells[i].style.background = shade(value, max);
      cells[i].classList.toggle("dl-dark", value / max > 0.5);
      cells[i].textContent = Number.isInteger(value) ? String(value) : value.toFixed(1);
    }
  }

  function setNeighbors(neighbors, digit) {
    const list = $("neighbors");
    list.replaceChildren();
    for (const n of neighbors || []) {
      const li = document.createElement("li");
      const yours = Boolean(n.yours); // one of the user's taught drawings
      li.className = "dl-neighbor" + (n.label === digit ? " dl-agree" : "") + (yours ? " dl-yours" : "");
      li.dataset.label = n.label;
      li.dataset.distance = String(n.distance);
      li.dataset.index = String(n.index);
      const canvas = digitCanvas(n.pixels, inputShape(), inputMax());
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", (yours ? "your digit " : "training digit ") + n.label);
      const label = document.createElement("span");
      label.className = "dl-nlabel";
      label.textContent = n.label;
      const dist = document.createElement("span");
      dist.className = "dl-ndist";
      dist.textContent = "d = " + n.distance.toFixed(1);
      dist.title = "distance to your digit, training row " + n.index;
      li.append(canvas, label, dist);
      if (yours) {
        const tag = document.createElement("span");
        tag.className = "dl-ntag";
        tag.textContent = "yours";
        li.append(tag);
      }
      list.appendChild(li);
    }
  }

  function setLabelButtons(enabled) {
    // A model that does not decide by neighbors cannot learn a drawing.
    const on = enabled && info().can_learn !== false;
    for (const b of $("labels").children) b.disabled = !on;
  }

  function showModel() {
    const i = info();
    if (!i.classes) return;
    const parts = [i.description + (i.recipe ? " (recipe " + i.recipe + ")" : "")];
    const n = Number(i.n_train).toLocaleString("en");
    parts.push(i.data !== "digits"
      ? "trained on " + n + " rows of " + i.data
      : i.n_train === 1797 ? "trained on scikit-learn's 1,797 digits"
        : "trained on " + n + " rows made from scikit-learn's 1,797 digits");
    if (i.n_examples) parts.push("holds " + i.n_examples + " of your drawings");
    if (i.accuracy !== null && i.accuracy !== undefined) {
      parts.push("test accuracy " + (i.accuracy * 100).toFixed(1) + " %");
    }
    $("model").textContent = "Model: " + parts.join(" · ");
    $("model").title = i.accuracy_note || "";
    const taught = i.n_examples || 0;
    if (!model.get("status")) {
      $("status").textContent = taught
        ? "The model holds " + taught + " of your drawings."
        : "Teach the model your handwriting: draw a digit, then press its true label"
          + (i.examples ? " (saved in " + i.examples + ")." : ".");
    }
  }

  function showAnswer() {
    const answer = model.get("prediction");
    const message = model.get("message");
    const error = $("error");
    if (answer) {
      error.hidden = true;
      $("digit").textContent = answer.digit;
      const k = answer.neighbors.length;
      const pct = Math.round(answer.confidence * 100);
      if (answer.explained_by === "neighbors") {
        $("confidence").textContent =
          pct + " % of the " + k + " nearest training digits say " + answer.digit + ".";
      } else if (answer.explained_by === "probabilities") {
        $("confidence").textContent = "The model gives " + answer.digit + " a probability of " + pct + " %.";
      } else {
        $("confidence").textContent = "The model decides " + answer.digit + " (it gives no vote shares).";
      }
      $("neighbors-note").hidden = answer.explained_by === "neighbors";
      setVotes(answer.votes, answer.digit);
      setGrid(answer.input);
      setNeighbors(answer.neighbors, answer.digit);
      setLabelButtons(true);
      return;
    }
    $("digit").textContent = "?";
    $("confidence").textContent = message ? "" : "Draw a digit to begin.";
    error.textContent = message;
    error.hidden = !message;
    $("neighbors-note").hidden = true;
    setVotes(null, null);
    setGrid(null);
    setNeighbors([], null);
    setLabelButtons(false);
  }

  function onAnswered() {
    if (model.get("_answered") >= model.get("_drawn")) root.dataset.state = "ready";
  }

  function onStatus() {
    $("status").textContent = model.get("status");
    delete root.dataset.teaching;
    showModel();
  }

  function onInfo() {
    buildVotes();
    buildGrid();
    buildLabels();
    showModel();
    showAnswer();
  }

  const handlers = [
    ["change:prediction", showAnswer],
    ["change:message", showAnswer],
    ["change:_answered", onAnswered],
    ["change:image", onImage],
    ["change:status", onStatus],
    ["change:n_taught", showModel],
    ["change:model_info", onInfo],
  ];
  for (const [name, handler] of handlers) model.on(name, handler);

  onInfo();
  state.sentImage = null;
  onImage();
  paint();

  return () => {
    clearTimeout(state.timer);
    for (const [name, handler] of handlers) model.off(name, handler);
  };
}

export default { render };
