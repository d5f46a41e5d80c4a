// The drawing canvas that the page of `digitlab serve` (web/static/app.js) and
// the notebook pad (static/pad.js) share: strokes drawn with a mouse, a finger
// or a pen (a pen pressing harder draws thicker), a picture shown behind them,
// Undo and Clear; and the shades both draw a model input with. Plain
// JavaScript, no build step: the page loads this file as a script before
// app.js; the pad's module is this file followed by pad.js.

// The gray of one input value: paper white at 0, ink black at `max`.
function shade(value, max) {
  const v = Math.max(0, Math.min(1, value / max));
  const level = Math.round(255 * (1 - v));
  return "rgb(" + level + "," + level + "," + level + ")";
}

// A training digit's pixels (a flat list of rows × cols values) as a small
// canvas, one pixel each, shaded as the input is.
function digitCanvas(pixels, shape, max) {
  const [rows, cols] = shape;
  const canvas = document.createElement("canvas");
  canvas.width = cols;
  canvas.height = rows;
  const c = canvas.getContext("2d");
  const img = c.createImageData(cols, rows);
  for (let i = 0; i < pixels.length; i++) {
    const level = Math.round(255 * (1 - Math.max(0, Math.min(1, pixels[i] / max))));
    img.data.set([level, level, level, 255], i * 4);
  }
  c.putImageData(img, 0, 0);
  return canvas;
}

// Drawing on the canvas element `pad`: `onDraw()` is called while a stroke is
// drawn, `onStroke()` when it ends. Returns the drawing's state and controls.
function drawingCanvas(pad, { onDraw, onStroke }) {
  const ctx = pad.getContext("2d");
  const state = {
    strokes: [],      // each stroke: {width, points: [[x, y], ...]}
    current: null,    // the stroke being drawn
    background: null, // an Image shown behind the strokes
  };

  function penWidth() { return Math.round(pad.width / 13); }

  function paint() {
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, pad.width, pad.height);
    if (state.background) {
      const img = state.background;
      const scale = Math.min(pad.width / img.width, pad.height / img.height);
      const w = img.width * scale, h = img.height * scale;
      ctx.drawImage(img, (pad.width - w) / 2, (pad.height - h) / 2, w, h);
    }
    ctx.strokeStyle = "#111111";
    ctx.fillStyle = "#111111";
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    const all = state.current ? state.strokes.concat([state.current]) : state.strokes;
    for (const stroke of all) {
      const pts = stroke.points;
      ctx.lineWidth = stroke.width;
      if (pts.length === 1) {
        ctx.beginPath();
        ctx.arc(pts[0][0], pts[0][1], stroke.width / 2, 0, 2 * Math.PI);
        ctx.fill();
        continue;
      }
      ctx.beginPath();
      ctx.moveTo(pts[0][0], pts[0][1]);
      for (let i = 1; i < pts.length; i++) ctx.lineTo(pts[i][0], pts[i][1]);
      ctx.stroke();
    }
  }

  function padPoint(event) {
    const box = pad.getBoundingClientRect();
    return [
      ((event.clientX - box.left) / box.width) * pad.width,
      ((event.clientY - box.top) / box.height) * pad.height,
    ];
  }

  pad.addEventListener("pointerdown", (event) => {
    if (event.button !== 0 && event.pointerType === "mouse") return;
    event.preventDefault();
    pad.focus({ preventScroll: true });
    pad.setPointerCapture(event.pointerId);
    // A pen presses harder for thicker lines; mouse and finger use the plain pen.
    const pressure = event.pointerType === "pen" && event.pressure > 0 ? event.pressure : 0.5;
    state.current = { width: penWidth() * (0.75 + pressure / 2), points: [padPoint(event)] };
    paint();
  });

  pad.addEventListener("pointermove", (event) => {
    if (!state.current || !pad.hasPointerCapture(event.pointerId)) return;
    event.preventDefault();
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    for (const e of events.length ? events : [event]) state.current.points.push(padPoint(e));
    paint();
    onDraw();
  });

  function endStroke(event) {
    if (!state.current) return;
    if (pad.hasPointerCapture(event.pointerId)) pad.releasePointerCapture(event.pointerId);
    state.strokes.push(state.current);
    state.current = null;
    paint();
    onStroke();
  }
  pad.addEventListener("pointerup", endStroke);
  pad.addEventListener("pointercancel", endStroke);

  return {
    state,
    paint,
    // Nothing drawn, nothing being drawn, no picture behind.
    isEmpty() {
      return state.strokes.length === 0 && !state.current && !state.background;
    },
    // Takes back the last stroke, else the picture: "stroke", "background" or
    // null when there was nothing to take back.
    undo() {
      let taken = null;
      if (state.strokes.length) {
        state.strokes.pop();
        taken = "stroke";
      } else if (state.background) {
        state.background = null;
        taken = "background";
      }
      paint();
      return taken;
    },
    // Shows `image` (an Image, or null) with no strokes: a fresh start.
    show(image) {
      state.strokes = [];
      state.current = null;
      state.background = image;
      paint();
    },
  };
}
