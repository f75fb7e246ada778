// voxclone toolbox: Real-Time-Voice-Cloning's toolbox workflow in the browser.
// Talks only to the same-origin voxclone server (`voxclone serve`); no dependencies, no build step.
'use strict';

const $ = (id) => document.getElementById(id);

const state = {
  samples: [],
  voices: [],
  utterances: [],      // {id, label, filename, blob, url, embed, checked}
  synths: [],          // synthesized results in the projection: {label, voice, dvec}
  current: null,       // the utterance shown in the embedding column
  nextId: 1,
  recordings: 0,       // counter for microphone recording file names
  recorder: null,      // the running MediaRecorder, if any
  recordTimer: 0,
  audioCtx: null,
  resultUrl: null,
  projectionSeq: 0,    // newest projection request; older answers are dropped
  labelColors: new Map(),
  redraw: new Map(),   // canvas id -> function redrawing it at its current size
};
const busy = new Set(); // keys of requests in flight (their buttons are disabled)

// ---------------------------------------------------------------- API

class ApiError extends Error {
  constructor(message, status = 0) {
    super(message);
    this.status = status;
  }
}

// Relative paths so the toolbox also works behind a reverse proxy under a prefix.
async function api(path, init = {}) {
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(`cannot reach the voxclone server (${e.message})`);
  }
  if (res.ok) return res;
  throw new ApiError(await errorMessage(res), res.status);
}

// The server's errors are {"error":{"message":...}}; anything else falls back to the status line.
async function errorMessage(res) {
  let message = `HTTP ${res.status} ${res.statusText}`.trim();
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text);
    if (body?.error?.message) message = body.error.message;
  } catch {
    if (text && text.length < 300) message = text.trim();
  }
  const retry = res.headers.get('Retry-After');
  if (res.status === 429 && retry) message += ` (retry in ${retry} s)`;
  return message;
}

const getJson = async (path) => (await api(path)).json();
const postJson = async (path, body) => (await api(path, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
})).json();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- errors and busy state

function showError(err) {
  const message = typeof err === 'string' ? err : (err?.message || String(err));
  $('error-message').textContent = message;
  $('error').hidden = false;
}

function hideError() {
  $('error').hidden = true;
  $('error-message').textContent = '';
}

// Runs one user action: its buttons stay disabled until it settles, failures go to #error.
async function runBusy(key, action) {
  busy.add(key);
  updateControls();
  try {
    return await action();
  } catch (e) {
    showError(e);
    return undefined;
  } finally {
    busy.delete(key);
    updateControls();
  }
}

// Every button's enabled state derives from what is in flight plus its own precondition.
function updateControls() {
  const embedding = busy.has('embed');
  $('sample-load').disabled = embedding || !$('sample-select').value;
  $('file-input').disabled = embedding;
  $('record').disabled = embedding && !state.recorder;
  const noRefs = !state.utterances.some((u) => u.checked);
  $('clone-zero-shot').disabled = busy.has('clone') || noRefs;
  $('clone-adapt').disabled = busy.has('clone') || noRefs;
  $('synthesize').disabled = busy.has('synth') || !selectedVoice();
  const voice = selectedVoice();
  $('delete-voice').disabled = busy.has('delete') || !voice || voice.kind !== 'profile';
}

// ---------------------------------------------------------------- samples and voices

async function loadSamples() {
  const { samples } = await getJson('v1/samples');
  state.samples = samples || [];
  const select = $('sample-select');
  select.replaceChildren();
  if (!state.samples.length) select.append(new Option('(no bundled samples)', ''));
  for (const s of state.samples) {
    select.append(new Option(`${s.id} — ${s.description || `speaker ${s.speaker}`}`, s.id));
  }
  updateLabelPlaceholder();
  // The Load button depends on the list: whichever of samples and voices answers first.
  updateControls();
}

// How a profile was made, and the entries a prediction came from, in a user's words
// (the API keeps the terse forms, e.g. "speaker-encoding:284", "adapted:1841").
function methodLabel(method) {
  if (!method) return '';
  // "adapted:<how it started>:<n>-steps"
  const adapted = method.match(/^adapted:(.*):(\d+)-steps$/);
  if (adapted) {
    const steps = adapted[2] === '1' ? '1 step' : `${adapted[2]} steps`;
    return `fitted to the recordings in ${steps}, from ${methodLabel(adapted[1])}`;
  }
  const [kind, detail] = method.split(':');
  if (kind === 'speaker-encoding') return `zero-shot, predicted from ${detail} learned voices`;
  if (kind === 'nearest-stock') return `zero-shot, closest stock voice ${detail}`;
  return method;
}

