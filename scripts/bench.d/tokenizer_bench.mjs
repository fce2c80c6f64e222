// Driver for scripts/bench.d/tokenizer.sh: generates the corpus (seeded), times transformers.js
// encoding it, runs `kvbench tokenize --stats` on it, compares ids and writes the report.
// Encode time only on both sides: tokenizer loading and JSON line I/O are reported apart.
import { spawnSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import { mulberry32 } from "../../tests/parity/tokenizer/mulberry32.mjs";

const [kvbench, dest] = process.argv.slice(2);
const npm = "third_party/npm/node_modules/@lenml";
const { TokenizerLoader } = await import(path.resolve(npm, "tokenizers/dist/main.mjs"));
const readJson = (p) => JSON.parse(fs.readFileSync(p, "utf8"));
const TARGET_BYTES = 10_000_000;


// Mixed text: the parity corpus' fragments (scripts, emoji, code, numbers, special tokens)
// interleaved with random words in several alphabets, so the word cache does not see only repeats.
function makeCorpus() {
  const rand = mulberry32(7);
  const pick = (a) => a[Math.floor(rand() * a.length)];
  const fragments = readJson("tests/parity/tokenizer/goldens.json").corpus.filter((s) => s.length > 0 && s.length < 300);
  const alphabets = ["abcdefghijklmnopqrstuvwxyz", "абвгдежзийклмнопрстуфхцчшщыэюя", "αβγδεζηθικλμνξοπρστυφχψω",
    "的一是不了人我在有他这为之大来以个中上们", "あいうえおかきくけこさしすせそたちつてと", "0123456789"];
  const word = () => {
    const a = rand() < 0.6 ? alphabets[0] : pick(alphabets);
    let w = "";
    for (let n = 1 + Math.floor(rand() * 9); n > 0; --n) w += a[Math.floor(rand() * a.length)];
    return rand() < 0.15 ? w[0].toUpperCase() + w.slice(1) : w;
  };
  const seps = [" ", " ", " ", " ", ", ", ". ", "\n", "  ", "\t", "'s ", " - ", "\r\n"];
  const lines = [];
  let bytes = 0;
  while (bytes < TARGET_BYTES) {
    let s = "";
    while (s.length < 1500) s += (rand() < 0.3 ? pick(fragments) : word()) + pick(seps);
    lines.push(s);
    bytes += Buffer.byteLength(s);
  }
  return { lines, bytes };
}

function timeJs(dir, lines) {
  const tok = TokenizerLoader.fromPreTrained({
    tokenizerJSON: readJson(path.join(dir, "tokenizer.json")),
    tokenizerConfig: readJson(path.join(dir, "tokenizer_config.json")),
  });
  const ids = new Array(lines.length);
  const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
  for (let i = 0; i < lines.length; ++i) ids[i] = tok.encode(lines[i], { add_special_tokens: false });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return { ids, encode_s: s, encode_cpu_s: (c.user + c.system) / 1e6 };
}

function runOurs(dir, corpusFile) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(kvbench, ["-q", "tokenize", "--tokenizer", dir, "--stats"], {
    input: fs.readFileSync(corpusFile), maxBuffer: 1 << 30, encoding: "utf8" });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`kvbench tokenize failed: ${r.stderr}`);
  const stats = JSON.parse(r.stderr.trim().split("\n").pop());
  return { ids: r.stdout.trim().split("\n").map((l) => JSON.parse(l)), stats, wall_s: wall };
}

const { lines, bytes } = makeCorpus();
const corpusFile = path.join(os.tmpdir(), `kvb_tokenizer_corpus_${process.pid}.jsonl`);
fs.writeFileSync(corpusFile, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
const report = {
  machine: `${os.cpus().length}x ${os.cpus()[0].model}`, node: process.version,
  transformers_js: readJson(path.join(npm, "tokenizers/package.json")).version,
  corpus: { lines: lines.length, bytes, seed: 7 }, tokenizers: {},
};
for (const [name, pkg] of [["qwen", "tokenizer-qwen3"], ["llama", "tokenizer-llama2"]]) {
  const dir = path.join(npm, pkg, "models");
  const js = timeJs(dir, lines);
  const ours = runOurs(dir, corpusFile);
  const tokens = js.ids.reduce((n, v) => n + v.length, 0);
  let differing = 0;
  js.ids.forEach((v, i) => { if (JSON.stringify(v) !== JSON.stringify(ours.ids[i])) ++differing; });
  // Rates from CPU time (robust when other jobs share the cores); wall-clock figures beside them.
  const r = {
    tokens,
    ours_tokens_per_s: Math.round(ours.stats.tokens / ours.stats.encode_cpu_s),
    transformers_js_tokens_per_s: Math.round(tokens / js.encode_cpu_s),
    speedup: +(js.encode_cpu_s / ours.stats.encode_cpu_s).toFixed(2),
    ours_encode_cpu_s: +ours.stats.encode_cpu_s.toFixed(3), transformers_js_encode_cpu_s: +js.encode_cpu_s.toFixed(3),
    ours_encode_wall_s: +ours.stats.encode_s.toFixed(3), transformers_js_encode_wall_s: +js.encode_s.toFixed(3),
    ours_load_s: +ours.stats.load_s.toFixed(3), ours_cli_wall_s: +ours.wall_s.toFixed(3),
    lines_with_different_ids: differing,
  };
  report.tokenizers[name] = r;
  console.log(name, JSON.stringify(r));
}
fs.unlinkSync(corpusFile);
fs.mkdirSync(path.dirname(dest), { recursive: true });
fs.writeFileSync(dest, JSON.stringify(report, null, 2) + "\n");
console.log(`wrote ${dest}`);
