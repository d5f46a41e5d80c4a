// digitlab's drawing page: draw (or upload) a digit, ask /api/predict, show why.
// Plain JavaScript, no build step, nothing loaded from elsewhere.
"use strict";

(function () {
  const DEBOUNCE_MS = 120;
  const $ = (id) => document.getElementById(id);
  const pad = $("pad");
  // Strokes, pen and Undo: static/canvas.js, shared with the notebook pad.
  const canvas = drawingCanvas(pad, {
    onDraw: () => schedulePredict(),
    onStroke: () => predictNow(),
  });
  const drawn = canvas.state;
  const state = {
    upload: null,       // {file, image, dataUrl} of an uploaded picture
    timer: null,
    sent: 0,            // number of the latest request sent
    shown: 0,           // number of the latest answer shown
    classes: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
    inputMax: 16,
  };

  // ---- drawing ---------------------------------------------------------------

  const paint = canvas.paint;
  const isEmpty = canvas.isEmpty;

  function undo() {
    if (canvas.undo() === "background") state.upload = null;
    predictNow();
  }

  function clear() {
    state.upload = null;
    $("upload-input").value = "";
    canvas.show(null);
    predictNow();
  }

  // What the "that was a …" line says while no drawing has been saved.
  const SAVE_HINT = $("save-status").textContent;

  $("undo").addEventListener("click", undo);
  $("clear").addEventListener("click", clear);
  document.addEventListener("keydown", (event) => {
    const typing = event.target instanceof HTMLInputElement;
    if (typing) return;
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") {
      event.preventDefault();
      undo();
    } else if (event.key === "Escape") {
      clear();
    }
  });

  // ---- upload ----------------------------------------------------------------

  $("upload-input").addEventListener("change", () => {
    const file = $("upload-input").files[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => {
      const image = new Image();
      image.onload = () => {
        state.upload = { file, image, dataUrl: reader.result };
        canvas.show(image);
        predictNow();
      };
      image.onerror = () => {
        // The browser cannot show it; the server still says what is wrong with it.
        state.upload = null;
        canvas.show(null);
        send(uploadBody(file));
      };
      image.src = reader.result;
    };
    reader.readAsDataURL(file);
  });

  function uploadBody(file) {
    const form = new FormData();
    form.append("file", file, file.name);
    return { body: form };
  }

  // ---- asking the model ------------------------------------------------------

  function pictureDataUrl() {
    // An untouched upload goes as it is; anything drawn goes as the canvas.
    if (state.upload && drawn.strokes.length === 0) return state.upload.dataUrl;
    return pad.toDataURL("image/png");
  }

  // Live predictions get the drawing at half size, PREDICT_SIDE pixels square:
  // plenty for an 8×8 input, and a quarter of the pixels to send, decode and
  // prepare. Saved examples keep the whole canvas.
  const PREDICT_SIDE = 140;
  const half = document.createElement("canvas");
  half.width = PREDICT_SIDE;
  half.height = PREDICT_SIDE;

  function predictionDataUrl() {
    if (state.upload && drawn.strokes.length === 0) return state.upload.dataUrl;
    const c = half.getContext("2d");
    c.imageSmoothingEnabled = true;
    c.imageSmoothingQuality = "high";
    c.drawImage(pad, 0, 0, PREDICT_SIDE, PREDICT_SIDE);
    return half.toDataURL("image/png");
  }

  function schedulePredict() {
    clearTimeout(state.timer);
    state.timer = setTimeout(predictNow, DEBOUNCE_MS);
  }

  function predictNow() {
    clearTimeout(state.timer);
    state.timer = null;
    if (isEmpty()) {
      state.sent += 1;
      state.shown = state.sent;
      showEmpty();
      // The message about a saved drawing goes with the drawing.
      $("save-status").textContent = SAVE_HINT;
      return;
    }
    if (state.upload && drawn.strokes.length === 0 && !drawn.current) {
      send(uploadBody(state.upload.file));
    } else {
      send({
        body: JSON.stringify({ image: predictionDataUrl() }),
        headers: { "Content-Type": "application/json" },
      });
    }
  }

  async function send(request) {
    const number = ++state.sent;
    document.body.dataset.state = "predicting";
    let response, answer;
    try {
      response = await fetch("/api/predict", { method: "POST", ...request });
      answer = await response.json();
    } catch (err) {
      answer = { detail: "The digitlab server did not answer; is it still running?" };
      response = { ok: false };
    }
    if (number < state.shown) return; // a newer answer is already on screen
    state.shown = number;
    if (number === state.sent) document.body.dataset.state = "ready";
    if (response.ok) showPrediction(answer);
    else showProblem(answer.detail || "Something went wrong.");
  }

  // ---- showing the answer ----------------------------------------------------

  function buildVotes() {
    const list = $("votes");
    list.replaceChildren();
    for (const label of state.classes) {
      const li = document.createElement("li");
      li.dataset.label = label;
      li.innerHTML =
        '<span class="vlabel"></span><span class="track" role="meter" aria-valuemin="0" ' +
        'aria-valuemax="100" aria-valuenow="0"><span class="fill"></span></span>' +
        '<span class="share">0 %</span>';
      li.querySelector(".vlabel").textContent = label;
      li.querySelector(".track").setAttribute("aria-label", "votes for " + label);
      list.appendChild(li);
    }
  }

  function buildGrid(rows, cols) {
    const grid = $("grid");
    grid.replaceChildren();
    grid.style.gridTemplateColumns = "repeat(" + cols + ", 1fr)";
    for (let i = 0; i < rows * cols; i++) {
      const cell = document.createElement("div");
      cell.className = "cell";
      cell.textContent = "0";
      grid.appendChild(cell);
    }
    grid.classList.add("empty");
  }

  function setVotes(votes, digit) {
    for (const li of $("votes").children) {
      const share = votes ? votes[li.dataset.label] || 0 : 0;
      const pct = Math.round(share * 100);
      li.querySelector(".fill").style.width = share * 100 + "%";
      li.querySelector(".share").textContent = pct + " %";
      li.querySelector(".track").setAttribute("aria-valuenow", String(pct));
      li.classList.toggle("top", votes !== null && li.dataset.label === digit);
    }
  }

  function setGrid(input, max) {
    const cells = $("grid").children;
    const flat = input ? input.flat() : null;
    $("grid").classList.toggle("empty", !flat);
    for (let i = 0; i < cells.length; i++) {
      const value = flat ? flat[i] : 0;
      cells[i].style.background = shade(value, max);
      cells[i].classList.toggle("dark", value / max > 0.5);
      cells[i].textContent = Number.isInteger(value) ? String(value) : value.toFixed(1);
    }
  }

  function setNeighbors(neighbors, digit, max) {
    const list = $("neighbors");
    list.replaceChildren();
    for (const n of neighbors || []) {
      const li = document.createElement("li");
      li.className = "neighbor" + (n.label === digit ? " agree" : "") + (n.yours ? " yours" : "");
      li.dataset.label = n.label;
      li.dataset.distance = String(n.distance);
      li.dataset.yours = n.yours ? "true" : "false";
      const side = Math.round(Math.sqrt(n.pixels.length));
      const canvas = digitCanvas(n.pixels, [side, side], max);
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", (n.yours ? "your example of " : "training digit ") + n.label);
      const label = document.createElement("span");
      label.className = "nlabel";
      label.textContent = n.label;
      const dist = document.createElement("span");
      dist.className = "ndist";
      dist.textContent = "d = " + n.distance.toFixed(1);
      dist.title = "distance to your digit, training row " + n.index;
      li.append(canvas, label, dist);
      if (n.yours) {
        const mark = document.createElement("span");
        mark.className = "nyours";
        mark.textContent = "yours";
        mark.title = "one of the examples you taught the model (or a slightly slanted copy of one)";
        li.appendChild(mark);
      }
      list.appendChild(li);
    }
  }

  function showPrediction(answer) {
    $("error").hidden = true;
    $("digit").textContent = answer.digit;
    const k = answer.neighbors.length;
    const pct = Math.round(answer.confidence * 100);
    if (answer.explained_by === "neighbors") {
      const yours = answer.neighbors.filter((n) => n.yours).length;
      $("confidence").textContent =
        pct + " % of the " + k + " nearest training digits say " + answer.digit +
        (yours === 0 ? "." : yours === k ? " (all of them your examples)."
          : " (" + yours + " of them your examples).");
    } else if (answer.explained_by === "probabilities") {
      $("confidence").textContent =
        "The model gives " + answer.digit + " a probability of " + pct + " %.";
    } else {
      $("confidence").textContent =
        "The model decides " + answer.digit + " (it gives no vote shares).";
    }
    $("neighbors-note").hidden = answer.explained_by === "neighbors";
    $("neighbors-hint").hidden = answer.explained_by !== "neighbors";
    $("quick").innerHTML = "";
    $("quick").append("The model says ", strong(answer.digit), " (" + pct + " %)");
    setVotes(answer.votes, answer.digit);
    if ($("grid").children.length !== answer.input.length * answer.input[0].length) {
      buildGrid(answer.input.length, answer.input[0].length);
    }
    setGrid(answer.input, answer.input_max);
    setNeighbors(answer.neighbors, answer.digit, answer.input_max);
    setLabelButtons(true);
  }

  function strong(text) {
    const b = document.createElement("strong");
    b.textContent = text;
    return b;
  }

  function showEmpty() {
    document.body.dataset.state = "ready";
    $("quick").textContent = "";
    $("error").hidden = true;
    $("digit").textContent = "?";
    $("confidence").textContent = "Draw a digit to begin.";
    setVotes(null, null);
    setGrid(null, state.inputMax);
    setNeighbors([], null, state.inputMax);
    setLabelButtons(false);
  }

  function showProblem(sentence) {
    $("quick").textContent = sentence;
    $("digit").textContent = "?";
    $("confidence").textContent = "";
    $("error").textContent = sentence;
    $("error").hidden = false;
    setVotes(null, null);
    setGrid(null, state.inputMax);
    setNeighbors([], null, state.inputMax);
    setLabelButtons(false);
  }

  // ---- "that was a ..." ------------------------------------------------------

  function buildLabelButtons() {
    const row = $("label-buttons");
    row.replaceChildren();
    for (const label of state.classes) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = label;
      button.dataset.label = label;
      button.setAttribute("aria-label", "that was a " + label + ": save the drawing as a " + label);
      button.addEventListener("click", () => saveExample(label));
      row.appendChild(button);
    }
    setLabelButtons(false);
  }

  function setLabelButtons(enabled) {
    for (const b of $("label-buttons").children) b.disabled = !enabled;
  }

  async function saveExample(label) {
    const status = $("save-status");
    status.textContent = "Saving…";
    let response, answer;
    try {
      response = await fetch("/api/examples", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ image: pictureDataUrl(), label }),
      });
      answer = await response.json();
    } catch (err) {
      status.textContent = "The digitlab server did not answer; is it still running?";
      return;
    }
    if (!response.ok) {
      status.textContent = answer.detail;
      return;
    }
    const many = answer.count === 1 ? "1 example" : answer.count + " examples";
    status.textContent =
      "Saved as " + answer.path + " (" + many + " of " + answer.label + " in " + answer.folder + ")" +
      (answer.learned ? " and learned: the next answer uses it." : ".");
    showExampleCount(answer.n_examples, answer.learned);
    // Learned: ask again, so the answer on screen is the model's new one.
    if (answer.learned && !isEmpty()) predictNow();
  }

  function showExampleCount(n, learns) {
    const line = $("examples-count");
    if (!learns) {
      line.textContent = "";
      return;
    }
    line.textContent = n === 0
      ? "The model has learned none of your examples yet."
      : "The model has learned " + n + (n === 1 ? " example" : " examples") + " of yours.";
    line.dataset.count = String(n);
  }

  // ---- start -----------------------------------------------------------------

  async function start() {
    buildVotes();
    buildGrid(8, 8);
    buildLabelButtons();
    paint();
    showEmpty();
    try {
      const info = await (await fetch("/api/model")).json();
      state.classes = info.classes;
      buildVotes();
      buildGrid(info.input_shape[0], info.input_shape[1]);
      buildLabelButtons();
      showEmpty();
      if (info.pipeline === "upright8x8") {
        // The default model's preparation also takes the writer's slant out.
        $("input-note").textContent = "Your drawing straightened (its slant taken " +
          "out) and shrunk to the model's input: 8×8 cells, each counting ink " +
          "from 0 to 16.";
      }
      const parts = [];
      parts.push(info.description + (info.recipe ? " (recipe " + info.recipe + ")" : ""));
      // The user's examples (and their copies) are counted apart.
      const rows = info.n_train - info.n_example_rows;
      const n = rows.toLocaleString("en");
      // The default model adds copies to scikit-learn's 1,797 digits.
      parts.push(info.data !== "digits"
        ? "trained on " + n + " digits of " + info.data
        : rows === 1797
          ? "trained on scikit-learn's 1,797 digits"
          : "trained on " + n + " rows made from scikit-learn's 1,797 digits");
      if (info.accuracy !== null) parts.push("test accuracy " + (info.accuracy * 100).toFixed(1) + " %");
      $("model-line").textContent = "Model: " + parts.join(" · ");
      if (info.accuracy_note) $("model-line").title = info.accuracy_note;
      showExampleCount(info.n_examples, info.learns_examples);
    } catch (err) {
      $("model-line").textContent = "Could not reach the digitlab server.";
    }
    document.body.dataset.state = "ready";
  }

  start();
})();