function neighbourLabel(name) {
  const [kind, detail] = name.split(':');
  if (kind === 'adapted') return `LibriSpeech speaker ${detail} (fitted)`;
  if (kind === 'sampled') return `sampled voice ${detail}`;
  return name;
}

async function loadVoices() {
  const { voices } = await getJson('v1/voices');
  state.voices = voices || [];
  renderVoices();
}

const selectedVoice = () => state.voices.find((v) => v.id === $('voice-select').value) || null;

function upsertVoice(voice) {
  const i = state.voices.findIndex((v) => v.id === voice.id);
  if (i >= 0) state.voices[i] = voice; else state.voices.push(voice);
}

// Cloned profiles first (they are what the toolbox is for), then Kokoro's stock voices grouped
// by language, in the server's order (English first, best grade first).
function renderVoices(selectId) {
  const select = $('voice-select');
  const keep = selectId ?? select.value;
  select.replaceChildren();
  const languageOf = (v) => v.language || 'other';
  const languages = [...new Set(state.voices.filter((v) => v.kind === 'stock').map(languageOf))];
  const groups = [['Cloned voices', (v) => v.kind === 'profile']].concat(
    languages.map((l) => [`Stock voices: ${l}`, (v) => v.kind === 'stock' && languageOf(v) === l]));
  for (const [title, inGroup] of groups) {
    const voices = state.voices.filter(inGroup);
    if (!voices.length) continue;
    const group = document.createElement('optgroup');
    group.label = title;
    for (const v of voices) group.append(new Option(voiceTitle(v), v.id));
    select.append(group);
  }
  if (!state.voices.length) select.append(new Option('(no voices)', ''));
  if (state.voices.some((v) => v.id === keep)) select.value = keep;
  else select.selectedIndex = 0;
  onVoiceChange();
}

function voiceTitle(v) {
  if (v.kind === 'stock') return v.description ? `${v.name} — ${v.description}` : v.name;
  return v.method ? `${v.name} (${methodLabel(v.method)})` : v.name;
}

function onVoiceChange() {
  const v = selectedVoice();
  $('voice-info').textContent = v ? describeVoice(v) : '';
  // The profile link follows the selected voice, so a fresh clone can be saved right away.
  const save = $('save-profile');
  if (v && v.kind === 'profile') {
    save.href = `v1/voices/${encodeURIComponent(v.id)}/profile`;
    save.download = `${v.id}.voice`;
    save.hidden = false;
  } else {
    save.removeAttribute('href');
    save.hidden = true;
  }
  updateControls();
}

function describeVoice(v) {
  if (v.kind === 'stock') return v.description || 'stock voice';
  const parts = [v.method ? `${methodLabel(v.method)} profile` : 'cloned profile'];
  if (v.pitch_hz) parts.push(`pitch ${Math.round(v.pitch_hz)} Hz`);
  if (v.reference_pitch_hz) parts.push(`reference ${Math.round(v.reference_pitch_hz)} Hz`);
  if (!v.has_reference) parts.push('no reference recording');
  return parts.join(' · ');
}

async function deleteVoice() {
  const v = selectedVoice();
  if (!v || v.kind !== 'profile') return;
  await api(`v1/voices/${encodeURIComponent(v.id)}`, { method: 'DELETE' });
  state.voices = state.voices.filter((x) => x.id !== v.id);
  renderVoices('');
}

// ---------------------------------------------------------------- loading recordings

function updateLabelPlaceholder() {
  const sample = state.samples.find((s) => s.id === $('sample-select').value);
  $('speaker-label').placeholder = sample
    ? `default: ${sample.speaker} (sample) / file name / me`
    : 'default: file name / me';
}

async function loadSample() {
  const sample = state.samples.find((s) => s.id === $('sample-select').value);
  if (!sample) throw new Error('Pick a sample first.');
  const blob = await (await api(`v1/samples/${encodeURIComponent(sample.id)}`)).blob();
  await addRecording(blob, `${sample.id}.flac`, sample.speaker || sample.id);
}

async function loadFile(file) {
  const stem = file.name.replace(/\.[^.]*$/, '') || 'upload';
  // LibriSpeech-style names (speaker-chapter-utterance) say who is speaking.
  const libri = /^(\d+)-\d+-\d+$/.exec(stem);
  await addRecording(file, file.name, libri ? libri[1] : stem);
}

