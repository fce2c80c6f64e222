// Token ids from transformers.js (@lenml/tokenizers) for make_goldens.py, which has no HF
// tokenizer that loads here (LlamaTokenizerFast needs the Rust `tokenizers`, the slow
// LlamaTokenizer needs sentencepiece and tokenizer.model). Reads {"dir": checkpoint, "texts": [...]}
// on stdin, writes one id list per text (with the post-processor's <s>) as JSON on stdout.
//
// `legacy` is forced to true: transformers' LlamaTokenizerFast applies tokenizer.json as it is
// (its `legacy` flag only matters when converting from the slow tokenizer), whereas
// transformers.js would swap in a Metaspace pre-tokenizer for legacy: false, which the published
// llava-1.5 tokenizer_config.json sets.
import fs from "fs";
import path from "path";
import { fileURLToPath } from "url";

const here = path.dirname(fileURLToPath(import.meta.url));
const npm = path.resolve(here, "../../../third_party/npm/node_modules/@lenml");
const { TokenizerLoader } = await import(path.join(npm, "tokenizers/dist/main.mjs"));
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const read = (f) => JSON.parse(fs.readFileSync(path.join(input.dir, f), "utf8"));
const tok = TokenizerLoader.fromPreTrained({
  tokenizerJSON: read("tokenizer.json"),
  tokenizerConfig: { ...read("tokenizer_config.json"), legacy: true },
});
const version = JSON.parse(fs.readFileSync(path.join(npm, "tokenizers/package.json"), "utf8")).version;
process.stdout.write(JSON.stringify({
  version,
  ids: input.texts.map((t) => Array.from(tok.encode(t, { add_special_tokens: true }), Number)),
}));
