/// The point-cloud viewer's page: WebGL 1 written here (no library, no CDN: it works offline).
/// It fetches `scene.json` (counts per frame, cameras, the file's name) and `points.bin` (float32
/// x, y, z of every point, then their r, g, b bytes); drag turns the view, the wheel zooms, the
/// timeline shows one frame's points or all of them, and each camera is drawn as a frustum.
/// `window.nanowm` tells tests what is drawn.
enum ViewerPage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>nanowm view</title>
<style>
  html, body { margin: 0; height: 100%; background: #101216; color: #d8dde6; font: 14px system-ui, sans-serif; overflow: hidden; }
  #view { position: absolute; inset: 0; width: 100%; height: 100%; display: block; cursor: grab; }
  #panel { position: absolute; left: 12px; top: 12px; background: rgba(20,23,29,.85); padding: 10px 12px; border-radius: 8px; }
  #panel label { display: block; margin: 6px 0 0; }
  #panel input[type=range] { width: 220px; vertical-align: middle; }
  #info { opacity: .8; }
  #error { color: #ff8a80; }
</style>
</head>
<body>
<canvas id="view"></canvas>
<div id="panel">
  <div id="info">loading …</div>
  <label>frame <input id="frame" type="range" min="0" max="0" value="0"> <span id="frameText">all</span></label>
  <label>point size <input id="size" type="range" min="1" max="10" step="0.5" value="2"> <span id="sizeText">2</span></label>
  <label><input id="frusta" type="checkbox" checked> cameras</label>
  <div id="error"></div>
</div>
<script>
"use strict";
window.nanowm = { ready: false, drawn: 0 };
const canvas = document.getElementById('view');
const gl = canvas.getContext('webgl', { preserveDrawingBuffer: true, antialias: true });
const fail = (text) => { document.getElementById('error').textContent = text; window.nanowm.error = text; };

function mul(a, b) {  // column-major 4x4 products, as WebGL reads them
  const r = new Float32Array(16);
  for (let c = 0; c < 4; c++) for (let row = 0; row < 4; row++) {
    let s = 0; for (let k = 0; k < 4; k++) s += a[k * 4 + row] * b[c * 4 + k]; r[c * 4 + row] = s;
  }
  return r;
}
function perspective(fovy, aspect, near, far) {
  const f = 1 / Math.tan(fovy / 2), r = new Float32Array(16);
  r[0] = f / aspect; r[5] = f; r[10] = (far + near) / (near - far); r[11] = -1; r[14] = 2 * far * near / (near - far);
  return r;
}
function lookAt(eye, target, up) {
  const sub = (a, b) => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
  const norm = (v) => { const l = Math.hypot(v[0], v[1], v[2]) || 1; return [v[0] / l, v[1] / l, v[2] / l]; };
  const cross = (a, b) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
  const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  const z = norm(sub(eye, target)), x = norm(cross(up, z)), y = cross(z, x);
  return new Float32Array([x[0], y[0], z[0], 0, x[1], y[1], z[1], 0, x[2], y[2], z[2], 0, -dot(x, eye), -dot(y, eye), -dot(z, eye), 1]);
}
function shader(type, source) {
  const s = gl.createShader(type); gl.shaderSource(s, source); gl.compileShader(s);
  if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s));
  return s;
}