// The server embeds the raw file; the blob is kept so it can later be a clone reference.
async function addRecording(blob, filename, defaultLabel) {
  const label = $('speaker-label').value.trim() || defaultLabel;
  const res = await api('v1/embed', {
    method: 'POST',
    headers: { 'Content-Type': blob.type || 'application/octet-stream' },
    body: blob,
  });
  const embed = await res.json();
  const utt = {
    id: state.nextId++, label, filename, blob, embed,
    url: URL.createObjectURL(blob),
    checked: true,
  };
  // Only the newest recording is a reference by default; mixing speakers is an explicit choice.
  for (const u of state.utterances) u.checked = false;
  state.utterances.push(utt);
  showUtterance(utt);
  if (!$('clone-name').value.trim()) $('clone-name').placeholder = `default: ${label}`;
  updateProjection();
}

function removeUtterance(utt) {
  state.utterances = state.utterances.filter((u) => u !== utt);
  URL.revokeObjectURL(utt.url);
  if (state.current === utt) showUtterance(state.utterances.at(-1) || null);
  else renderUtterances();
  updateProjection();
}

// ---------------------------------------------------------------- microphone

async function toggleRecord() {
  if (state.recorder) {
    state.recorder.stop();
    return;
  }
  // A second click while the browser asks for the microphone must not open a second stream.
  if (state.micStarting) return;
  if (!navigator.mediaDevices?.getUserMedia || !window.MediaRecorder) {
    throw new Error('Recording needs a browser with MediaRecorder and a secure origin (https or localhost).');
  }
  // Raw audio: echo cancellation and noise suppression colour the voice the encoder hears.
  state.micStarting = true;
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
  } finally {
    state.micStarting = false;
  }
  const recorder = new MediaRecorder(stream);
  const chunks = [];
  recorder.ondataavailable = (e) => { if (e.data.size) chunks.push(e.data); };
  recorder.onstop = () => {
    stream.getTracks().forEach((t) => t.stop());
    setRecording(null);
    const blob = new Blob(chunks, { type: recorder.mimeType || 'audio/webm' });
    runBusy('embed', () => addMicRecording(blob));
  };
  recorder.start();
  setRecording(recorder);
}

function setRecording(recorder) {
  state.recorder = recorder;
  const button = $('record');
  button.dataset.recording = recorder ? '1' : '0';
  button.textContent = recorder ? '■ Stop' : '● Record';
  clearInterval(state.recordTimer);
  $('record-time').textContent = '';
  if (recorder) {
    const start = performance.now();
    state.recordTimer = setInterval(() => {
      $('record-time').textContent = `recording… ${((performance.now() - start) / 1000).toFixed(1)} s`;
    }, 100);
  }
  updateControls();
}

// The server cannot decode webm/opus, so the browser decodes it and we upload a PCM WAV.
async function addMicRecording(blob) {
  state.audioCtx ??= new AudioContext();
  const buffer = await state.audioCtx.decodeAudioData(await blob.arrayBuffer());
  const wav = encodeWav(mixToMono(buffer), buffer.sampleRate);
  state.recordings += 1;
  await addRecording(wav, `me-${state.recordings}.wav`, 'me');
}

function mixToMono(buffer) {
  const out = new Float32Array(buffer.length);
  for (let ch = 0; ch < buffer.numberOfChannels; ch++) {
    const data = buffer.getChannelData(ch);
    for (let i = 0; i < data.length; i++) out[i] += data[i] / buffer.numberOfChannels;
  }
  return out;
}

// 16-bit mono PCM WAV (RIFF header + little-endian samples).
function encodeWav(samples, sampleRate) {
  const view = new DataView(new ArrayBuffer(44 + samples.length * 2));
  const ascii = (offset, s) => { for (let i = 0; i < s.length; i++) view.setUint8(offset + i, s.charCodeAt(i)); };
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + samples.length * 2, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);          // fmt chunk size
  view.setUint16(20, 1, true);           // PCM
  view.setUint16(22, 1, true);           // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);           // block align
  view.setUint16(34, 16, true);          // bits per sample
  ascii(36, 'data');
  view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(44 + i * 2, s < 0 ? s * 0x8000 : s * 0x7fff, true);
  }
  return new Blob([view.buffer], { type: 'audio/wav' });
}

// ---------------------------------------------------------------- session list and current utterance

function renderUtterances() {
  const list = $('utterances');
  list.replaceChildren();
  $('utterance-count').textContent = state.utterances.length ? `(${state.utterances.length})` : '';
  if (!state.utterances.length) {
    const empty = document.createElement('li');
    empty.className = 'empty';
    empty.textContent = 'No recordings yet: load a sample, upload a file or record one.';
    list.append(empty);
  }
  for (const u of state.utterances) list.append(utteranceRow(u));
  updateControls();
}

