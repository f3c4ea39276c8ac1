// Compares `estuary tokenize --jsonl` output ({"ids", "decoded"} a line) with Hugging Face's tokenizers.js on the same
// strings and tokenizer folder; prints each difference and exits 1 if there is any. Used by check-real-tokenizers.sh and
// byte-level-tokenizer-fuzz.sh. Arguments: tokenizers.mjs, folder, strings (one JSON string a line), estuary's output, label.
import fs from "fs";
import { fixTokenizersJs } from "./tokenizers-js-fixes.mjs";

const [tokenizersModule, dir, stringsFile, estuaryFile, label = "tokenizer"] = process.argv.slice(2);
const { Tokenizer } = await import(tokenizersModule);
const tokenizer = fixTokenizersJs(new Tokenizer(JSON.parse(fs.readFileSync(`${dir}/tokenizer.json`, "utf8")),
                                                JSON.parse(fs.readFileSync(`${dir}/tokenizer_config.json`, "utf8"))));
const lines = (f) => fs.readFileSync(f, "utf8").split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l));
const strings = lines(stringsFile);
const ours = lines(estuaryFile);
if (ours.length !== strings.length) {
  console.log(`FAIL  estuary gave ${ours.length} results for ${strings.length} strings`);
  process.exit(1);
}
let failures = 0;
strings.forEach((text, i) => {
  const ids = tokenizer.encode(text).ids;
  // No clean-up of spaces before punctuation: vLLM and TGI stream text without it, and so does Estuary.
  const decoded = ids.length ? tokenizer.decode(ids, { clean_up_tokenization_spaces: false }) : "";
  const same = JSON.stringify(ids) === JSON.stringify(ours[i].ids) && decoded === ours[i].decoded;
  if (!same) {
    failures++;
    console.log(`FAIL  ${JSON.stringify(text).slice(0, 80)}\n  tokenizers.js ${JSON.stringify(ids)} ${JSON.stringify(decoded)}\n  estuary       ${JSON.stringify(ours[i].ids)} ${JSON.stringify(ours[i].decoded)}`);
  }
});
console.log(`${label}: ${strings.length - failures} of ${strings.length} strings encode and decode as tokenizers.js does`);
process.exit(failures ? 1 : 0);