async function start() {
  if (!gl) { fail('This browser gives no WebGL; the viewer needs it.'); return; }
  const scene = await (await fetch('scene.json')).json();
  const buffer = await (await fetch('points.bin')).arrayBuffer();
  const count = scene.frames.reduce((a, b) => a + b, 0);
  const xyz = new Float32Array(buffer, 0, 3 * count), rgb = new Uint8Array(buffer, 12 * count, 3 * count);
  // The view turns around the points' centre; its distance covers most of them.
  const centre = [0, 0, 0];
  for (let i = 0; i < count; i++) for (let a = 0; a < 3; a++) centre[a] += xyz[3 * i + a] / count;
  const distances = new Float32Array(count);
  for (let i = 0; i < count; i++) distances[i] = Math.hypot(xyz[3 * i] - centre[0], xyz[3 * i + 1] - centre[1], xyz[3 * i + 2] - centre[2]);
  const sorted = Array.from(distances).sort((a, b) => a - b);
  const radius = Math.max(sorted[Math.floor(0.9 * (count - 1))], 1e-6);

  const program = gl.createProgram();
  gl.attachShader(program, shader(gl.VERTEX_SHADER,
    'attribute vec3 p; attribute vec3 c; uniform mat4 m; uniform float s; varying vec3 v;' +
    'void main() { gl_Position = m * vec4(p, 1.0); gl_PointSize = s; v = c; }'));
  gl.attachShader(program, shader(gl.FRAGMENT_SHADER,
    'precision mediump float; varying vec3 v; void main() { gl_FragColor = vec4(v, 1.0); }'));
  gl.linkProgram(program);
  gl.useProgram(program);
  const at = { p: gl.getAttribLocation(program, 'p'), c: gl.getAttribLocation(program, 'c'),
               m: gl.getUniformLocation(program, 'm'), s: gl.getUniformLocation(program, 's') };
  const positions = gl.createBuffer(); gl.bindBuffer(gl.ARRAY_BUFFER, positions); gl.bufferData(gl.ARRAY_BUFFER, xyz, gl.STATIC_DRAW);
  const colours = gl.createBuffer(); gl.bindBuffer(gl.ARRAY_BUFFER, colours); gl.bufferData(gl.ARRAY_BUFFER, rgb, gl.STATIC_DRAW);

  // Each camera's frustum: its centre to the image's corners at a tenth of the scene's size.
  const lines = [], lineColours = [];
  scene.cameras.forEach((cam, index) => {
    const m = cam.cameraToWorld, depth = radius * 0.15;
    const world = (x, y, z) => [0, 1, 2].map(r => m[4 * r] * x + m[4 * r + 1] * y + m[4 * r + 2] * z + m[4 * r + 3]);
    const apex = world(0, 0, 0);
    const corners = [[0, 0], [cam.width, 0], [cam.width, cam.height], [0, cam.height]]
      .map(([u, v]) => world((u - cam.cx) / cam.fx * depth, (v - cam.cy) / cam.fy * depth, depth));
    for (let k = 0; k < 4; k++) lines.push(apex, corners[k], corners[k], corners[(k + 1) % 4]);
    for (let k = 0; k < 16; k++) lineColours.push(index);
  });
  const frustumBuffer = gl.createBuffer(); gl.bindBuffer(gl.ARRAY_BUFFER, frustumBuffer);
  gl.bufferData(gl.ARRAY_BUFFER, new Float32Array(lines.flat()), gl.STATIC_DRAW);

  const offsets = [0]; scene.frames.forEach(n => offsets.push(offsets[offsets.length - 1] + n));
  const frame = document.getElementById('frame'), size = document.getElementById('size'), frusta = document.getElementById('frusta');
  frame.max = scene.frames.length > 1 ? scene.frames.length : 0;
  frame.value = frame.max;  // the last position shows every frame
  let yaw = 0, pitch = 0.35, distance = radius * 2.5;

  function draw() {
    const width = canvas.clientWidth, height = canvas.clientHeight;
    if (canvas.width !== width || canvas.height !== height) { canvas.width = width; canvas.height = height; }
    gl.viewport(0, 0, width, height);
    gl.clearColor(0.063, 0.071, 0.086, 1); gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT); gl.enable(gl.DEPTH_TEST);
    // OpenCV cameras look along +z with y down: the view's up is -y.
    const eye = [centre[0] + distance * Math.sin(yaw) * Math.cos(pitch), centre[1] - distance * Math.sin(pitch),
                 centre[2] - distance * Math.cos(yaw) * Math.cos(pitch)];
    const matrix = mul(perspective(0.9, width / Math.max(height, 1), radius * 0.01, radius * 100), lookAt(eye, centre, [0, -1, 0]));
    gl.uniformMatrix4fv(at.m, false, matrix);
    gl.uniform1f(at.s, Number(size.value) * (window.devicePixelRatio || 1));
    const shown = Number(frame.value), all = shown >= scene.frames.length || scene.frames.length === 1;
    const first = all ? 0 : offsets[shown], n = all ? count : scene.frames[shown];
    gl.bindBuffer(gl.ARRAY_BUFFER, positions); gl.enableVertexAttribArray(at.p); gl.vertexAttribPointer(at.p, 3, gl.FLOAT, false, 0, 0);
    gl.bindBuffer(gl.ARRAY_BUFFER, colours); gl.enableVertexAttribArray(at.c); gl.vertexAttribPointer(at.c, 3, gl.UNSIGNED_BYTE, true, 0, 0);
    gl.drawArrays(gl.POINTS, first, n);
    if (frusta.checked && scene.cameras.length) {
      gl.disableVertexAttribArray(at.c);
      gl.bindBuffer(gl.ARRAY_BUFFER, frustumBuffer); gl.vertexAttribPointer(at.p, 3, gl.FLOAT, false, 0, 0);
      scene.cameras.forEach((_, index) => {
        const current = !all && index === shown;
        gl.vertexAttrib3f(at.c, current ? 1 : 0.95, current ? 1 : 0.6, current ? 1 : 0.2);
        gl.drawArrays(gl.LINES, 16 * index, 16);
      });
    }
    document.getElementById('frameText').textContent = all ? 'all' : String(shown);
    document.getElementById('sizeText').textContent = size.value;
    Object.assign(window.nanowm, { ready: true, drawn: n, count: count, frames: scene.frames.length });
  }
  [frame, size, frusta].forEach(e => e.addEventListener('input', draw));
  window.addEventListener('resize', draw);
  let dragging = null;
  canvas.addEventListener('pointerdown', e => { dragging = [e.clientX, e.clientY]; canvas.style.cursor = 'grabbing'; });
  window.addEventListener('pointerup', () => { dragging = null; canvas.style.cursor = 'grab'; });
  window.addEventListener('pointermove', e => {
    if (!dragging) return;
    yaw += (e.clientX - dragging[0]) * 0.005;
    pitch = Math.max(-1.5, Math.min(1.5, pitch + (e.clientY - dragging[1]) * 0.005));
    dragging = [e.clientX, e.clientY];
    draw();
  });
  canvas.addEventListener('wheel', e => { e.preventDefault(); distance *= Math.exp(e.deltaY * 0.001); draw(); }, { passive: false });
  window.nanowm.setFrame = (i) => { frame.value = i; draw(); return window.nanowm.drawn; };
  document.getElementById('info').textContent =
    `${scene.source}: ${count.toLocaleString()} points` + (scene.frames.length > 1 ? `, ${scene.frames.length} frames` : '');
  draw();
}
start().catch(e => fail(String(e)));
</script>
</body>
</html>
"""#
}