function utteranceRow(u) {
  const li = document.createElement('li');
  li.dataset.id = String(u.id);
  li.classList.toggle('current', u === state.current);

  const check = document.createElement('input');
  check.type = 'checkbox';
  check.className = 'ref-check';
  check.checked = u.checked;
  check.title = 'Use as a clone reference';
  check.setAttribute('aria-label', `use ${u.label} (${u.filename}) as a clone reference`);
  check.addEventListener('change', () => { u.checked = check.checked; updateControls(); });

  const swatch = document.createElement('span');
  swatch.className = 'swatch';
  swatch.style.background = labelColor(u.label);

  const name = document.createElement('button');
  name.type = 'button';
  name.className = 'utt-label';
  name.textContent = u.label;
  name.title = `${u.filename}: show this recording`;
  name.addEventListener('click', () => showUtterance(u));

  const secs = document.createElement('span');
  secs.className = 'utt-seconds';
  secs.textContent = `${u.embed.speech_seconds.toFixed(1)} s`;
  secs.title = 'speech seconds (silences trimmed)';

  const remove = document.createElement('button');
  remove.type = 'button';
  remove.className = 'icon utt-remove';
  remove.textContent = '×';
  remove.setAttribute('aria-label', `remove ${u.label} from the session`);
  remove.addEventListener('click', () => removeUtterance(u));

  li.append(check, swatch, name, secs, remove);
  return li;
}

function showUtterance(u) {
  state.current = u;
  const audio = $('recording-audio');
  if (u) {
    $('current-label').textContent = `${u.label} · ${u.filename}`;
    audio.src = u.url;
    $('embed-info').textContent = describeEmbed(u.embed);
    drawOn('waveform', (c) => drawEnvelope(c, u.embed.waveform, '#74c0fc', `${u.embed.duration_seconds.toFixed(2)} s`));
    drawOn('speech', (c) => drawEnvelope(c, u.embed.speech, '#8ce99a', `${u.embed.speech_seconds.toFixed(2)} s speech`));
    drawOn('heatmap', (c) => drawHeatmap(c, u.embed.d_vector));
  } else {
    $('current-label').textContent = 'No recording loaded';
    audio.removeAttribute('src');
    audio.load();
    $('embed-info').textContent = '';
    drawOn('waveform', (c) => drawPlaceholder(c, 'waveform'));
    drawOn('speech', (c) => drawPlaceholder(c, 'trimmed speech'));
    drawOn('heatmap', (c) => drawPlaceholder(c, 'embedding'));
  }
  renderUtterances();
  if (state.projectionEntries) redraw('projection'); // moves the "current" ring
}

function describeEmbed(e) {
  const pitch = e.pitch_hz ? `${Math.round(e.pitch_hz)} Hz` : '—';
  return `${e.duration_seconds.toFixed(2)} s recorded · ${e.speech_seconds.toFixed(2)} s speech · `
    + `${e.partials} partials · pitch ${pitch}`;
}

// ---------------------------------------------------------------- cloning

async function cloneVoice(adapt) {
  const refs = state.utterances.filter((u) => u.checked);
  if (!refs.length) throw new Error('Check at least one recording in the session list to use as the reference.');
  const name = $('clone-name').value.trim() || refs[0].label;
  // The server takes at most 200 steps.
  const steps = clampInt($('adapt-steps').value, 1, 200, 10);
  const form = new FormData();
  for (const u of refs) form.append('file', u.blob, u.filename);
  form.append('name', name);
  form.append('adapt', String(adapt));
  if (adapt) form.append('adapt_steps', String(steps));

  $('clone-report').replaceChildren();
  setCloneStatus('working', `${adapt ? 'Adapting' : 'Cloning'} “${name}” from ${refs.length} recording(s)…`);
  setProgress(0, adapt ? steps : 0);
  try {
    const { job } = await (await api('v1/voices?async=true', { method: 'POST', body: form })).json();
    const voice = await pollJob(job);
    setProgress(1, 1);
    upsertVoice(voice);
    renderVoices(voice.id);
    renderReport(voice);
    setCloneStatus('done', `Voice “${voice.name}” is ready (${methodLabel(voice.method) || (adapt ? 'adapted' : 'zero-shot')}).`);
  } catch (e) {
    setProgress(0, 1);
    setCloneStatus('error', e.message);
    throw e;
  }
}

