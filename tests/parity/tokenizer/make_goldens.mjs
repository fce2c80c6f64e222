// Regenerates goldens.json: token ids from transformers.js (@lenml/tokenizers), the oracle
// our C++ tokenizer must match exactly. Run from the repository root after scripts/setup.sh:
//   node tests/parity/tokenizer/make_goldens.mjs
// The corpus is written out in full in the golden file, so the C++ test needs no node.
import fs from "fs";
import path from "path";
import { fileURLToPath } from "url";
import { mulberry32 } from "./mulberry32.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../../..");
const npm = path.join(root, "third_party/npm/node_modules/@lenml");
const { TokenizerLoader } = await import(path.join(npm, "tokenizers/dist/main.mjs"));
const readJson = (p) => JSON.parse(fs.readFileSync(p, "utf8"));
const version = (pkg) => readJson(path.join(npm, pkg, "package.json")).version;

// --- tokenizers under test --------------------------------------------------------------
// "llama_added" adds LLaVA-1.5's <image>/<pad> (ids 32000/32001 as in llava-hf) and two tokens
// that exercise the lstrip / rstrip / non-special flags; the C++ test applies the same
// `extra_added_tokens` to the LLaMA file.
const extraAdded = [
  { id: 32000, content: "<image>", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
  { id: 32001, content: "<pad>", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
  { id: 32002, content: "<lstrip>", single_word: false, lstrip: true, rstrip: false, normalized: false, special: true },
  { id: 32003, content: "<rstrip>", single_word: false, lstrip: false, rstrip: true, normalized: false, special: false },
];
// Two more variants run other pre-tokenizer paths on the same files: "llama_metaspace" is the
// non-legacy LLaMA layout (no normalizer, Metaspace prepend_scheme "first"), "qwen_gpt2" the
// ByteLevel pre-tokenizer with its own GPT-2 regex and add_prefix_space. The C++ test applies
// the same `overrides` (top-level tokenizer.json keys) and `extra_added_tokens`.
const specs = {
  qwen: { pkg: "tokenizer-qwen3", extra: [], overrides: {} },
  llama: { pkg: "tokenizer-llama2", extra: [], overrides: {} },
  llama_added: { pkg: "tokenizer-llama2", extra: extraAdded, overrides: {} },
  llama_metaspace: {
    pkg: "tokenizer-llama2", extra: [],
    overrides: { normalizer: null, pre_tokenizer: { type: "Metaspace", replacement: "\u2581", add_prefix_space: true, prepend_scheme: "first", split: false } },
  },
  // The organism's file as `kvbench train-organism --seed 1` writes it (committed in
  // tests/parity/tokenizer/organism): bytes, Qwen's added tokens from id 256, Qwen's split, then
  // BPE merges learnt on the needle texts.
  organism: { dir: path.join(here, "organism"), extra: [], overrides: {} },
  qwen_gpt2: {
    pkg: "tokenizer-qwen3", extra: [],
    overrides: { pre_tokenizer: { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true } },
  },
};
const dirOf = (spec) => spec.dir ?? path.join(npm, spec.pkg, "models");
function load(spec) {
  const dir = dirOf(spec);
  const tj = readJson(path.join(dir, "tokenizer.json"));
  tj.added_tokens = [...tj.added_tokens, ...spec.extra];
  Object.assign(tj, spec.overrides);
  return TokenizerLoader.fromPreTrained({ tokenizerJSON: tj, tokenizerConfig: readJson(path.join(dir, "tokenizer_config.json")) });
}

// --- corpus -----------------------------------------------------------------------------
const fixed = [
  "", " ", "  ", "a", "Hello world", "Hello, world!", "hello   world", " leading space", "trailing space ",
  "The quick brown fox jumps over the lazy dog.",
  "It was the best of times, it was the worst of times.",
  "Picture 3: <|vision_start|><|image_pad|><|vision_end|> Silver library castle. The secret code is 48.",
  "Question: What colour is the shape in picture 2? Answer with the colour only.",
  // contractions in every case
  "don't", "DON'T", "Don'T", "I'm", "I'M", "i'M", "you're", "YOU'RE", "You'Re", "we've", "WE'VE", "wE'vE",
  "she'll", "SHE'LL", "She'Ll", "he'd", "HE'D", "it's", "IT'S", "It'S", "'s", "'S", "'t", "'re", "'RE",
  "'ve", "'m", "'ll", "'LL", "'d", "'D", "rock 'n' roll", "'tis", "y'all'd've", "O'Neill's", "can't won't shan't",
  "He said 'hello' and 'GOODBYE'", "’s curly apostrophe", "it''s", "''", "'",
  // scripts and languages
  "你好，世界！今天天气很好。", "机器学习是人工智能的一个分支", "日本語のテキストです。カタカナとひらがな。",
  "東京都渋谷区", "한국어 문장입니다. 안녕하세요!", "Привет, мир! Как дела?", "Съешь же ещё этих мягких французских булок.",
  "Γειά σου Κόσμε", "Ελληνικά: αβγδεζηθ", "مرحبا بالعالم", "اللغة العربية جميلة ١٢٣٤", "שלום עולם", "नमस्ते दुनिया",
  "हिन्दी भाषा में वाक्य", "สวัสดีชาวโลก", "ภาษาไทยไม่มีช่องว่าง", "Xin chào thế giới", "Tiếng Việt có dấu",
  "გამარჯობა", "Բարեւ աշխարհ", "ওহে বিশ্ব", "வணக்கம் உலகம்", "ሰላም ልዑል", "Merhaba dünya, çok güzel",
  "Zażółć gęślą jaźń", "Příliš žluťoučký kůň", "Ærøskøbing på Ærø", "Straße, Maß, Fuß", "ĲSSEL ĳssel",
  "ᚠᛇᚻ᛫ᛒᛦᚦ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙", "𐍈𐌰𐌹𐌽𐍃", "ꦱꦸꦒꦼꦁ", "ཀུན་ཏུ་བཟང་པོ", "ᐊᐃᐅᐊ", "မင်္ဂလာပါ", "សួស្តី",
  "Ελληνικά and English mixed 中文 한국어", "ℌ𝔢𝔩𝔩𝔬", "ｆｕｌｌｗｉｄｔｈ　ｔｅｘｔ", "ﾊﾝｶｸｶﾀｶﾅ",
  // emoji: ZWJ sequences, skin tones, flags, keycaps, variation selectors
  "😀", "👍🏽", "👍🏿👍🏻", "👨‍👩‍👧‍👦", "👩🏽‍💻", "🧑🏿‍🤝‍🧑🏻", "🏳️‍🌈", "🏴‍☠️", "🇯🇵🇺🇸🇩🇪", "1️⃣2️⃣#️⃣",
  "❤️", "❤", "☺️☺", "I ❤️ NY 🗽", "emoji🎉in🎉text", "🙂🙃😉😊😇🥰😍🤩", "👁️‍🗨️", "🫠🫡🫶🏼", "a 😀 b  😀  c",
  // combining marks that need NFC
  "e\u0301", "cafe\u0301", "Cafe\u0301 au lait", "A\u030A", "\u212B", "\u2126", "n\u0303an\u0303o", "o\u0308\u0304",
  "\u1100\u1161\u11A8", "\u1112\u1161\u11AB\u1100\u1173\u11AF", "Vie\u0323\u0302t Nam", "q\u0307\u0323", "\u0041\u0300\u0301",
  "e\u0301\u0301\u0301", "\u0301 leading combining", "x\u0338", "\u00C5ngstr\u00F6m \u212Bngstrom", "ﬁ ligature ﬂ",
  "\u0915\u094D\u0937", "\u0958\u0959", "\u2000\u2001 spaces", "\u1E9B\u0323",
  // code
  "def f(x):\n    return x ** 2\n", "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}",
  "#include <iostream>\nint main() { std::cout << \"hi\\n\"; }", "const x = {a: 1, 'b': [2, 3], \"c\": null};",
  "SELECT * FROM users WHERE id = 42 AND name LIKE '%bob%';", "<div class=\"x\"><p>Hello</p></div>",
  "x = re.compile(r'^\\s*([A-Za-z_]\\w*)\\s*=')", "if __name__ == '__main__':\n    main()", "fn main() -> Result<(), Box<dyn Error>> {}",
  "$ ls -la | grep '\\.cpp$' && echo \"done\" > /dev/null 2>&1", "{\"key\": [1, 2.5, -3e10, true, false, null]}",
  "a+=b-=c*=d/=e%=f", "arr[i][j]->next->val", "x<<=2;y>>=3;z>>>=1", "lambda x: x if x else None",
  "// comment\n/* block */\n#define MAX(a,b) ((a)>(b)?(a):(b))", "    indented four\n        indented eight",
  "\tTab\tseparated\tvalues\n1\t2\t3", "mixed \t \t tabs and spaces", "https://example.com/path?q=1&r=two#frag",
  "user.name+tag@example.co.uk", "C:\\Users\\name\\file.txt", "~/.config/app/settings.json", "@decorator\nclass A(B, metaclass=M): pass",
  "\\documentclass{article}\\begin{equation} E = mc^2 \\end{equation}", "| a | b |\n|---|---|\n| 1 | 2 |", "**bold** _italic_ `code` [link](url)",
  // numbers
  "0", "7", "42", "123", "1234", "12345678901234567890", "3.14159265358979", "-273.15", "1,000,000", "1e-10", "0x1F2E3D",
  "2024-01-15T12:34:56Z", "+1 (555) 123-4567", "v1.2.3-rc.4", "٣٤٥ ۶۷۸", "१२३४", "½ ¼ ¾", "x² + y³", "Ⅻ ⅻ ⅷ", "１２３４５", "①②③",
  "𝟘𝟙𝟚", "pi≈3.14", "100%", "$1,234.56", "€99,99", "¥1000", "1/2/3", "a1b2c3d4", "abc123def456",
  // whitespace runs, line endings
  "a  b", "a   b", "a    b", "a\tb", "a\t\tb", "a \t b", "a\nb", "a\n\nb", "a\n\n\nb", "a\r\nb", "a\r\n\r\nb", "a\rb",
  "line1\r\nline2\r\n", "   ", "    ", "\t", "\t\t\t", "\n", "\n\n", "\r\n", " \n ", "  \n  \n  ", "trailing\n", "\nleading",
  "x \n\n y", "word   \n", "a\u00A0b", "a\u3000b", "a\u2028b", "a\u2029b", "a\u000Bb", "a\u000Cb", "a\u0085b", "a\u200Bb",
  "a\u202Fb", "a\u2009b", "\u00A0\u00A0", "end with spaces   ", "   start with spaces", " . , ; : ! ? ",
  // punctuation and symbols
  "...", "!!!", "???", "?!?!", "---", "___", "***", "(((nested)))", "[]{}()<>", "«quotes» „German“ “English”",
  "—em dash— –en dash–", "…", "•bullet", "§ 12 ¶ 3", "©®™", "±×÷", "→←↑↓⇒", "∀x∈ℝ: x²≥0", "⌘⌥⇧", "♠♣♥♦", "@#$%^&*",
  "a.b.c", "e.g. i.e. etc.", "Mr. Smith vs. Dr. Jones", "U.S.A.", "hello...world", "wait---what",
  // special tokens inside text
  "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n", "<|endoftext|>", "text<|endoftext|>text",
  "<|vision_start|><|image_pad|><|vision_end|>Describe this image.", "<|image_pad|><|image_pad|><|image_pad|>",
  "<|vision_start|><|video_pad|><|vision_end|>", "<think>\nreasoning\n</think>\n\nanswer", "<tool_call>{}</tool_call>",
  "<|im_start|", "|im_end|>", "<|im_end|", "<<|im_end|>>", "< |im_end| >", "<|IM_END|>", " <|im_end|> ", "\n<|im_start|>\n",
  "<s>", "</s>", "<unk>", "<s>Hello</s>", "a<s>b</s>c", " <s> ", "<s><s></s>", "<image>", "USER: <image>\nWhat is this? ASSISTANT:",
  "<image>\n<image>\nCompare.", "x<pad>y", "a <lstrip> b", "a   <lstrip>b", "a\n\n<lstrip>", "a <rstrip>   b", "<rstrip>\n\nx",
  "  <lstrip>  <rstrip>  ", "<lstrip><rstrip>", "<rstrip>", "<lstrip>",
  // byte-fallback triggers (characters outside a 32k vocabulary)
  "𓀀𓀁𓀂", "\u{10FFFD}", "\uE000 private use", "☃ ☄ ★", "⿰⿱", "🀄🃏", "a\u0000b", "\u0007bell", "\u001B[31mred\u001B[0m",
  "\uFEFFbom", "a\uFEFFb", "x  \uFEFF y", "a \u0085 b", "x\u0085\u0085y", " \u0085\n", "a \u180E b", "a \u200B b", "\u00AD soft hyphen", "\u200D", "x\u200Cy", "\uFFFD",
];
// very long words and runs
const longs = [
  "a".repeat(1000), "supercalifragilisticexpialidocious".repeat(40), "ab".repeat(700), "1234567890".repeat(80),
  " ".repeat(500), "\n".repeat(200), "\t".repeat(150), "😀".repeat(300), "中文".repeat(400), "-".repeat(400),
  "Pneumonoultramicroscopicsilicovolcanoconiosis", "Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft",
  "x".repeat(255) + " " + "y".repeat(256) + " " + "z".repeat(257), "Lorem ipsum dolor sit amet, ".repeat(60),
];
// seeded mixtures of fragments from every category
const rand = mulberry32(20240601);
const pieces = fixed.filter((s) => s.length > 0);
const seps = ["", " ", "  ", "\n", "\r\n", "\t", " \n", ". ", ", ", "'s ", "'LL ", "<|im_end|>", "<s>", "<image>", "\u00A0"];
const mixed = [];
for (let i = 0; i < 180; ++i) {
  const n = 2 + Math.floor(rand() * 5);
  let s = "";
  for (let k = 0; k < n; ++k) {
    s += pieces[Math.floor(rand() * pieces.length)];
    if (k + 1 < n) s += seps[Math.floor(rand() * seps.length)];
  }
  mixed.push(s);
}
const corpus = [...fixed, ...longs, ...mixed];

// --- goldens ----------------------------------------------------------------------------
const out = {
  generated_by: "node tests/parity/tokenizer/make_goldens.mjs",
  node: process.version,
  packages: Object.fromEntries(["tokenizers", "tokenizer-qwen3", "tokenizer-llama2"].map((p) => [`@lenml/${p}`, version(p)])),
  corpus,
  nfc: corpus.map((s) => s.normalize("NFC")),
  tokenizers: {},
};
for (const [name, spec] of Object.entries(specs)) {
  const tok = load(spec);
  const ids = corpus.map((s) => tok.encode(s, { add_special_tokens: false }));
  const ids_special = corpus.map((s) => tok.encode(s, { add_special_tokens: true }));
  // decode(ids) with and without skip_special_tokens, on every 3rd string
  const decode = [];
  corpus.forEach((s, i) => {
    if (i % 3 !== 0 || ids_special[i].length === 0) return;
    for (const skip of [false, true]) {
      decode.push({ ids: ids_special[i], skip_special_tokens: skip, text: tok.decode(ids_special[i], { skip_special_tokens: skip }) });
    }
  });
  out.tokenizers[name] = {
    file: path.relative(root, path.join(dirOf(spec), "tokenizer.json")),
    extra_added_tokens: spec.extra,
    overrides: spec.overrides,
    class: tok.constructor.name,
    ids, ids_special, decode,
  };
}
const dest = path.join(here, "goldens.json");
fs.writeFileSync(dest, JSON.stringify(out) + "\n");
console.log(`wrote ${dest}: ${corpus.length} strings`);
