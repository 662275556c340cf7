/// The page `nanowm play` serves: written here, with no external script, font or stylesheet,
/// so it works offline. It draws each frame the server sends (upscaled without smoothing),
/// sends the keys held, and keeps its state in `window.nanowm` for tests and curious users.
enum PlayPage {
    static let html = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <title>nanowm play</title>
    <style>
      body { font: 14px system-ui, sans-serif; margin: 24px; background: #16181d; color: #e6e6e6; }
      h1 { font-size: 18px; margin: 0 0 12px; }
      .frames { display: flex; gap: 16px; }
      figure { margin: 0; }
      figcaption { color: #9aa0a6; margin-top: 4px; }
      img.frame { width: 384px; height: 384px; image-rendering: pixelated; background: #000; border: 1px solid #333; }
      button { font: inherit; margin: 12px 6px 0 0; padding: 6px 12px; background: #2b2f38; color: #e6e6e6; border: 1px solid #444; border-radius: 4px; cursor: pointer; }
      button.on { background: #8b1e1e; }
      #stats { margin-top: 10px; font-variant-numeric: tabular-nums; }
      #keys { color: #9aa0a6; margin-top: 10px; }
      #log { white-space: pre-wrap; color: #9aa0a6; margin-top: 10px; font-size: 12px; }
      #error { color: #ff8a80; margin-top: 10px; }
      code { color: #c8e1ff; }
    </style>
    </head>
    <body>
    <h1>nanowm play</h1>
    <div class="frames">
      <figure><img id="model" class="frame" alt="the model's frame"><figcaption>world model</figcaption></figure>
      <figure id="simulatorFigure" hidden><img id="simulator" class="frame" alt="the simulator's frame"><figcaption>true simulator, same actions</figcaption></figure>
    </div>
    <div>
      <button id="pause">pause</button><button id="step">step once</button><button id="reset">reset</button><button id="newStart">new start</button><button id="record">record</button>
    </div>
    <div id="stats">connecting…</div>
    <div id="keys"></div>
    <div id="error"></div>
    <div id="log"></div>
    <script>
    "use strict";
    const state = window.nanowm = { connected: false, hello: null, frames: 0, lastFrame: null, lastAction: null, lastIndex: -1,
                                    held: [], paused: false, recording: false, recorded: [], errors: [], stepMs: 0, fps: 0,
                                    pageMs: 0, pageTimed: 0 };
    const socket = new WebSocket(`ws://${location.host}/session`);
    const $ = (id) => document.getElementById(id);
    const send = (message) => { if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message)); };
    const held = new Set();
    let arrivals = [];
    // The browser's own share of a frame: from the message's arrival to the first paint after the
    // frame's PNG is decoded (a running mean over the last 30 frames), so it includes the wait for
    // the display's next frame. Shown beside the model's time: a latency the player sees, which
    // limits the frame rate only when it exceeds the time between frames.
    let pageTimes = [];
    function timePage(image, arrived) {
      image.decode().then(() => requestAnimationFrame(() => {
        pageTimes.push(performance.now() - arrived);
        pageTimes = pageTimes.slice(-30);
        state.pageMs = pageTimes.reduce((a, b) => a + b, 0) / pageTimes.length;
        state.pageTimed += 1;
      })).catch(() => {});  // a frame replaced before it decoded is not timed
    }
    let seed = 0;

    function sendKeys() { state.held = [...held].sort(); send({ type: "keys", held: state.held }); }

    socket.onopen = () => { state.connected = true; };
    socket.onclose = () => { state.connected = false; $("stats").textContent = "disconnected (the server stopped?)"; };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "hello") {
        state.hello = message;
        seed = message.seed;
        $("simulatorFigure").hidden = !message.simulator;
        const keys = Object.keys(message.keys).sort().map((k) => `<code>${k}</code> → [${message.keys[k].map((v) => v.toFixed(2)).join(", ")}]`);
        $("keys").innerHTML = `${message.note || ""}<br>keys (summed while held, from rest [${message.rest.join(", ")}]): ${keys.join(" · ")}<br>` +
          `context: ${message.context} · ${message.history} context frames · ${message.steps} DDIM steps · ` +
          `${message.cached ? "cached causal sampling" : "whole-window sampling"} · recordings go to <code>${message.recordings}</code>`;
      } else if (message.type === "frame") {
        const arrived = performance.now();
        $("model").src = message.model;
        timePage($("model"), arrived);
        if (message.simulator) $("simulator").src = message.simulator;
        state.frames += 1;
        state.lastFrame = message.model;
        state.lastIndex = message.index;
        state.lastAction = message.action || null;
        state.stepMs = message.stepMs;
        const now = performance.now();
        arrivals.push(now);
        arrivals = arrivals.filter((t) => now - t < 2000);
        state.fps = arrivals.length > 1 ? (arrivals.length - 1) / ((now - arrivals[0]) / 1000) : 0;
        const action = message.action ? `[${message.action.map((v) => v.toFixed(2)).join(", ")}]` : "context";
        $("stats").textContent = `frame ${message.index} · ${state.fps.toFixed(1)} frames/s · model ${message.stepMs.toFixed(1)} ms/frame · ` +
          `page ${state.pageMs.toFixed(1)} ms to screen · action ${action}` +
          (message.recording ? " · recording" : "");
      } else if (message.type === "recording") {
        state.recording = true;
        $("record").textContent = "stop recording"; $("record").classList.add("on");
      } else if (message.type === "recorded") {
        state.recording = false;
        state.recorded.push(message);
        $("record").textContent = "record"; $("record").classList.remove("on");
        $("log").textContent += `recorded ${message.frames} frames: ${message.video}\nreplay: ${message.replay}\n`;
      } else if (message.type === "error") {
        state.errors.push(message.message);
        $("error").textContent = message.message;
      }
    };

    document.addEventListener("keydown", (event) => {
      if (!state.hello || !(event.code in state.hello.keys)) return;
      event.preventDefault();
      if (!held.has(event.code)) { held.add(event.code); sendKeys(); }
    });
    document.addEventListener("keyup", (event) => {
      if (held.delete(event.code)) { event.preventDefault(); sendKeys(); }
    });
    window.addEventListener("blur", () => { if (held.size) { held.clear(); sendKeys(); } });

    $("pause").onclick = () => {
      state.paused = !state.paused;
      send({ type: state.paused ? "pause" : "resume" });
      $("pause").textContent = state.paused ? "resume" : "pause";
    };
    $("step").onclick = () => send({ type: "step" });
    $("reset").onclick = () => send({ type: "reset" });
    $("newStart").onclick = () => { seed += 1000; send({ type: "reset", seed }); };
    $("record").onclick = () => send({ type: "record" });
    </script>
    </body>
    </html>
    """#
}