// Jobs are polled every 500 ms; a busy answer (429) or a dropped poll is retried a few times.
async function pollJob(job) {
  let failures = 0;
  for (;;) {
    await sleep(500);
    let s;
    try {
      s = await getJson(`v1/jobs/${encodeURIComponent(job)}`);
      failures = 0;
    } catch (e) {
      if (++failures > 5 || (e.status && e.status !== 429 && e.status < 500)) throw e;
      continue;
    }
    if (s.state === 'done') return s.voice;
    if (s.state === 'failed') throw new Error(s.error || 'The clone job failed.');
    showJobProgress(s);
  }
}

function showJobProgress(s) {
  setProgress(s.step, s.steps);
  const parts = [];
  if (s.steps) parts.push(`step ${s.step}/${s.steps}`);
  if (s.similarity != null) parts.push(`similarity ${s.similarity.toFixed(3)}`);
  setCloneStatus('working', parts.length ? parts.join(' · ') : 'working…');
}

function setProgress(value, max) {
  const p = $('clone-progress');
  if (max > 0) {
    p.max = max;
    p.value = Math.min(value, max);
  } else {
    p.removeAttribute('value'); // indeterminate while the job has no step count
  }
}

function setCloneStatus(stateName, text) {
  const el = $('clone-status');
  el.dataset.state = stateName;
  el.textContent = text;
}

function renderReport(voice) {
  const r = voice.report || {};
  const dl = document.createElement('dl');
  const add = (term, value) => {
    if (value == null || value === '') return;
    const dt = document.createElement('dt');
    dt.textContent = term;
    const dd = document.createElement('dd');
    if (value instanceof Node) dd.append(value); else dd.textContent = value;
    dl.append(dt, dd);
  };
  add('Method', methodLabel(voice.method) || '—');
  if (r.speech_seconds != null) add('Speech', `${r.speech_seconds.toFixed(1)} s`);
  if (r.reference_pitch_hz) add('Ref. pitch', `${Math.round(r.reference_pitch_hz)} Hz`);
  if (voice.pitch_hz) add('Voice pitch', `${Math.round(voice.pitch_hz)} Hz`);
  if (r.neighbours?.length) {
    add('Closest learned voices', listOf(r.neighbours.map(([n, cos]) => `${neighbourLabel(n)}  ${Number(cos).toFixed(3)}`)));
  }
  const curve = r.adaptation || [];
  if (curve.length) {
    add('Adaptation', `${curve.length} steps, similarity ${curve[0].toFixed(3)} → ${curve.at(-1).toFixed(3)}`);
  }
  if (r.warnings?.length) add('Warnings', listOf(r.warnings, 'warn'));
  $('clone-report').replaceChildren(dl);
}

function listOf(items, className) {
  const ul = document.createElement('ul');
  for (const item of items) {
    const li = document.createElement('li');
    li.textContent = item;
    if (className) li.className = className;
    ul.append(li);
  }
  return ul;
}

const clampInt = (v, lo, hi, fallback) => {
  const n = Math.round(Number(v));
  return Number.isFinite(n) ? Math.min(hi, Math.max(lo, n)) : fallback;
};

// ---------------------------------------------------------------- synthesis

async function synthesize() {
  const voice = selectedVoice();
  const text = $('text').value.trim();
  if (!voice) throw new Error('Pick a voice first.');
  if (!text) throw new Error('Type some text to synthesize.');
  if (text.length > 4096) throw new Error('The text is limited to 4096 characters.');
  let speed = Number($('speed').value);
  if (!Number.isFinite(speed) || speed <= 0) speed = 1;
  speed = Math.min(4, Math.max(0.25, speed));
  // Show the speed that is used, not the one typed (10 becomes 4).
  $('speed').value = String(speed);

  setResultState('working', `Synthesizing with ${voice.name}…`);
  try {
    const r = await postJson('v1/synthesize', { text, voice: voice.id, speed });
    showResult(r, voice);
  } catch (e) {
    setResultState('error', e.message);
    throw e;
  }
}

function setResultState(stateName, info) {
  $('result').dataset.state = stateName;
  $('result-info').textContent = info;
}

function showResult(r, voice) {
  const wav = new Blob([base64ToBytes(r.audio)], { type: 'audio/wav' });
  if (state.resultUrl) URL.revokeObjectURL(state.resultUrl);
  state.resultUrl = URL.createObjectURL(wav);
  const audio = $('result-audio');
  audio.src = state.resultUrl;
  audio.dataset.seconds = String(r.seconds);
  const download = $('download');
  download.href = state.resultUrl;
  download.download = 'voxclone.wav';
  $('similarity').textContent = r.similarity == null ? '—' : r.similarity.toFixed(3);

  const mel = r.mel;
  const melBytes = base64ToBytes(mel.data);
  drawOn('mel', (c) => drawMel(c, melBytes, mel.frames, mel.bins, r.seconds));
  setResultState('done', `${voice.name} · ${r.seconds.toFixed(2)} s`);

  if (Array.isArray(r.d_vector) && r.d_vector.length) {
    state.synths.push({ label: `synth: ${voice.name}`, voice: voice.name, dvec: r.d_vector });
    updateProjection();
  }
}

function base64ToBytes(b64) {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

// ---------------------------------------------------------------- projection

// Every d-vector of the session: recordings, then synthesized results.
function projectionEntries() {
  return [
    ...state.utterances.map((u) => ({ label: u.label, dvec: u.embed.d_vector, synth: false, utt: u })),
    ...state.synths.map((s) => ({ label: s.label, dvec: s.dvec, synth: true, voice: s.voice })),
  ];
}

async function updateProjection() {
  const entries = projectionEntries();
  const seq = ++state.projectionSeq;
  try {
    let points = [];
    let method = '';
    if (entries.length === 1) {
      points = [[0, 0]]; // nothing to project: a single point is drawn in the middle
    } else if (entries.length > 1) {
      const r = await postJson('v1/projection', { embeddings: entries.slice(-1000).map((e) => e.dvec) });
      points = r.points;
      method = r.method;
    }
    if (seq !== state.projectionSeq) return; // a newer request superseded this one
    const shown = entries.slice(-points.length || entries.length);
    state.projectionEntries = shown;
    $('projection-method').textContent = method ? `(${method})` : '';
    drawOn('projection', (c) => drawProjection(c, state.projectionEntries, points, method));
    renderLegend(shown);
  } catch (e) {
    if (seq === state.projectionSeq) showError(e);
  }
}

function renderLegend(entries) {
  const legend = $('projection-legend');
  legend.replaceChildren();
  const seen = new Set();
  for (const e of entries) {
    const key = `${e.synth ? 's' : 'r'}:${e.label}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const li = document.createElement('li');
    const marker = document.createElement('span');
    marker.className = 'marker';
    marker.style.color = labelColor(e.label);
    marker.textContent = e.synth ? '✕' : '●';
    li.append(marker, document.createTextNode(e.label));
    legend.append(li);
  }
}

// A stable colour per speaker label (tab10, then golden-angle hues).
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd',
  '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
function labelColor(label) {
  if (!state.labelColors.has(label)) {
    const i = state.labelColors.size;
    state.labelColors.set(label, i < PALETTE.length ? PALETTE[i] : `hsl(${(i * 137.5) % 360} 65% 60%)`);
  }
  return state.labelColors.get(label);
}

// ---------------------------------------------------------------- drawing

const VIRIDIS = makeLut(['#440154', '#482475', '#414487', '#355f8d', '#2a788e', '#21918c',
  '#22a884', '#44bf70', '#7ad151', '#bddf26', '#fde725']);
const MAGMA = makeLut(['#000004', '#140e36', '#3b0f70', '#641a80', '#8c2981', '#b73779',
  '#de4968', '#f7705c', '#fe9f6d', '#fecf92', '#fcfdbf']);

// 256-entry RGB lookup table interpolated between evenly spaced colour stops.
function makeLut(stops) {
  const rgb = stops.map((h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)));
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (rgb.length - 1);
    const k = Math.min(Math.floor(t), rgb.length - 2);
    const f = t - k;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = rgb[k][c] + (rgb[k + 1][c] - rgb[k][c]) * f;
  }
  return lut;
}

function lutColor(lut, t) {
  const i = Math.round(Math.min(1, Math.max(0, t)) * 255) * 3;
  return `rgb(${lut[i]},${lut[i + 1]},${lut[i + 2]})`;
}

// Sizes the backing store for devicePixelRatio; drawing then happens in CSS pixels.
function setupCanvas(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const rect = canvas.getBoundingClientRect();
  const w = Math.max(1, Math.round(rect.width || canvas.width));
  const h = Math.max(1, Math.round(rect.height || canvas.height));
  if (canvas.width !== Math.round(w * dpr)) canvas.width = Math.round(w * dpr);
  if (canvas.height !== Math.round(h * dpr)) canvas.height = Math.round(h * dpr);
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = '#11151c';
  ctx.fillRect(0, 0, w, h);
  ctx.font = '11px system-ui, sans-serif';
  return { ctx, w, h };
}

// Remembers how to draw a canvas so it can be redrawn sharply after a resize.
function drawOn(id, draw) {
  state.redraw.set(id, draw);
  draw($(id));
}

function redraw(id) {
  const draw = state.redraw.get(id);
  if (draw) draw($(id));
}

function caption(ctx, text, x, y, align = 'left') {
  ctx.fillStyle = 'rgba(230,233,240,0.75)';
  ctx.textAlign = align;
  ctx.textBaseline = 'top';
  ctx.fillText(text, x, y);
}

function drawPlaceholder(canvas, what) {
  const { ctx, w, h } = setupCanvas(canvas);
  ctx.fillStyle = 'rgba(230,233,240,0.35)';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillText(`no ${what} yet`, w / 2, h / 2);
  delete canvas.dataset.drawn;
}

// (min, max) columns as vertical bars, like RTVC's waveform plots.
function drawEnvelope(canvas, columns, color, label) {
  const { ctx, w, h } = setupCanvas(canvas);
  const mid = h / 2;
  const amp = h / 2 - 3;
  ctx.strokeStyle = 'rgba(255,255,255,0.12)';
  ctx.beginPath();
  ctx.moveTo(0, mid);
  ctx.lineTo(w, mid);
  ctx.stroke();
  ctx.fillStyle = color;
  const n = columns.length;
  const colW = w / Math.max(1, n);
  for (let i = 0; i < n; i++) {
    const [lo, hi] = columns[i];
    const top = mid - Math.max(-1, Math.min(1, hi)) * amp;
    const bottom = mid - Math.max(-1, Math.min(1, lo)) * amp;
    ctx.fillRect(i * colW, top, Math.max(1, colW - 0.2), Math.max(1, bottom - top));
  }
  caption(ctx, label, w - 6, 4, 'right');
  canvas.dataset.drawn = '1';
}

// RTVC's embedding heat map: 256 values as 16×16, colour scaled 0..max, with a colour bar.
function drawHeatmap(canvas, dvec) {
  const { ctx, w, h } = setupCanvas(canvas);
  const side = Math.round(Math.sqrt(dvec.length));
  const vmax = Math.max(1e-6, ...dvec);
  const barW = 10;
  const gap = 8;
  const labelW = 36;
  const size = Math.max(16, Math.min(h - 12, w - barW - gap - labelW - 12));
  const x0 = (w - (size + gap + barW + labelW)) / 2;
  const y0 = (h - size) / 2;
  const cell = size / side;
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      ctx.fillStyle = lutColor(VIRIDIS, (dvec[r * side + c] || 0) / vmax);
      ctx.fillRect(x0 + c * cell, y0 + r * cell, Math.ceil(cell), Math.ceil(cell));
    }
  }
  const bx = x0 + size + gap;
  for (let i = 0; i < size; i++) {
    ctx.fillStyle = lutColor(VIRIDIS, 1 - i / size);
    ctx.fillRect(bx, y0 + i, barW, 1.5);
  }
  caption(ctx, vmax.toFixed(2), bx + barW + 4, y0 - 2);
  ctx.textBaseline = 'bottom';
  ctx.fillText('0', bx + barW + 4, y0 + size + 2);
  canvas.dataset.drawn = '1';
}

// Mel spectrogram: bytes are frame-major, bin 0 lowest, so bin b goes to row (bins-1-b).
function drawMel(canvas, bytes, frames, bins, seconds) {
  const { ctx, w, h } = setupCanvas(canvas);
  if (!frames || !bins) {
    drawPlaceholder(canvas, 'spectrogram');
    return;
  }
  const image = new ImageData(frames, bins);
  for (let f = 0; f < frames; f++) {
    for (let b = 0; b < bins; b++) {
      const v = bytes[f * bins + b] ?? 0;
      const o = ((bins - 1 - b) * frames + f) * 4;
      image.data[o] = MAGMA[v * 3];
      image.data[o + 1] = MAGMA[v * 3 + 1];
      image.data[o + 2] = MAGMA[v * 3 + 2];
      image.data[o + 3] = 255;
    }
  }
  const off = document.createElement('canvas');
  off.width = frames;
  off.height = bins;
  off.getContext('2d').putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(off, 0, 0, w, h);
  caption(ctx, `${frames} frames × ${bins} mel bins · ${seconds.toFixed(2)} s`, 6, 4);
  canvas.dataset.drawn = '1';
}

// Recordings are dots, synthesized results crosses labelled with their voice; colour = speaker label.
function drawProjection(canvas, entries, points, method) {
  if (!points.length) {
    drawPlaceholder(canvas, 'embeddings');
    canvas.dataset.points = '0';
    return;
  }
  const { ctx, w, h } = setupCanvas(canvas);
  const pad = 24;
  const [x0, x1] = extent(points.map((p) => p[0]));
  const [y0, y1] = extent(points.map((p) => p[1]));
  const sx = (x) => pad + ((x - x0) / (x1 - x0)) * (w - 2 * pad);
  const sy = (y) => h - pad - ((y - y0) / (y1 - y0)) * (h - 2 * pad);
  ctx.strokeStyle = 'rgba(255,255,255,0.08)';
  ctx.strokeRect(pad / 2, pad / 2, w - pad, h - pad);

  // Recordings first so the crosses of the results stay visible on top.
  const order = entries.map((e, i) => i).sort((a, b) => Number(entries[a].synth) - Number(entries[b].synth));
  for (const i of order) {
    const e = entries[i];
    const x = sx(points[i][0]);
    const y = sy(points[i][1]);
    ctx.fillStyle = ctx.strokeStyle = labelColor(e.label);
    if (e.synth) drawCross(ctx, x, y, e.voice);
    else drawDot(ctx, x, y, e.utt === state.current);
  }
  caption(ctx, `${method || 'single point'} · ${points.length} point${points.length === 1 ? '' : 's'}`, 6, 4);
  canvas.dataset.points = String(points.length);
  canvas.dataset.drawn = '1';
}

function drawDot(ctx, x, y, current) {
  ctx.beginPath();
  ctx.arc(x, y, 5, 0, Math.PI * 2);
  ctx.fill();
  ctx.lineWidth = current ? 2 : 1;
  ctx.strokeStyle = current ? '#ffffff' : 'rgba(0,0,0,0.6)';
  ctx.stroke();
}

function drawCross(ctx, x, y, voice) {
  ctx.lineWidth = 2.5;
  ctx.beginPath();
  ctx.moveTo(x - 5, y - 5);
  ctx.lineTo(x + 5, y + 5);
  ctx.moveTo(x + 5, y - 5);
  ctx.lineTo(x - 5, y + 5);
  ctx.stroke();
  // Labels flip to the left of the cross near the right edge so they stay inside the plot.
  const right = x + 7 + ctx.measureText(voice).width < ctx.canvas.clientWidth;
  ctx.textAlign = right ? 'left' : 'right';
  ctx.textBaseline = 'bottom';
  ctx.fillText(voice, right ? x + 7 : x - 7, y - 4);
}

function extent(values) {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (!(hi - lo > 1e-9)) { lo -= 1; hi += 1; } // a single point (or all equal) sits in the middle
  return [lo, hi];
}

// ---------------------------------------------------------------- wiring

function wire() {
  $('error-close').addEventListener('click', hideError);
  $('sample-select').addEventListener('change', () => { updateLabelPlaceholder(); updateControls(); });
  $('sample-load').addEventListener('click', () => runBusy('embed', loadSample));
  $('file-input').addEventListener('change', (e) => {
    const file = e.target.files?.[0];
    e.target.value = ''; // lets the same file be loaded again
    if (file) runBusy('embed', () => loadFile(file));
  });
  $('record').addEventListener('click', () => toggleRecord().catch((e) => { setRecording(null); showError(e); }));
  $('clone-zero-shot').addEventListener('click', () => runBusy('clone', () => cloneVoice(false)));
  $('clone-adapt').addEventListener('click', () => runBusy('clone', () => cloneVoice(true)));
  $('voice-select').addEventListener('change', onVoiceChange);
  $('delete-voice').addEventListener('click', () => runBusy('delete', deleteVoice));
  $('synthesize').addEventListener('click', () => runBusy('synth', synthesize));
  $('text').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) $('synthesize').click();
  });

  // Redraw every canvas at its new size (and sharpness) once resizing settles.
  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { for (const id of state.redraw.keys()) redraw(id); }, 120);
  });
}

async function init() {
  wire();
  showUtterance(null);
  drawOn('mel', (c) => drawPlaceholder(c, 'spectrogram'));
  drawOn('projection', (c) => drawProjection(c, [], [], ''));
  updateControls();
  const results = await Promise.allSettled([loadSamples(), loadVoices()]);
  const failed = results.filter((r) => r.status === 'rejected').map((r) => r.reason?.message || String(r.reason));
  if (failed.length) showError([...new Set(failed)].join('\n'));
  for (const id of ['sample-select', 'voice-select']) {
    const first = $(id).options[0];
    if (first && !first.value && first.text === 'loading…') first.text = '(unavailable)';
  }
  document.body.dataset.ready = '1';
}

init();
